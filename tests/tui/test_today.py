"""Today's numbers come straight from the store's indexes; they must equal what the full read model says."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st
from textual.widgets import Static

from field_agent.domain.enums import RECORDED_GROUPS, SPECIAL_GROUPS
from field_agent.domain.idnumber import make_id_number
from field_agent.store import Store
from field_agent.tui import people
from field_agent.tui.queries.isolation import isolation_rows
from field_agent.tui.queries.rounds import checked_since, round_start
from field_agent.tui.queries.sampling import coverage
from field_agent.tui.queries.today import today_summary
from field_agent.tui.screens.today import TodayScreen
from field_agent.tui.session import Session

from .conftest import NOW, PASSPHRASE, frozen_now, settle

TODAY = NOW.date()


def test_today_numbers_match_the_read_model(store_path: Path) -> None:
    with Store.open(store_path, PASSPHRASE) as store:
        session = Session(store, frozen_now)
        # Make today interesting: one isolated resident checked today with a fever, one task due for the worker.
        isolated = next(
            r for r in session.reader.views(session.reader.live_ids("resident")) if r.get("isolation_status") == "home"
        )
        session.save(
            "followup",
            {
                "resident": isolated["id"],
                "date": TODAY.isoformat(),
                "temperature": 38.1,
                "flagged": True,
                "contact_made": True,
                "by": session.worker,
            },
        )
        session.save(
            "task",
            {
                "title": "巡查",
                "task_kind": "patrol",
                "role": "information",
                "assignee": session.worker,
                "status": "open",
            },
        )
        summary = today_summary(session.reader, TODAY, NOW, session.worker, session.sync_state())
        assert not session.model_ready  # Today needed no read model
        model = session.model
        since = round_start(model, TODAY)
        households = model.of_kind("household")
        cover = coverage(model, TODAY)
        due = [row for row in isolation_rows(model, TODAY, default_days=14) if row.due_today]
        assert summary.households_total == len(households) > 0
        assert summary.checked_round == sum(checked_since(model, hid, since) for hid in households)
        assert (summary.sampling_eligible, summary.sampling_done) == (cover.eligible, cover.done)
        assert 0 < summary.sampling_done < summary.sampling_eligible
        assert summary.isolation_due == len(due) > 0
        assert summary.isolation_checked == sum(row.checked_today for row in due) == 1
        assert summary.flagged_today == 1
        assert [task["title"] for task in summary.my_tasks] == ["巡查"]
        session.close()


def _resident(
    birth: date | None, groups: list[str], isolation: str, residency: str, broken: bool
) -> tuple[dict, dict, dict]:
    """(flat view, envelope registers, envelope sets) of one resident."""
    number = make_id_number("350181", birth, 7, "female") if birth else None
    if number and broken:
        number = number[:17] + ("0" if number[17] != "0" else "1")
    fields = {"name": "测试", "isolation_status": isolation, "residency": residency}
    if number:
        fields["id_number"] = number
    sets = {"special_groups": {g: ["stamp", True] for g in groups}}
    sets["special_groups"]["chronic_removed"] = ["stamp", False]
    return {**fields, "special_groups": groups}, fields, sets


@settings(max_examples=300, deadline=None)
@given(
    age_days=st.one_of(
        st.none(),
        st.integers(0, 110 * 366),
        *(st.integers(years * 365 - 3, years * 365 + 3) for years in (3, 60, 80)),
    ),
    groups=st.lists(st.sampled_from(SPECIAL_GROUPS), unique=True, max_size=3),
    isolation=st.sampled_from(["none", "home", "ended"]),
    residency=st.sampled_from(["resident", "floating", "away"]),
    broken=st.booleans(),
)
def test_fast_eligibility_agrees_with_the_domain_rule(age_days, groups, isolation, residency, broken) -> None:
    birth = TODAY - timedelta(days=age_days) if age_days is not None else None
    flat, fields, sets = _resident(birth, groups, isolation, residency, broken)
    assert people.eligible_from_fields(fields, sets, TODAY) == bool(people.sampling_reasons(flat, TODAY))


def test_removed_groups_do_not_count() -> None:
    flat, fields, sets = _resident(TODAY - timedelta(days=30 * 365), [], "none", "resident", False)
    sets["special_groups"] = {group: ["stamp", False] for group in RECORDED_GROUPS}
    assert not people.eligible_from_fields(fields, sets, TODAY)
    assert people.sampling_reasons(flat, TODAY) == []
    assert people.eligible_from_fields(fields, {"special_groups": {"chronic": ["stamp", True]}}, TODAY)


async def test_today_is_shown_first_and_the_rest_is_built_behind_it(app_factory) -> None:
    messages: list = []
    app = app_factory(lang="en")
    async with app.run_test(size=(160, 48), message_hook=messages.append) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, TodayScreen)
        loaded = [m for m in messages if isinstance(m, TodayScreen.Loaded)]
        assert loaded and loaded[0].summary.households_total == 60
        assert app.session is not None and app.session.model_ready
        text = str(app.screen.query_one("#card-round", Static).content)
        assert "60" in text
