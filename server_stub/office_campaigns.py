"""The office page's campaigns: coverage per campaign and per grid, and one campaign opened with who is left out.

``/office/campaigns/{key}`` (HTML) and ``/v1/office/campaigns``, ``/v1/office/campaigns/{key}`` (JSON) need the
office token like the rest of the office page. The numbers come from ``server_stub.campaigns`` (the domain's
coverage, the same the tablets show); a left-out person is listed by name, address and the open status recorded,
never by ID number.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response

from server_stub.campaigns import campaign_rows
from server_stub.db.base import Database
from server_stub.office import (
    check_office_token,
    china_today,
    login_page,
    page_header,
    presented_token,
    render_page,
    unauthorised_json,
)

router = APIRouter(tags=["office"])


def campaigns_overview(db: Database, *, town: str | None = None, key: str | None = None) -> dict[str, Any]:
    """Every campaign (or one) with its totals and its coverage per grid (with the left-out names for one)."""
    today = china_today()
    return {**page_header(today), "town": town, "campaigns": campaign_rows(db, today, town=town, key=key)}


@router.get("/v1/office/campaigns")
def campaigns_json(request: Request, town: str | None = None) -> Response:
    """Every campaign (home sampling rounds included) with its coverage per grid (office token required)."""
    db = request.app.state.db
    if not check_office_token(db, presented_token(request)):
        return unauthorised_json(db)
    return JSONResponse(campaigns_overview(db, town=town), headers={"Cache-Control": "no-store"})


@router.get("/v1/office/campaigns/{key}")
def campaign_json(request: Request, key: str) -> Response:
    """One campaign: coverage per grid and the names of whoever is left out (office token required)."""
    db = request.app.state.db
    if not check_office_token(db, presented_token(request)):
        return unauthorised_json(db)
    data = campaigns_overview(db, key=key)
    if not data["campaigns"]:
        return JSONResponse(
            {"error": {"code": "not_found", "message": f"没有活动 {key}（no campaign {key}）"}},
            status_code=404,
            headers={"Cache-Control": "no-store"},
        )
    return JSONResponse(data, headers={"Cache-Control": "no-store"})


@router.get("/office/campaigns/{key}", response_class=HTMLResponse, include_in_schema=False)
def campaign_page(request: Request, key: str) -> Response:
    """One campaign opened on the office page: each grid's coverage and who is left out."""
    db = request.app.state.db
    if not check_office_token(db, presented_token(request)):
        return login_page(request)
    data = campaigns_overview(db, key=key)
    campaign = data["campaigns"][0] if data["campaigns"] else None
    return render_page(
        "office_campaign.html", status=200 if campaign else 404, campaign=campaign, **page_header(china_today())
    )
