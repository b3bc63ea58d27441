"""Dialogs that ask for a few lines of text (a reason, a schedule, task notes) and return them."""

from __future__ import annotations

from typing import Any

from textual import on
from textual.app import ComposeResult
from textual.containers import Grid, Horizontal, Vertical
from textual.widgets import Button, Input, Label, Static

from field_agent.tui.widgets.form_dialog import Checker, FormDialog, FormErrors, Saver


class FieldsDialog(FormDialog):
    """Asks for named text fields; dismisses with their values (or what ``save`` returned), or None when
    cancelled. Ctrl+S, Enter on the last field or the ok button save; a problem keeps the dialog open, shown
    beside its field.

    ``fields`` are ``(name, label, initial, required)``; an empty required field keeps the dialog open.
    """

    def __init__(
        self,
        title: str,
        fields: list[tuple[str, str, str, bool]],
        ok: str,
        cancel: str,
        required_message: str = "",
        *,
        save: Saver | None = None,
        check: Checker | None = None,
    ) -> None:
        super().__init__(save=save, check=check)
        self.dialog_title = title
        self.fields = fields
        self.ok = ok
        self.cancel = cancel
        self.required_message = required_message

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static(self.dialog_title, classes="dialog-title")
            with Grid(classes="form"):
                for name, label, initial, _required in self.fields:
                    yield Label(label)
                    yield Input(initial, id=self.field_id(name), compact=True)
            yield Static("", id="dialog-error", classes="form-errors")
            with Horizontal(classes="actions"):
                yield self.save_button(self.ok)
                yield Button(self.cancel, id="cancel")

    def on_mount(self) -> None:
        self.query(Input).first().focus()

    def field_id(self, name: str) -> str:
        return f"field-{name}"

    def field_label(self, name: str) -> str:
        return next((label for field, label, *_ in self.fields if field == name), name)

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        inputs = list(self.query(Input).results())
        position = inputs.index(event.input)
        if position + 1 < len(inputs):
            inputs[position + 1].focus()
        else:
            self.action_save()

    def read(self) -> dict[str, Any]:
        values = {name: self.query_one(f"#{self.field_id(name)}", Input).value.strip() for name, *_ in self.fields}
        missing = {
            name: self.required_message or self.t("dialog.required")
            for name, _label, _initial, required in self.fields
            if required and not values[name]
        }
        if missing:
            raise FormErrors(missing)
        return values
