"""Today's check of a resident in home isolation: temperature, symptoms, needs, whether contact was made."""

from __future__ import annotations

from typing import Any

from textual import on
from textual.app import ComposeResult
from textual.containers import Grid, Horizontal, Vertical
from textual.widgets import Button, Checkbox, Input, Label, Static

from field_agent.domain.enums import SYMPTOMS
from field_agent.domain.isolation import followup_reached
from field_agent.tui.queries.isolation import needs_flag
from field_agent.tui.widgets.form_dialog import FormDialog, FormErrors, Saver


class FollowUpForm(FormDialog):
    """Dismisses with what ``save`` returned for the follow-up's values (``flagged`` worked out; checked against
    the follow-up record's rules first), or None when cancelled. A check without contact and without a
    temperature is saved as an attempt (not reached): the resident stays due today."""

    def __init__(self, title: str, record: dict[str, Any], save: Saver | None = None) -> None:
        """``record``: the fields the screen adds (resident, date, by), so the whole follow-up is checked."""
        super().__init__(save=save, kind="followup", record=record)
        self.form_title = title

    def compose(self) -> ComposeResult:
        t = self.t
        with Vertical(classes="dialog", id="followup-form"):
            yield Static(self.form_title, classes="dialog-title")
            with Grid(classes="form"):
                yield Label(t("field.temperature"))
                yield Input(placeholder="36.5", id="temperature", compact=True, type="number")
                yield Label(t("field.symptoms"))
                with Grid(id="symptoms"):
                    for symptom in SYMPTOMS:
                        yield Checkbox(t.label("symptom", symptom), id=f"symptom-{symptom}", compact=True)
                yield Label(t("field.needs"))
                yield Input(id="needs", compact=True)
                yield Label(t("field.contact_made"))
                yield Checkbox(t("followup.contact_made"), True, id="contact_made", compact=True)
            yield Static("", id="flag-warning")
            yield Static("", id="form-errors", classes="form-errors")
            with Horizontal(classes="actions"):
                yield self.save_button()
                yield Button(t("key.cancel"), id="cancel")

    def on_mount(self) -> None:
        self.query_one("#temperature", Input).focus()

    def read(self) -> dict[str, Any]:
        text = self.query_one("#temperature", Input).value.strip()
        try:
            temperature = float(text) if text else None
        except ValueError:
            raise FormErrors({"temperature": self.t("followup.bad_temperature")}) from None
        symptoms = [s for s in SYMPTOMS if self.query_one(f"#symptom-{s}", Checkbox).value]
        return {
            "temperature": temperature,
            "symptoms": symptoms,
            "needs": self.query_one("#needs", Input).value.strip(),
            "contact_made": self.query_one("#contact_made", Checkbox).value,
            "flagged": needs_flag(temperature, symptoms),
        }

    @on(Input.Changed)
    @on(Checkbox.Changed)
    def _changed(self) -> None:
        warning = self.query_one("#flag-warning", Static)
        try:
            values = self.read()
        except FormErrors:
            warning.update(self.t("followup.bad_temperature"))
            return
        if values["flagged"]:
            warning.update(self.t("followup.will_flag"))
        elif not followup_reached(values):
            warning.update(self.t("followup.will_not_reach"))
        else:
            warning.update("")
