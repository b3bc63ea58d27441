"""What every modal form of the app shares: Ctrl+S saves (shown on the save button), Escape cancels, and input is
never lost.

A form reads its fields (``read``), checks them (its own ``check`` and, given ``kind``, the domain's validation of
that record kind: the rules the store applies), then saves them through the ``save`` callable the screen passed
(run in a worker thread). Only a successful save closes the dialog; a problem is shown beside the field it is
about (the field keeps its text) and the dialog stays open, whatever failed: a check, the domain's validation or
the store's write.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from textual import on, work
from textual.binding import Binding
from textual.containers import Grid
from textual.message import Message
from textual.screen import ModalScreen
from textual.widget import Widget
from textual.widgets import Button, Label, Static

from field_agent.domain.errors import ValidationError
from field_agent.domain.roles import DEFAULT_ROLE_CONFIG, RoleConfig
from field_agent.domain.validation import validate_record
from field_agent.tui.app_base import field_app
from field_agent.tui.errors import describe_error, field_error_text
from field_agent.tui.i18n import Translator

SAVE_KEY = "ctrl+s"
"""The one key that saves in every dialog (and on the visit screen)."""

FIELD_NAME = re.compile(r"[a-z_][a-z0-9_]*")
Saver = Callable[[dict[str, Any]], Any]
"""Saves a form's values (blocking: runs in a worker thread); what it returns is what the dialog dismisses with."""
Checker = Callable[[dict[str, Any]], Mapping[str, str]]
"""Checks a form's values: messages by field name, empty when all is well."""


class FormErrors(Exception):
    """Raised by ``FormDialog.read`` when a field cannot even be read (e.g. a number that is not one)."""

    def __init__(self, errors: Mapping[str, str]) -> None:
        super().__init__(", ".join(errors))
        self.errors = dict(errors)


def domain_errors(
    t: Translator,
    kind: str,
    values: Mapping[str, Any],
    existing: Mapping[str, Any] | None = None,
    roles: RoleConfig = DEFAULT_ROLE_CONFIG,
) -> dict[str, str]:
    """The domain's validation of ``values`` written to a ``kind`` record (the store's own rules, with ``roles``
    the town configuration's in force), as messages by field name; empty when the write is valid."""
    try:
        validate_record(kind, values, existing, roles=roles)
    except ValidationError as error:
        found: dict[str, str] = {}
        for field_error in error.errors:
            text = field_error_text(t, field_error)
            found[field_error.field] = f"{found[field_error.field]}; {text}" if field_error.field in found else text
        return found
    return {}


class FormDialog(ModalScreen[Any]):
    """A modal form that dismisses with what its ``save`` returned (its values when it has none), or None when
    cancelled (Escape or its ``#cancel`` button).

    Subclasses compose their fields (each with an id the field's name maps to: ``field_id``), a
    ``Static(classes="form-errors")`` for problems that belong to no field, and ``self.save_button()``; they define
    ``read`` and may override ``check``.
    """

    BINDINGS = [
        Binding("escape", "cancel", "key.cancel"),
        Binding(SAVE_KEY, "save", "key.save", priority=True),
    ]

    class Saved(Message):
        def __init__(self, result: Any) -> None:
            super().__init__()
            self.result = result

    class SaveFailed(Message):
        def __init__(self, error: Exception) -> None:
            super().__init__()
            self.error = error

    def __init__(
        self,
        save: Saver | None = None,
        check: Checker | None = None,
        kind: str | None = None,
        record: Mapping[str, Any] | None = None,
    ) -> None:
        """``kind``: check the values with the domain's rules for that record kind, as written over ``record``
        (the record as it stands, or the fields the screen adds to a new one)."""
        super().__init__()
        self.saver = save
        self.checker = check
        self.kind = kind
        self.record = dict(record or {})
        self.saving = False
        self._marked: list[Widget] = []

    @property
    def t(self) -> Translator:
        return field_app(self).t

    # ------------------------------------------------------------------ what subclasses provide
    def read(self) -> dict[str, Any]:
        """The form's values; raises FormErrors for fields that cannot be read."""
        raise NotImplementedError

    def check(self, values: dict[str, Any]) -> dict[str, str]:
        """Problems with ``values`` by field name: the domain's rules for ``kind`` and the screen's ``check``."""
        errors: dict[str, str] = {}
        if self.kind is not None:
            session = field_app(self).session
            roles = session.roles if session is not None else DEFAULT_ROLE_CONFIG
            errors.update(domain_errors(self.t, self.kind, values, self.record, roles))
        if self.checker is not None:
            errors.update(self.checker(values))
        return errors

    def field_id(self, name: str) -> str:
        """The id of the widget that holds field ``name``."""
        return name

    def save_button(self, label: str | None = None) -> Button:
        """The primary button: saves, and shows the key that does the same."""
        text = self.t("dialog.save_key", label=label or self.t("key.save"))
        return Button(text, variant="primary", id="save")

    # ------------------------------------------------------------------ saving
    @on(Button.Pressed, "#save")
    def action_save(self) -> None:
        if self.saving:
            return
        self.clear_errors()
        try:
            values = self.read()
        except FormErrors as problem:
            self.show_errors(problem.errors, self.summary(problem.errors))
            return
        errors = self.check(values)
        if errors:
            self.show_errors(errors, self.summary(errors))
            return
        if self.saver is None:
            self.dismiss(values)
            return
        self.saving = True
        self.query_one("#save", Button).disabled = True
        self._run_save(self.saver, values)

    @work(thread=True, exclusive=True, exit_on_error=False, group="form-save")
    def _run_save(self, saver: Saver, values: dict[str, Any]) -> None:
        try:
            result = saver(values)
        except Exception as error:
            self.post_message(self.SaveFailed(error))
            return
        self.post_message(self.Saved(result))

    def on_form_dialog_saved(self, message: Saved) -> None:
        self.saving = False
        self.dismiss(message.result)

    def on_form_dialog_save_failed(self, message: SaveFailed) -> None:
        self.saving = False
        self.query_one("#save", Button).disabled = False
        error = message.error
        errors: dict[str, str] = {}
        if isinstance(error, ValidationError):
            for field_error in error.errors:
                errors[field_error.field] = field_error_text(self.t, field_error)
        self.show_errors(errors, describe_error(self.t, error))

    # ------------------------------------------------------------------ showing problems
    def summary(self, errors: Mapping[str, str]) -> str:
        """One line naming every problem, for the form's error line (a field may be scrolled out of sight)."""
        detail = self.t("error.separator").join(
            self.t("error.field", field=self.field_label(name), message=message) for name, message in errors.items()
        )
        return self.t("error.invalid", detail=detail)

    def field_label(self, name: str) -> str:
        return self.t.label("field", name)

    def show_errors(self, errors: Mapping[str, str], summary: str | None = None) -> None:
        """Each message beside its field (the field keeps its text and gets the focus of the first one); those
        about no field shown, with ``summary``, in the form's error line."""
        self.clear_errors()
        loose: list[str] = []
        first: Widget | None = None
        for name, message in errors.items():
            widget = self._field_widget(name)
            if widget is None:
                loose.append(message)
                continue
            widget.add_class("-invalid")
            self._marked.append(widget)
            first = first or widget
            error = Static(message, classes="field-error", id=f"error-{self.field_id(name)}")
            parent = widget.parent
            if isinstance(parent, Grid) and parent.has_class("form"):
                # a two-column form: the message goes in the next row, under the field, with an empty label cell
                parent.mount(Label("", classes="field-error"), error, after=widget)
            elif isinstance(parent, Widget):
                parent.mount(error, after=widget)
        lines = ([summary] if summary else []) + loose
        area = self.query(".form-errors")
        if area:
            area.first(Static).update("\n".join(lines))
        if first is not None and first.focusable:
            first.focus()

    def clear_errors(self) -> None:
        for widget in self.query(".field-error"):
            widget.remove()
        for widget in self._marked:
            widget.remove_class("-invalid")
        self._marked.clear()
        for area in self.query(".form-errors").results(Static):
            area.update("")

    def _field_widget(self, name: str) -> Widget | None:
        if not FIELD_NAME.fullmatch(name):
            return None
        found = self.query(f"#{self.field_id(name)}")
        return found.first() if found else None

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)
