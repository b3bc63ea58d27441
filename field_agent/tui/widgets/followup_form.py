"""Today's check of a resident in home isolation: temperature, symptoms, needs, whether contact was made."""

from __future__ import annotations

from typing import Any

from textual import on
from textual.app import ComposeResult
from textual.containers import Grid, Horizontal, Vertical
from textual.widgets import Button, Checkbox, Input, Label, Static

from field_agent.domain.enums import SYMPTOMS
from field_agent.tui.queries.isolation import needs_flag
from field_agent.tui.widgets.form_dialog import FormDialog


class FollowUpForm(FormDialog):
    """Dismisses with the follow-up's values (``flagged`` worked out), or None when cancelled."""

    def __init__(self, title: str) -> None:
        super().__init__()
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
            with Horizontal(classes="actions"):
                yield Button(t("key.save"), variant="primary", id="save")
                yield Button(t("key.cancel"), id="cancel")

    def on_mount(self) -> None:
        self.query_one("#temperature", Input).focus()

    def read(self) -> dict[str, Any] | None:
        text = self.query_one("#temperature", Input).value.strip()
        try:
            temperature = float(text) if text else None
        except ValueError:
            return None
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
        values = self.read()
        warning = self.query_one("#flag-warning", Static)
        if values is None:
            warning.update(self.t("followup.bad_temperature"))
        else:
            warning.update(self.t("followup.will_flag") if values["flagged"] else "")

    @on(Button.Pressed, "#save")
    def action_save(self) -> None:
        values = self.read()
        if values is None:
            self.query_one("#temperature", Input).focus()
            return
        self.dismiss(values)
