"""A door-to-door visit: outcome in one key, residents present, health questions, then the next door."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.markup import escape
from textual.message import Message
from textual.widgets import Button, Checkbox, DataTable, Input, Static

from field_agent.domain.enums import VISIT_OUTCOMES
from field_agent.tui import people
from field_agent.tui.app_base import field_app
from field_agent.tui.errors import describe_error
from field_agent.tui.queries.households import next_in_building
from field_agent.tui.screens.base import SessionScreen
from field_agent.tui.session import Session
from field_agent.tui.undo import restore_values
from field_agent.tui.widgets.app_button import AppButton

QUICK_OUTCOMES = ("nobody_home", "refused", "vacant")
"""Outcomes with nobody to ask: their key saves the visit at once."""


class VisitScreen(SessionScreen):
    """1 met, 2 nobody home, 3 refused, 4 vacant; space marks present, f fever, c cough; ctrl+s saves."""

    NAV = "households"
    BINDINGS = [
        # The outcome buttons show their keys (1-4): the key bar keeps its room for save and back.
        *(
            Binding(str(n), f"outcome('{o}')", f"outcome.{o}", show=False, id=f"visit.outcome.{o}")
            for n, o in enumerate(VISIT_OUTCOMES, start=1)
        ),
        Binding("space", "toggle_answer('present')", "key.present", id="visit.toggle_answer.present"),
        Binding("f", "toggle_answer('fever')", "key.fever", id="visit.toggle_answer.fever"),
        Binding("c", "toggle_answer('cough')", "key.cough", id="visit.toggle_answer.cough"),
        Binding("a", "add_resident", "key.add_resident", id="visit.add_resident"),
        Binding("e", "edit_resident", "key.edit_resident", id="visit.edit_resident"),
        Binding("ctrl+s", "save", "key.save", priority=True, id="visit.save"),
        Binding("escape", "app.pop_screen", "key.back", id="visit.pop_screen"),
    ]

    class Loaded(Message):
        def __init__(self, household: dict[str, Any], residents: list[dict[str, Any]]) -> None:
            super().__init__()
            self.household = household
            self.residents = residents

    class VisitSaved(Message):
        """A visit was durably saved; ``next_household`` is the next door of the building, if any."""

        def __init__(self, visit: dict[str, Any], next_household: dict[str, Any] | None) -> None:
            super().__init__()
            self.visit = visit
            self.next_household = next_household

    class VisitFailed(Message):
        def __init__(self, error: Exception) -> None:
            super().__init__()
            self.error = error

    def __init__(self, household_id: str) -> None:
        super().__init__()
        self.household_id = household_id
        self.outcome: str | None = None
        self.residents: list[dict[str, Any]] = []
        self.answers: dict[str, dict[str, Any]] = {}
        self.saving = False
        self.address = ""

    def compose_body(self) -> ComposeResult:
        yield Static("", id="visit-header")
        with Horizontal(id="outcomes"):
            for number, outcome in enumerate(VISIT_OUTCOMES, start=1):
                yield Button(
                    f"{number} {self.t.label('outcome', outcome)}",
                    id=f"outcome-{outcome}",
                    action=f"screen.outcome('{outcome}')",
                )
        yield DataTable[str](id="visit-residents", cursor_type="row")
        yield Input(placeholder=self.t("visit.other"), id="other", compact=True)
        with Horizontal(id="visit-extra"):
            yield Checkbox(self.t("field.follow_up"), id="follow_up", compact=True)
            yield Input(placeholder=self.t("field.notes"), id="notes", compact=True)
        yield Static("", id="visit-status")
        with Horizontal(classes="actions"):
            yield Button(self.t("key.save"), variant="primary", action="screen.save")
            yield Button(self.t("key.present"), action="screen.toggle_answer('present')")
            yield Button(self.t("key.fever"), action="screen.toggle_answer('fever')")
            yield Button(self.t("key.add_resident"), action="screen.add_resident")
            yield AppButton(self.t("key.back"), "app.pop_screen")

    def on_mount(self) -> None:
        table = self.query_one("#visit-residents", DataTable)
        for key in ("present", "name", "sex_age", "fever", "cough", "other"):
            table.add_column(self.t(f"visit.col.{key}"), key=key)
        self.load(self.session, self.household_id)
        table.focus()

    @work(thread=True, exclusive=True, exit_on_error=False, group="load")
    def load(self, session: Session, household_id: str) -> None:
        with session.reading() as model:
            household = dict(model.get(household_id) or {"id": household_id})
            household["short_address"] = model.short_address(household)
            residents = model.residents_of(household_id)
        self.post_message(self.Loaded(household, residents))

    def on_visit_screen_loaded(self, message: VisitScreen.Loaded) -> None:
        self.residents = message.residents
        self.address = message.household.get("short_address") or ""
        for resident in self.residents:
            self.answers.setdefault(resident["id"], {"present": False, "fever": False, "cough": False, "other": ""})
        self.query_one("#visit-header", Static).update(
            self.t.n("visit.header", len(self.residents), address=escape(message.household.get("short_address") or ""))
        )
        self.render_residents()

    def render_residents(self) -> None:
        t, today = self.t, self.session.today
        table = self.query_one("#visit-residents", DataTable)
        cursor = table.cursor_row
        table.clear()
        for resident in self.residents:
            answer = self.answers[resident["id"]]
            age, sex = people.age_and_sex(resident, today)
            table.add_row(
                "✔" if answer["present"] else "·",
                Text(resident.get("name") or ""),
                f"{t.label('sex', sex)} {age}" if age is not None else "?",
                t("visit.yes") if answer["fever"] else "",
                t("visit.yes") if answer["cough"] else "",
                Text(answer["other"]),
                key=resident["id"],
            )
        if table.row_count:
            table.move_cursor(row=min(max(cursor, 0), table.row_count - 1))

    def current_resident_id(self) -> str | None:
        table = self.query_one("#visit-residents", DataTable)
        if not table.row_count:
            return None
        row_key, _ = table.coordinate_to_cell_key(table.cursor_coordinate)
        return row_key.value

    @on(DataTable.RowHighlighted, "#visit-residents")
    def _row_highlighted(self) -> None:
        resident_id = self.current_resident_id()
        if resident_id:
            with self.query_one("#other", Input).prevent(Input.Changed):
                self.query_one("#other", Input).value = self.answers[resident_id]["other"]

    @on(Input.Changed, "#other")
    def _other_changed(self, event: Input.Changed) -> None:
        resident_id = self.current_resident_id()
        if resident_id:
            self.answers[resident_id]["other"] = event.value
            if event.value:
                self.answers[resident_id]["present"] = True
            self.render_residents()

    def action_outcome(self, outcome: str) -> None:
        self.outcome = outcome
        for other in VISIT_OUTCOMES:
            self.query_one(f"#outcome-{other}", Button).set_class(other == outcome, "-active")
        if outcome in QUICK_OUTCOMES:
            self.action_save()
        else:
            self.query_one("#visit-status", Static).update(self.t("visit.mark_present"))

    def action_toggle_answer(self, what: str) -> None:
        """Space, f, c: flip the current resident's present, fever or cough (not Textual's own ``toggle`` action)."""
        resident_id = self.current_resident_id()
        if resident_id is None:
            return
        answer = self.answers[resident_id]
        answer[what] = not answer[what]
        if what != "present" and answer[what]:
            answer["present"] = True
        if what == "present" and self.outcome is None:
            self.action_outcome("met")
        self.render_residents()

    def visit_values(self) -> dict[str, Any]:
        seen = [rid for rid, a in self.answers.items() if a["present"]] if self.outcome in ("met", "refused") else []
        health = {
            rid: {"fever": a["fever"], "cough": a["cough"], "other": a["other"]}
            for rid, a in self.answers.items()
            if rid in seen and (a["fever"] or a["cough"] or a["other"])
        }
        return {
            "household": self.household_id,
            "visited_at": field_app(self).now().isoformat(),
            "worker": self.session.worker,
            "outcome": self.outcome,
            "residents_seen": seen,
            "health": health,
            "follow_up": self.query_one("#follow_up", Checkbox).value or bool(health),
            "notes": self.query_one("#notes", Input).value.strip(),
        }

    def action_save(self) -> None:
        if self.saving:
            return
        if self.outcome is None:
            self.query_one("#visit-status", Static).update(self.t("visit.need_outcome"))
            return
        self.saving = True
        self.query_one("#visit-status", Static).update(self.t("visit.saving"))
        self.save(self.session, self.visit_values())

    @work(thread=True, exclusive=True, exit_on_error=False, group="save")
    def save(self, session: Session, values: dict[str, Any]) -> None:
        try:
            visit = session.save("visit", values)
        except Exception as error:
            self.post_message(self.VisitFailed(error))
            return
        with session.reading() as model:
            following = next_in_building(model, self.household_id, session.today)
        self.post_message(self.VisitSaved(visit, following))

    def on_visit_screen_visit_failed(self, message: VisitFailed) -> None:
        self.saving = False
        self.query_one("#visit-status", Static).update(describe_error(self.t, message.error))

    async def on_visit_screen_visit_saved(self, message: VisitSaved) -> None:
        from field_agent.tui.widgets.confirm import ConfirmDialog

        visit, t = message.visit, self.t
        what = t("undo.what", what=t.label("outcome", visit.get("outcome")), name=escape(self.address))
        field_app(self).offer_undo(t("visit.saved", outcome=what), what, restore_values("visit", None, visit))
        following = message.next_household
        if following is None:
            self.app.pop_screen()
            return
        question = self.t("visit.next", address=escape(following.get("address") or ""))

        def chosen(go_on: bool | None) -> None:
            self.app.pop_screen()
            if go_on:
                self.app.push_screen(VisitScreen(following["id"]))

        self.app.push_screen(ConfirmDialog(question, self.t("visit.next_yes"), self.t("visit.next_no")), chosen)

    def action_add_resident(self) -> None:
        from field_agent.tui.widgets.resident_form import ResidentForm

        self.app.push_screen(ResidentForm(self.household_id, None), self._resident_saved)

    def action_edit_resident(self) -> None:
        from field_agent.tui.widgets.resident_form import ResidentForm

        resident_id = self.current_resident_id()
        resident = next((r for r in self.residents if r["id"] == resident_id), None)
        if resident is not None:
            self.app.push_screen(ResidentForm(self.household_id, resident), self._resident_saved)

    def _resident_saved(self, resident: dict[str, Any] | None) -> None:
        if resident is not None:
            self.answers.setdefault(resident["id"], {"present": True, "fever": False, "cough": False, "other": ""})
            self.load(self.session, self.household_id)
