"""One target's result in a campaign: a form built from the campaign's definition (its statuses and its fields).

Each form field's type gives its input: a choice a list of its choices, yes/no a list of 是/否, a number an input
with its range as placeholder, a date or a time an input with an example, text and a signature (the signer's
name) an input. The labels of statuses and fields are the office's words, shown as the definition has them. What
is refused is refused by the domain's own check of a result (``campaigns.results.check_result``, the one the store
and the town server apply), each problem beside its field.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date, datetime
from typing import Any

from textual.app import ComposeResult
from textual.containers import Grid, Horizontal, Vertical, VerticalScroll
from textual.widget import Widget
from textual.widgets import Button, Input, Label, Select, Static

from field_agent.domain.campaigns.definition import Campaign, FormField
from field_agent.domain.campaigns.results import check_result
from field_agent.tui.errors import field_error_text
from field_agent.tui.queries.times import parse_when
from field_agent.tui.widgets.form_dialog import FormDialog, FormErrors, Saver

ANSWER_PREFIX = "answers."


class CampaignResultForm(FormDialog):
    """Dismisses with what ``save`` returned for the result's values (a whole ``campaign_result``: the screen's
    ``record`` fields, status, reason, answers, time and worker), or None when cancelled."""

    def __init__(
        self,
        title: str,
        campaign: Campaign,
        record: Mapping[str, Any],
        now: Callable[[], datetime],
        worker: str,
        save: Saver | None = None,
    ) -> None:
        """``record``: the result as it stands (campaign, target, household, and an earlier status and answers)."""
        super().__init__(save=save, kind="campaign_result", record=record)
        self.form_title = title
        self.campaign = campaign
        self.now = now
        self.worker = worker

    def compose(self) -> ComposeResult:
        t, record, campaign = self.t, self.record, self.campaign
        answers = record.get("answers") or {}
        status = record.get("status")
        if campaign.status(status) is None:
            status = (campaign.keys_counting("done") or (campaign.statuses[0].key,))[0]
        with Vertical(classes="dialog", id="campaign-form"):
            yield Static(self.form_title, classes="dialog-title")
            with VerticalScroll(id="campaign-form-fields"), Grid(classes="form"):
                yield Label(t("campaign.status"))
                yield Select(
                    [(s.label, s.key) for s in campaign.statuses],
                    value=status,
                    allow_blank=False,
                    id="status",
                    compact=True,
                )
                yield Label(t("field.reason"))
                yield Input(str(record.get("reason") or ""), id="reason", compact=True)
                for item in campaign.form:
                    yield Label(item.label + (" *" if item.required else ""))
                    yield self._input(item, answers.get(item.name))
            yield Static("", id="form-errors", classes="form-errors")
            with Horizontal(classes="actions"):
                yield self.save_button()
                yield Button(t("key.cancel"), id="cancel")

    def _input(self, item: FormField, value: Any) -> Widget:
        t, widget_id = self.t, self.field_id(ANSWER_PREFIX + item.name)
        if item.type in ("choice", "yesno"):
            options: list[tuple[str, Any]] = (
                [(choice, choice) for choice in item.choices]
                if item.type == "choice"
                else [(t("campaign.yes"), True), (t("campaign.no"), False)]
            )
            known = [option for _, option in options]
            return Select(
                options,
                value=value if value in known and value is not None else Select.NULL,
                prompt=t("campaign.choose"),
                id=widget_id,
                compact=True,
            )
        placeholder = {
            "date": "2026-11-30",
            "datetime": t("campaign.when_hint"),
            "signature": t("campaign.signature_hint"),
        }.get(item.type, "")
        if item.type == "number":
            low = _number_text(item.minimum)
            high = _number_text(item.maximum)
            placeholder = f"{low}–{high}" if low or high else ""
            text = _number_text(value) if isinstance(value, int | float) and not isinstance(value, bool) else ""
            return Input(text, placeholder=placeholder, id=widget_id, type="number", compact=True)
        return Input(str(value or ""), placeholder=placeholder, id=widget_id, compact=True)

    def on_mount(self) -> None:
        self.query_one("#status", Select).focus()

    # ------------------------------------------------------------------ reading and checking
    def read(self) -> dict[str, Any]:
        answers: dict[str, Any] = {}
        problems: dict[str, str] = {}
        for item in self.campaign.form:
            name = ANSWER_PREFIX + item.name
            widget = self.query_one(f"#{self.field_id(name)}")
            if isinstance(widget, Select):
                if widget.value is not Select.NULL:
                    answers[item.name] = widget.value
                continue
            assert isinstance(widget, Input)
            text = widget.value.strip()
            if not text:
                continue
            try:
                answers[item.name] = self._answer(item, text)
            except ValueError:
                problems[name] = self.t(f"campaign.bad_{item.type}")
        if problems:
            raise FormErrors(problems)
        status = self.query_one("#status", Select).value
        return {
            **{key: self.record.get(key) for key in ("campaign", "target", "household")},
            "status": status,
            "reason": self.query_one("#reason", Input).value.strip() or None,
            "answers": answers,
            "at": self.now().isoformat(),
            "by": self.worker,
        }

    def _answer(self, item: FormField, text: str) -> Any:
        if item.type == "number":
            number = float(text)
            return int(number) if number.is_integer() else number
        if item.type == "date":
            return date.fromisoformat(text).isoformat()
        if item.type == "datetime":
            when = parse_when(text, self.now())
            if when is None:
                raise ValueError(text)
            return when
        return text

    def check(self, values: dict[str, Any]) -> dict[str, str]:
        errors = super().check(values)
        for error in check_result(self.campaign, values):
            errors.setdefault(error.field, field_error_text(self.t, error))
        return errors

    # ------------------------------------------------------------------ fields by name
    def field_id(self, name: str) -> str:
        if name.startswith(ANSWER_PREFIX):
            return "answer-" + name[len(ANSWER_PREFIX) :]
        return name

    def field_label(self, name: str) -> str:
        if name.startswith(ANSWER_PREFIX):
            item = self.campaign.form_field(name[len(ANSWER_PREFIX) :])
            return item.label if item is not None else name
        if name == "status":
            return self.t("campaign.status")
        return super().field_label(name)

    def _field_widget(self, name: str) -> Widget | None:
        if name.startswith(ANSWER_PREFIX):
            if self.campaign.form_field(name[len(ANSWER_PREFIX) :]) is None:
                return None
            found = self.query(f"#{self.field_id(name)}")
            return found.first() if found else None
        return super()._field_widget(name)


def _number_text(value: Any) -> str:
    if value is None:
        return ""
    number = float(value)
    return str(int(number)) if number.is_integer() else str(number)
