"""One household: its residents (ID numbers masked until revealed), visit history and samplings.

Revealing (x) asks why first, records who, when, which resident and why in the device's audit list (never the
number), then shows that resident's full ID number and the household's phone until ``reveal_seconds`` (setting,
30 by default) pass or the screen is left, whichever comes first.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.markup import escape
from textual.message import Message
from textual.timer import Timer
from textual.widgets import Button, DataTable, Static

from field_agent.domain.phone import mask_phone
from field_agent.tui import people
from field_agent.tui.app_base import field_app
from field_agent.tui.screens.base import SessionScreen
from field_agent.tui.session import Session
from field_agent.tui.timefmt import short_time
from field_agent.tui.widgets.app_button import AppButton
from field_agent.tui.widgets.prompt import FieldsDialog

REVEAL_CHECK_SECONDS = 0.5


@dataclass(frozen=True)
class HouseholdDetail:
    household: dict[str, Any]
    residents: list[dict[str, Any]]
    visits: list[dict[str, Any]]
    samplings: list[tuple[dict[str, Any], dict[str, Any]]]


class HouseholdScreen(SessionScreen):
    """Detail of one household; v records a visit, a adds a resident, e corrects the selected one."""

    NAV = "households"
    AUTO_FOCUS = "#residents"
    """Down and e act on the residents at once (a scroll container would otherwise take the focus)."""
    BINDINGS = [
        Binding("escape", "app.pop_screen", "key.back", id="household.pop_screen"),
        Binding("v", "visit", "key.visit", id="household.visit"),
        Binding("a", "add_resident", "key.add_resident", id="household.add_resident"),
        Binding("e", "edit_resident", "key.edit_resident", id="household.edit_resident"),
        Binding("x", "reveal", "key.reveal", id="household.reveal"),
    ]

    class Loaded(Message):
        def __init__(self, detail: HouseholdDetail) -> None:
            super().__init__()
            self.detail = detail

    class Revealed(Message):
        """The reveal was recorded in the audit list: show the resident's number for ``seconds``."""

        def __init__(self, resident_id: str, seconds: float) -> None:
            super().__init__()
            self.resident_id = resident_id
            self.seconds = seconds

    class RevealEnded(Message):
        """The full number is masked again (x, the timer, or leaving the screen)."""

    def __init__(self, household_id: str) -> None:
        super().__init__()
        self.household_id = household_id
        self.revealed_id: str | None = None
        self.reveal_timer: Timer | None = None
        self.reveal_until = 0.0
        self.detail: HouseholdDetail | None = None

    def compose_body(self) -> ComposeResult:
        with VerticalScroll(id="household-body"):
            yield Static("", id="household-header")
            yield DataTable[str](id="residents", cursor_type="row")
            yield Static("", id="household-history")
        with Horizontal(classes="actions"):
            yield Button(self.t("key.visit"), action="screen.visit", variant="primary")
            yield Button(self.t("key.add_resident"), action="screen.add_resident")
            yield Button(self.t("key.edit_resident"), action="screen.edit_resident")
            yield Button(self.t("key.reveal"), action="screen.reveal")
            yield AppButton(self.t("key.back"), "app.pop_screen")

    def on_mount(self) -> None:
        table = self.query_one("#residents", DataTable)
        for key in ("name", "sex_age", "id_number", "groups", "isolation"):
            table.add_column(self.t(f"resident.col.{key}"), key=key)
        self.reload()

    @property
    def revealed(self) -> bool:
        return self.revealed_id is not None

    def on_screen_suspend(self) -> None:
        self.hide_revealed()

    def on_unmount(self) -> None:
        if self.reveal_timer is not None:
            self.reveal_timer.stop()

    def on_screen_resume(self) -> None:
        if self.detail is not None:
            self.reload()

    def reload(self) -> None:
        self.load(self.session, self.household_id)

    @work(thread=True, exclusive=True, exit_on_error=False, group="load")
    def load(self, session: Session, household_id: str) -> None:
        with session.reading() as model:
            household = model.get(household_id) or {"id": household_id}
            residents = model.residents_of(household_id)
            samplings = [
                (sampling, resident) for resident in residents for sampling in model.samplings_of(resident["id"])
            ]
            detail = HouseholdDetail(household, residents, model.visits_of(household_id), samplings)
        self.post_message(self.Loaded(detail))

    def on_household_screen_loaded(self, message: HouseholdScreen.Loaded) -> None:
        self.detail = message.detail
        self.render_detail()

    def render_detail(self) -> None:
        if self.detail is None:
            return
        t, today = self.t, self.session.today
        household = self.detail.household
        phone = household.get("phone") or ""
        shown_phone = phone if self.revealed else (mask_phone(phone) if phone else "—")
        self.query_one("#household-header", Static).update(
            t(
                "household.header",
                address=escape(household.get("address") or ""),
                head=escape(household.get("head") or "—"),
                phone=shown_phone,
            )
        )
        table = self.query_one("#residents", DataTable)
        cursor = table.cursor_row
        table.clear()
        for resident in self.detail.residents:
            age, sex = people.age_and_sex(resident, today)
            sex_age = f"{t.label('sex', sex)} {age}" if age is not None else "?"
            groups = " ".join(
                [t.label("group", g) for g in people.special_groups(resident, today)]
                + [str(tag) for tag in resident.get("tags") or []]  # the town's own words (独居老人, 低保户)
            )
            isolation = t.label("isolation", resident.get("isolation_status") or "none")
            table.add_row(
                Text(resident.get("name") or ""),
                sex_age,
                people.shown_id(resident.get("id_number"), resident["id"] == self.revealed_id),
                Text(groups),
                isolation,
                key=resident["id"],
            )
        if table.row_count:
            table.move_cursor(row=min(cursor, table.row_count - 1))
        lines = [f"[b]{t('household.visits')}[/b]"]
        for visit in self.detail.visits[:10]:
            lines.append(
                f"{short_time(visit.get('visited_at'), self.zone)}  {t.label('outcome', visit.get('outcome'))}  "
                f"{escape(visit.get('worker') or '')}  {escape(visit.get('notes') or '')}"
            )
        if not self.detail.visits:
            lines.append(t("household.no_visits"))
        lines.append(f"[b]{t('household.samplings')}[/b]")
        for sampling, resident in self.detail.samplings:
            lines.append(
                f"{escape(resident.get('name') or '')}  {t.label('sampling', sampling.get('status'))}  "
                f"{short_time(sampling.get('sampled_at') or sampling.get('scheduled_at'), self.zone)}"
            )
        if not self.detail.samplings:
            lines.append(t("household.no_samplings"))
        self.query_one("#household-history", Static).update("\n".join(lines))

    def selected_resident(self) -> dict[str, Any] | None:
        table = self.query_one("#residents", DataTable)
        if self.detail is None or not table.row_count:
            return None
        row_key, _ = table.coordinate_to_cell_key(table.cursor_coordinate)
        return next((r for r in self.detail.residents if r["id"] == row_key.value), None)

    def action_reveal(self) -> None:
        """x: mask again what is shown; otherwise ask why, then show the selected resident's full number."""
        if self.revealed:
            self.hide_revealed()
            return
        resident = self.selected_resident()
        if resident is None or not resident.get("id_number"):
            return
        t = self.t
        seconds = int(float(self.session.setting("reveal_seconds") or 30))
        dialog = FieldsDialog(
            t("reveal.question", name=escape(resident.get("name") or ""), seconds=seconds),
            [("reason", t("field.reason"), "", True)],
            ok=t("reveal.ok"),
            cancel=t("key.cancel"),
            required_message=t("reveal.reason_required"),
        )
        self.app.push_screen(dialog, lambda answer: self._reveal_answered(resident["id"], answer))

    def _reveal_answered(self, resident_id: str, answer: dict[str, str] | None) -> None:
        if answer is not None:
            self.record_reveal(self.session, resident_id, answer["reason"])

    @work(thread=True, exclusive=True, exit_on_error=False, group="reveal")
    def record_reveal(self, session: Session, resident_id: str, reason: str) -> None:
        """Audit first: when the entry cannot be saved, the error is shown and the number is not."""
        seconds = session.audit_reveal(resident_id, self.household_id, ["id_number", "phone"], reason)
        self.post_message(self.Revealed(resident_id, seconds))

    def on_household_screen_revealed(self, message: HouseholdScreen.Revealed) -> None:
        if not self.is_current:  # left while the entry was being saved
            return
        self.hide_revealed(quiet=True)
        self.revealed_id = message.resident_id
        self.reveal_until = field_app(self).idle_clock() + message.seconds
        self.reveal_timer = self.set_interval(REVEAL_CHECK_SECONDS, self.check_reveal)
        self.render_detail()
        self.notify(self.t("reveal.shown", seconds=int(message.seconds)))

    def check_reveal(self) -> None:
        """Mask the number once its time is up (timer callback; the app's monotonic clock, injectable in tests)."""
        if self.revealed and field_app(self).idle_clock() >= self.reveal_until:
            self.hide_revealed()

    def hide_revealed(self, quiet: bool = False) -> None:
        """Mask the full number again and stop its timer."""
        if self.reveal_timer is not None:
            self.reveal_timer.stop()
            self.reveal_timer = None
        if self.revealed_id is None:
            return
        self.revealed_id = None
        self.render_detail()
        if not quiet:
            self.post_message(self.RevealEnded())

    def action_visit(self) -> None:
        from field_agent.tui.screens.visit import VisitScreen

        self.app.push_screen(VisitScreen(self.household_id))

    def action_add_resident(self) -> None:
        from field_agent.tui.widgets.resident_form import ResidentForm

        self.app.push_screen(ResidentForm(self.household_id, None), self._resident_saved)

    def action_edit_resident(self) -> None:
        from field_agent.tui.widgets.resident_form import ResidentForm

        resident = self.selected_resident()
        if resident is not None:
            self.app.push_screen(ResidentForm(self.household_id, resident), self._resident_saved)

    def _resident_saved(self, resident: dict[str, Any] | None) -> None:
        if resident is not None:
            self.reload()

    @on(DataTable.RowSelected, "#residents")
    def _row_selected(self) -> None:
        self.action_edit_resident()
