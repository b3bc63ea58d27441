"""Home isolation: day n of m for each resident, today's check, fever or red flags sent to the grid leader."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.message import Message
from textual.widgets import Button, DataTable, Static

from field_agent.domain.isolation import DEFAULT_ISOLATION_DAYS, followup_reached
from field_agent.tui.i18n import Translator
from field_agent.tui.queries.isolation import IsolationRow, isolation_rows
from field_agent.tui.screens.base import SessionScreen
from field_agent.tui.session import Session
from field_agent.tui.widgets.followup_form import FollowUpForm


class IsolationScreen(SessionScreen):
    """Enter or c records today's check of the selected resident."""

    NAV = "isolation"
    BINDINGS = [Binding("c", "check", "key.check", id="isolation.check")]

    class Loaded(Message):
        def __init__(self, rows: list[IsolationRow]) -> None:
            super().__init__()
            self.rows = rows

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[IsolationRow] = []

    def compose_body(self) -> ComposeResult:
        yield Static("", id="isolation-summary")
        yield DataTable[str](id="isolation-table", cursor_type="row", zebra_stripes=True)
        with Horizontal(classes="actions"):
            yield Button(self.t("key.check"), variant="primary", action="screen.check")

    def on_mount(self) -> None:
        table = self.query_one("#isolation-table", DataTable)
        for key in ("name", "address", "day", "today", "temperature"):
            table.add_column(self.t(f"isolation.col.{key}"), key=key)
        table.focus()
        self.reload()

    def reload(self) -> None:
        self.load(self.session)

    @work(thread=True, exclusive=True, exit_on_error=False, group="load")
    def load(self, session: Session) -> None:
        days = int(session.setting("isolation_days") or DEFAULT_ISOLATION_DAYS)
        with session.reading() as model:
            rows = isolation_rows(model, session.today, days)
        self.post_message(self.Loaded(rows))

    def on_isolation_screen_loaded(self, message: IsolationScreen.Loaded) -> None:
        t = self.t
        self.rows = message.rows
        due = [row for row in self.rows if row.due_today]
        self.query_one("#isolation-summary", Static).update(
            t("isolation.summary", total=len(self.rows), due=len(due), checked=sum(r.checked_today for r in due))
        )
        table = self.query_one("#isolation-table", DataTable)
        cursor = table.cursor_row
        table.clear()
        for row in self.rows:
            if row.flagged_today:
                status = t("isolation.flagged")
            elif row.checked_today:
                status = t("isolation.checked")
            elif row.due_today and row.attempted_today:
                status = t("isolation.not_reached")
            elif row.due_today:
                status = t("isolation.due")
            elif row.upcoming:
                status = t("isolation.upcoming")
            else:
                status = t("isolation.over")
            temperature = f"{row.last_temperature:.1f}℃" if row.last_temperature is not None else "—"
            table.add_row(
                Text(row.resident.get("name") or ""),
                Text(row.address),
                self._day_text(row),
                status,
                temperature,
                key=row.resident["id"],
            )
        if table.row_count:
            table.move_cursor(row=min(max(cursor, 0), table.row_count - 1))

    def _day_text(self, row: IsolationRow) -> str:
        """``第 3 / 7 天`` while it lasts; when it is over or yet to start, the day it ends or starts instead."""
        if row.over and row.end is not None:
            return self.t("isolation.ends_on", end=row.end.strftime("%m-%d"))
        if row.upcoming:
            return self.t("isolation.starts_on", start=str(row.resident.get("isolation_start") or "")[5:10])
        return self.t("isolation.day", day=row.day, days=row.days)

    @on(DataTable.RowSelected, "#isolation-table")
    def action_check(self) -> None:
        table = self.query_one("#isolation-table", DataTable)
        if not table.row_count or table.cursor_row >= len(self.rows):
            return
        row = self.rows[table.cursor_row]
        if not row.due_today:
            # no check is due outside the isolation's days: say what to do instead of opening a day "9 of 7"
            name = row.resident.get("name") or ""
            if row.upcoming:
                self.notify(self.t("isolation.not_started", name=name), severity="warning")
            else:
                end = row.end.isoformat() if row.end else ""
                self.notify(self.t("isolation.is_over", name=name, end=end), severity="warning")
            return
        title = self.t("followup.title", name=row.resident.get("name") or "", day=row.day, days=row.days)
        session, resident, t = self.session, row.resident, self.t
        record = {"resident": resident["id"], "date": session.today.isoformat(), "by": session.worker}

        def save(values: dict[str, Any]) -> dict[str, Any]:
            return save_followup(session, resident, {**record, **values}, t)

        def answered(saved: dict[str, Any] | None) -> None:
            if saved is not None:
                self.followup_saved(saved)

        self.app.push_screen(FollowUpForm(title, record, save), answered)

    def followup_saved(self, followup: dict[str, Any]) -> None:
        if followup.get("flagged"):
            self.notify(self.t("followup.saved_flagged"), severity="warning")
        elif not followup_reached(followup):
            self.notify(self.t("followup.saved_not_reached"), severity="warning")
        else:
            self.notify(self.t("followup.saved"))
        self.reload()


def save_followup(
    session: Session, resident: dict[str, Any], followup: dict[str, Any], t: Translator
) -> dict[str, Any]:
    """Save today's check (blocking); a flagged one sends a task to the grid leader in the same batch."""
    writes: list[tuple[str, Mapping[str, Any], str | None]] = [("followup", followup, None)]
    if followup.get("flagged"):
        writes.append(("task", leader_task(session, resident, followup, t), None))
    return session.save_many(writes)[0]


def leader_task(session: Session, resident: dict[str, Any], values: dict[str, Any], t: Translator) -> dict[str, Any]:
    """A task for the grid leader to act on a fever or red-flag symptom found at today's check."""
    with session.reading() as model:
        grid = model.grid or {}
    leader = grid.get("leader") or session.worker
    member: Mapping[str, Any] = next((m for m in grid.get("members") or () if m.get("name") == leader), {})
    wartime = grid.get("mode") == "wartime"
    roles = session.roles  # the town's in force: a role or group it no longer has is not given to a new task
    role = member.get("role") if member.get("role") in roles.role_keys else roles.role_keys[0]
    group = member.get("group") if member.get("group") in roles.group_keys else roles.leader_group
    temperature = values.get("temperature")
    symptoms = ", ".join(t.label("symptom", s) for s in values.get("symptoms") or ())
    return {
        "title": t(
            "isolation.flag_task",
            name=resident.get("name") or "",
            temperature=f"{temperature:.1f}" if temperature is not None else "—",
            symptoms=symptoms or "—",
        ),
        "task_kind": "other",
        "role": None if wartime else role,
        "group": group if wartime else None,
        "assignee": leader,
        "due": session.today.isoformat(),
        "status": "open",
    }
