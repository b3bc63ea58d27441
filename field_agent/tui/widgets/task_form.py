"""The grid leader's form for a new task: title, kind, role (or group in wartime), assignee, due date."""

from __future__ import annotations

from datetime import date
from typing import Any

from textual.app import ComposeResult
from textual.containers import Grid, Horizontal, Vertical
from textual.widgets import Button, Input, Label, Select, Static

from field_agent.domain.enums import TASK_KINDS
from field_agent.domain.roles import Label as RoleLabel
from field_agent.tui.widgets.form_dialog import FormDialog, Saver


class TaskForm(FormDialog):
    """Dismisses with what ``save`` returned for the new task's values (checked against the task record's rules
    first), or None when cancelled."""

    def __init__(
        self,
        wartime: bool,
        slots: tuple[RoleLabel, ...],
        members: list[str],
        today: date,
        save: Saver | None = None,
    ) -> None:
        super().__init__(save=save, kind="task")
        self.wartime = wartime
        self.slots = slots
        self.members = members
        self.today = today

    def compose(self) -> ComposeResult:
        t = self.t
        language = t.language
        with Vertical(classes="dialog", id="task-form"):
            yield Static(t("tasks.new_title"), classes="dialog-title")
            with Grid(classes="form"):
                yield Label(t("field.title"))
                yield Input(id="title", compact=True)
                yield Label(t("field.task_kind"))
                yield Select(
                    [(t.label("task_kind", k), k) for k in TASK_KINDS],
                    value="publicity",
                    allow_blank=False,
                    id="task_kind",
                    compact=True,
                )
                yield Label(t("field.group" if self.wartime else "field.role"))
                yield Select(
                    [(slot.name(language), slot.key) for slot in self.slots],
                    value=self.slots[0].key,
                    allow_blank=False,
                    id="slot",
                    compact=True,
                )
                yield Label(t("field.assignee"))
                yield Select(
                    [(name, name) for name in self.members], id="assignee", compact=True, prompt=t("tasks.nobody")
                )
                yield Label(t("field.due"))
                yield Input(self.today.isoformat(), id="due", compact=True)
            yield Static("", id="task-error", classes="form-errors")
            with Horizontal(classes="actions"):
                yield self.save_button()
                yield Button(t("key.cancel"), id="cancel")

    def on_mount(self) -> None:
        self.query_one("#title", Input).focus()

    def read(self) -> dict[str, Any]:
        assignee = self.query_one("#assignee", Select).value
        slot = self.query_one("#slot", Select).value
        return {
            "title": self.query_one("#title", Input).value.strip(),
            "task_kind": self.query_one("#task_kind", Select).value,
            "role": None if self.wartime else slot,
            "group": slot if self.wartime else None,
            "assignee": None if assignee is Select.BLANK else assignee,
            "due": self.query_one("#due", Input).value.strip() or None,
            "status": "open",
        }

    def check(self, values: dict[str, Any]) -> dict[str, str]:
        errors = super().check(values)
        if not values["title"]:
            errors["title"] = self.t("dialog.required")
        return errors
