"""One campaign: its progress and its "nobody left out" list; Enter (or e) records a result for the selected person.

Opened from Today. The list holds every target without a result that counts as done or excused (the people
still to reach), each with their household's address, their masked ID number and their status so far; a saved
result that counts takes the person off the list and moves the progress.
"""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.markup import escape
from textual.message import Message
from textual.widgets import Button, DataTable, ProgressBar, Static

from field_agent.tui.queries.campaigns import CampaignDetail, TargetRow, campaign_detail
from field_agent.tui.screens.base import SessionScreen
from field_agent.tui.session import Session
from field_agent.tui.widgets.campaign_form import CampaignResultForm
from field_agent.tui.widgets.columns import fill_table


class CampaignScreen(SessionScreen):
    """A campaign's progress and its left-out list; Enter or e records a result, Escape goes back to Today."""

    NAV = "today"
    AUTO_FOCUS = "#campaign-table"
    BINDINGS = [
        Binding("escape", "app.pop_screen", "key.back", id="campaign.pop_screen"),
        Binding("e", "record", "key.record_result", id="campaign.record"),
    ]
    COLUMNS = ("name", "id_number", "status", "address")

    class Loaded(Message):
        def __init__(self, detail: CampaignDetail | None) -> None:
            super().__init__()
            self.detail = detail

    def __init__(self, record_id: str) -> None:
        super().__init__()
        self.record_id = record_id
        self.detail: CampaignDetail | None = None

    def compose_body(self) -> ComposeResult:
        yield Static("", id="campaign-title")
        with Horizontal(id="coverage"):
            yield ProgressBar(id="coverage-bar", show_eta=False)
            yield Static("", id="coverage-text")
        yield DataTable[str](id="campaign-table", cursor_type="row", zebra_stripes=True)
        yield Static("", id="campaign-empty")
        with Horizontal(classes="actions"):
            yield Button(self.t("key.record_result"), action="screen.record", variant="primary")
            yield Button(self.t("key.back"), action="app.pop_screen")

    def on_mount(self) -> None:
        self.reload()

    def on_resize(self) -> None:
        self.render_table()

    def reload(self) -> None:
        self.load(self.session, self.record_id)

    @work(thread=True, exclusive=True, exit_on_error=False, group="load")
    def load(self, session: Session, record_id: str) -> None:
        self.post_message(self.Loaded(campaign_detail(session.reader, record_id, session.today)))

    def on_campaign_screen_loaded(self, message: CampaignScreen.Loaded) -> None:
        self.detail = message.detail
        self.render_table()

    def render_table(self) -> None:
        detail, t = self.detail, self.t
        if detail is None:
            self.query_one("#campaign-title", Static).update(t("campaign.missing"))
            return
        campaign, line = detail.active.campaign, detail.line
        self.query_one("#campaign-title", Static).update(
            t(
                "campaign.title",
                name=escape(campaign.name),
                starts=line.starts,
                ends=line.ends or t("campaign.no_end"),
            )
        )
        self.query_one("#coverage-bar", ProgressBar).update(total=max(line.targets, 1), progress=line.covered)
        self.query_one("#coverage-text", Static).update(
            t(
                "campaign.progress",
                done=line.done,
                excused=line.excused,
                targets=line.targets,
                left=line.left_out,
            )
        )
        self.query_one("#campaign-empty", Static).update(t("campaign.nobody_left") if not detail.left_out else "")
        table = self.query_one("#campaign-table", DataTable)
        width = table.size.width or self.size.width
        rows: list[tuple[str, list[str | Text]]] = []
        for row in detail.left_out:
            status = campaign.status(row.status)
            cells: dict[str, str | Text] = {
                "name": Text(row.name),
                "id_number": row.masked_id,
                "status": Text(status.label) if status is not None else t("campaign.no_result"),
                "address": Text(row.address),
            }
            rows.append((row.target, [cells[key] for key in self.COLUMNS]))
        headers = [(key, t(f"campaign.col.{key}")) for key in self.COLUMNS]
        fill_table(table, headers, rows, "address", width)

    def current_row(self) -> TargetRow | None:
        table = self.query_one("#campaign-table", DataTable)
        rows = self.detail.left_out if self.detail else []
        if not table.row_count or table.cursor_row >= len(rows):
            return None
        return rows[table.cursor_row]

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.action_record()

    def action_record(self) -> None:
        row, detail = self.current_row(), self.detail
        if row is None or detail is None:
            return
        session, campaign = self.session, detail.active.campaign
        existing = dict(row.result) if row.result else {}
        record: dict[str, Any] = {
            **existing,
            "campaign": detail.active.record_id,
            "target": row.target,
            "household": row.household,
        }
        record_id = existing.get("id")

        def save(values: dict[str, Any]) -> dict[str, Any]:
            return session.save("campaign_result", values, record_id=record_id)

        form = CampaignResultForm(
            self.t("campaign.form_title", campaign=campaign.name, name=row.name),
            campaign,
            record,
            session.now,
            session.worker,
            save=save,
        )
        self.app.push_screen(form, self._saved)

    def _saved(self, saved: dict[str, Any] | None) -> None:
        if saved is None or self.detail is None:
            return
        status = self.detail.active.campaign.status(saved.get("status"))
        self.notify(self.t("campaign.saved", status=escape(status.label if status else "")))
        self.reload()
