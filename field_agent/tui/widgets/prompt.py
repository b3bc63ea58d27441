"""Dialogs that ask for a few lines of text (a reason, a schedule, task notes) and return them."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Grid, Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Static


class FieldsDialog(ModalScreen[dict[str, str] | None]):
    """Asks for named text fields; dismisses with their values, or None when cancelled.

    ``fields`` are ``(name, label, initial, required)``; an empty required field keeps the dialog open.
    """

    BINDINGS = [Binding("escape", "cancel", show=False)]

    def __init__(
        self, title: str, fields: list[tuple[str, str, str, bool]], ok: str, cancel: str, required_message: str = ""
    ) -> None:
        super().__init__()
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
                    yield Input(initial, id=f"field-{name}", compact=True)
            yield Static("", id="dialog-error")
            with Horizontal(classes="actions"):
                yield Button(self.ok, variant="primary", id="ok")
                yield Button(self.cancel, id="cancel")

    def on_mount(self) -> None:
        self.query(Input).first().focus()

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        inputs = list(self.query(Input).results())
        position = inputs.index(event.input)
        if position + 1 < len(inputs):
            inputs[position + 1].focus()
        else:
            self._ok()

    @on(Button.Pressed, "#ok")
    def _ok(self) -> None:
        values = {name: self.query_one(f"#field-{name}", Input).value.strip() for name, *_ in self.fields}
        missing = [name for name, _label, _initial, required in self.fields if required and not values[name]]
        if missing:
            self.query_one(f"#field-{missing[0]}", Input).focus()
            self.query_one("#dialog-error", Static).update(self.required_message)
            return
        self.dismiss(values)

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)
