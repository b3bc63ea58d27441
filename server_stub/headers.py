"""Response headers on every answer: no caching, no framing, no sniffing, and a Content-Security-Policy.

The office pages (``/office``, HTML) run no script at all: their policy allows nothing but the inline ``<style>``
blocks of the server's own templates, each by its SHA-256 (computed from the template files when the server
starts, so a changed stylesheet keeps working). Everything else (JSON, downloads) gets a policy that allows
nothing. Every answer carries personal data or a credential's outcome, so none may be kept by a browser or a proxy.
"""

from __future__ import annotations

import base64
import hashlib
import re
from importlib.resources import files

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

_STYLE = re.compile(r"<style>(.*?)</style>", re.DOTALL)


def template_style_hashes() -> list[str]:
    """``'sha256-…'`` of every ``<style>`` block in the office templates (none may hold template code)."""
    hashes = []
    for template in sorted(files("server_stub").joinpath("templates").iterdir(), key=lambda item: item.name):
        if template.name.endswith(".html"):
            for block in _STYLE.findall(template.read_text(encoding="utf-8")):
                digest = base64.b64encode(hashlib.sha256(block.encode("utf-8")).digest()).decode()
                hashes.append(f"'sha256-{digest}'")
    return hashes


def html_policy(style_hashes: list[str]) -> str:
    styles = " ".join(style_hashes) or "'none'"
    return (
        f"default-src 'none'; style-src {styles}; img-src 'self'; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'"
    )


DATA_POLICY = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'"


class SecurityHeaders:
    """ASGI middleware adding the headers above to every HTTP response (keeping a ``Cache-Control`` a handler set
    only when it already says ``no-store``)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.html_policy = html_policy(template_style_hashes())

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                html = headers.get("content-type", "").startswith("text/html")
                headers["Content-Security-Policy"] = self.html_policy if html else DATA_POLICY
                headers["X-Frame-Options"] = "DENY"
                headers["X-Content-Type-Options"] = "nosniff"
                headers["Referrer-Policy"] = "no-referrer"
                if "no-store" not in headers.get("cache-control", ""):
                    headers["Cache-Control"] = "no-store"
            await send(message)

        await self.app(scope, receive, send_with_headers)
