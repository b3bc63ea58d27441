"""Add or correct a resident inline, with the ID number checked as it is typed (derived age and sex shown)."""

from __future__ import annotations

from typing import Any

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Grid, Horizontal, Vertical
from textual.markup import escape
from textual.message import Message
from textual.timer import Timer
from textual.widgets import Button, Checkbox, Input, Label, Select, Static

from field_agent.domain.enums import ISOLATION_STATUSES, RECORDED_GROUPS, RESIDENCY_TYPES
from field_agent.tui import people
from field_agent.tui.app_base import field_app
from field_agent.tui.errors import describe_error
from field_agent.tui.session import Session
from field_agent.tui.widgets.form_dialog import FormDialog
from field_agent.tui.widgets.prompt import FieldsDialog

TEXT_FIELDS = ("name", "id_number", "phone", "isolation_start", "isolation_days")


class ResidentForm(FormDialog):
    """Dismisses with the saved resident's view, or None when cancelled; checked with the resident record's rules
    before it is saved (the store checks them again)."""

    BINDINGS = [Binding("ctrl+r", "reveal", "key.reveal", priority=True)]

    class RevealFailed(Message):
        def __init__(self, error: Exception) -> None:
            super().__init__()
            self.error = error

    class IdRevealed(Message):
        """The reveal was recorded in the audit list: show the stored number for ``seconds``."""

        def __init__(self, seconds: float) -> None:
            super().__init__()
            self.seconds = seconds

    def __init__(self, household_id: str, resident: dict[str, Any] | None) -> None:
        super().__init__(save=self._save, kind="resident", record=resident)
        self.household_id = household_id
        self.resident = resident
        self.reveal_timer: Timer | None = None
        self.reveal_until = 0.0

    def compose(self) -> ComposeResult:
        t, r = self.t, self.resident or {}
        with Vertical(id="resident-form", classes="dialog"):
            yield Static(t("resident.edit_title" if self.resident else "resident.add_title"), classes="dialog-title")
            with Grid(classes="form"):
                yield Label(t("field.name"))
                yield Input(r.get("name") or "", id="name", compact=True)
                yield Label(t("field.id_number"))
                # An existing number stays hidden until asked for (ctrl+r); a new one is seen as it is typed.
                yield Input(
                    r.get("id_number") or "",
                    id="id_number",
                    compact=True,
                    max_length=18,
                    password=self.resident is not None,
                )
                yield Label("")
                yield Static("", id="id-check")
                yield Label(t("field.phone"))
                yield Input(r.get("phone") or "", id="phone", compact=True)
                yield Label(t("field.residency"))
                yield Select(
                    [(t.label("residency", v), v) for v in RESIDENCY_TYPES],
                    value=r.get("residency") or "resident",
                    allow_blank=False,
                    id="residency",
                    compact=True,
                )
                yield Label(t("field.special_groups"))
                with Horizontal(id="recorded-groups"):
                    for group in RECORDED_GROUPS:
                        yield Checkbox(
                            t.label("group", group),
                            group in (r.get("special_groups") or ()),
                            id=f"group-{group}",
                            compact=True,
                        )
                yield Label(t("field.isolation_status"))
                yield Select(
                    [(t.label("isolation", v), v) for v in ISOLATION_STATUSES],
                    value=r.get("isolation_status") or "none",
                    allow_blank=False,
                    id="isolation_status",
                    compact=True,
                )
                yield Label(t("field.isolation_start"))
                yield Input(
                    r.get("isolation_start") or "", placeholder="2026-11-30", id="isolation_start", compact=True
                )
                yield Label(t("field.isolation_days"))
                yield Input(str(r.get("isolation_days") or ""), id="isolation_days", compact=True, type="integer")
            yield Static("", id="form-errors", classes="form-errors")
            with Horizontal(classes="actions"):
                yield self.save_button()
                yield Button(t("key.cancel"), id="cancel")
                if self.resident is not None:
                    yield Button(t("key.reveal"), id="reveal")

    def on_mount(self) -> None:
        self.query_one("#name", Input).focus()
        self.show_id_check(self.query_one("#id_number", Input).value)

    @on(Input.Changed, "#id_number")
    def _id_changed(self, event: Input.Changed) -> None:
        self.show_id_check(event.value)

    def show_id_check(self, text: str) -> None:
        t = self.t
        box = self.query_one("#id-check", Static)
        if not text:
            box.update(t("idcheck.empty"))
            box.set_classes("")
            return
        check = people.check_id_number(text, field_app(self).now().date())
        if check.valid:
            box.update(t("idcheck.valid", sex=t.label("sex", check.sex), age=check.age, birth=check.birth_date))
            box.set_classes("-valid")
        else:
            box.update(t(f"idcheck.{check.reason}"))
            box.set_classes("-invalid")

    def read(self) -> dict[str, Any]:
        """The form's fields as record values; the recorded groups as set changes (``{group: present}``)."""
        values: dict[str, Any] = {"household": self.household_id}
        for name in TEXT_FIELDS:
            text = self.query_one(f"#{name}", Input).value.strip()
            if name == "isolation_days":
                values[name] = int(text) if text else None
            else:
                values[name] = text or None
        for name in ("residency", "isolation_status"):
            values[name] = self.query_one(f"#{name}", Select).value
        if values["isolation_status"] == "home" and not values["isolation_start"]:
            values["isolation_start"] = field_app(self).now().date().isoformat()
        values["special_groups"] = {g: self.query_one(f"#group-{g}", Checkbox).value for g in RECORDED_GROUPS}
        return values

    def _save(self, values: dict[str, Any]) -> dict[str, Any]:
        """Runs in the form's save worker."""
        values = dict(values)
        groups = values.pop("special_groups")
        record_id = self.resident["id"] if self.resident else None
        session = field_app(self).require_session()
        return session.save("resident", values, record_id=record_id, set_changes={"special_groups": groups})

    @on(Button.Pressed, "#reveal")
    def action_reveal(self) -> None:
        """ctrl+r: a number typed for a new resident shows and hides freely; a stored one is shown only after the
        same question and audit entry as x on the household screen, and hidden again by ctrl+r or its timer."""
        field = self.query_one("#id_number", Input)
        if self.resident is None:
            field.password = not field.password
            return
        if not field.password:
            self.hide_id()
            return
        t = self.t
        seconds = int(float(field_app(self).require_session().setting("reveal_seconds") or 30))
        dialog = FieldsDialog(
            t("reveal.question_form", name=escape(self.resident.get("name") or ""), seconds=seconds),
            [("reason", t("field.reason"), "", True)],
            ok=t("reveal.ok"),
            cancel=t("key.cancel"),
            required_message=t("reveal.reason_required"),
        )
        self.app.push_screen(dialog, self._reveal_answered)

    def _reveal_answered(self, answer: dict[str, str] | None) -> None:
        if answer is not None and self.resident is not None:
            self.record_reveal(field_app(self).require_session(), self.resident["id"], answer["reason"])

    @work(thread=True, exclusive=True, exit_on_error=False, group="reveal")
    def record_reveal(self, session: Session, resident_id: str, reason: str) -> None:
        try:
            seconds = session.audit_reveal(resident_id, self.household_id, ["id_number"], reason)
        except Exception as error:
            self.post_message(self.RevealFailed(error))
            return
        self.post_message(self.IdRevealed(seconds))

    def on_resident_form_reveal_failed(self, message: RevealFailed) -> None:
        self.query_one("#form-errors", Static).update(describe_error(self.t, message.error))

    def on_resident_form_id_revealed(self, message: IdRevealed) -> None:
        self.query_one("#id_number", Input).password = False
        self.reveal_until = field_app(self).idle_clock() + message.seconds
        self.reveal_timer = self.set_interval(0.5, self.check_reveal)

    def check_reveal(self) -> None:
        """Hide the number once its time is up (timer callback; the app's monotonic clock)."""
        if field_app(self).idle_clock() >= self.reveal_until:
            self.hide_id()

    def hide_id(self) -> None:
        self.query_one("#id_number", Input).password = True
        if self.reveal_timer is not None:
            self.reveal_timer.stop()
            self.reveal_timer = None
