"""Home sampling for the special groups: eligible residents by building, marks, coverage, nobody left out."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.markup import escape
from textual.message import Message
from textual.widgets import Button, DataTable, ProgressBar, Static

from field_agent.tui.app_base import field_app
from field_agent.tui.i18n import Translator
from field_agent.tui.queries.sampling import Coverage, SamplingRow, coverage
from field_agent.tui.queries.times import parse_when
from field_agent.tui.screens.base import SessionScreen
from field_agent.tui.session import Session
from field_agent.tui.timefmt import short_time
from field_agent.tui.undo import restore_values
from field_agent.tui.widgets.confirm import ConfirmDialog
from field_agent.tui.widgets.prompt import FieldsDialog

REASON_NEEDED = ("missed", "refused", "exempt")


class SamplingScreen(SessionScreen):
    """s sampled, m missed, r refused, x exempt (with a reason), t schedule, l nobody-left-out list, n new round."""

    NAV = "sampling"
    BINDINGS = [
        Binding("s", "mark('sampled')", "sampling.sampled"),
        Binding("m", "mark('missed')", "sampling.missed"),
        Binding("r", "mark('refused')", "sampling.refused"),
        Binding("x", "mark('exempt')", "sampling.exempt"),
        Binding("t", "schedule", "key.schedule"),
        Binding("l", "toggle_left_out", "key.left_out"),
        Binding("n", "new_round", "key.new_round"),
    ]

    class Loaded(Message):
        def __init__(self, coverage: Coverage) -> None:
            super().__init__()
            self.coverage = coverage

    class SamplingMarked(Message):
        """A resident's entry in the round was saved with one key; ``before``: the entry before (None: new)."""

        def __init__(self, sampling: dict[str, Any], before: dict[str, Any] | None) -> None:
            super().__init__()
            self.sampling = sampling
            self.before = before

    class RoundStarted(Message):
        def __init__(self, round_: dict[str, Any]) -> None:
            super().__init__()
            self.round = round_

    def __init__(self) -> None:
        super().__init__()
        self.left_out_only = False
        self.coverage: Coverage | None = None
        self.shown: list[SamplingRow] = []

    def compose_body(self) -> ComposeResult:
        yield Static("", id="sampling-round")
        with Horizontal(id="coverage"):
            yield ProgressBar(id="coverage-bar", show_eta=False)
            yield Static("", id="coverage-text")
        yield DataTable[str](id="sampling-table", cursor_type="row", zebra_stripes=True)
        with Horizontal(classes="actions"):
            for status in ("sampled", "missed", "refused", "exempt"):
                yield Button(
                    self.t(f"sampling.{status}"),
                    action=f"screen.mark('{status}')",
                    variant="success" if status == "sampled" else "default",
                )
            yield Button(self.t("key.schedule"), action="screen.schedule")
            yield Button(self.t("key.left_out"), action="screen.toggle_left_out", id="left-out-button")
            yield Button(self.t("key.new_round"), action="screen.new_round")

    def on_mount(self) -> None:
        table = self.query_one("#sampling-table", DataTable)
        for key in ("building", "name", "address", "reasons", "status", "schedule"):
            table.add_column(self.t(f"sampling.col.{key}"), key=key)
        table.focus()
        self.reload()

    def reload(self) -> None:
        self.load(self.session)

    @work(thread=True, exclusive=True, exit_on_error=False, group="load")
    def load(self, session: Session) -> None:
        with session.reading() as model:
            result = coverage(model, session.today)
        self.post_message(self.Loaded(result))

    def on_sampling_screen_loaded(self, message: SamplingScreen.Loaded) -> None:
        self.coverage = message.coverage
        self.render_table()

    def render_table(self) -> None:
        cover, t = self.coverage, self.t
        if cover is None:
            return
        if cover.round is None:
            self.query_one("#sampling-round", Static).update(t("sampling.no_round"))
        else:
            self.query_one("#sampling-round", Static).update(
                t(
                    "sampling.round",
                    name=escape(cover.round.get("name") or ""),
                    started=short_time(cover.round.get("started_at"), self.zone),
                )
            )
        self.query_one("#coverage-bar", ProgressBar).update(total=max(cover.eligible, 1), progress=cover.done)
        self.query_one("#coverage-text", Static).update(
            t("sampling.coverage", done=cover.done, eligible=cover.eligible, missing=len(cover.left_out))
        )
        self.shown = cover.left_out if self.left_out_only else cover.rows
        self.query_one("#left-out-button", Button).set_class(self.left_out_only, "-active")
        table = self.query_one("#sampling-table", DataTable)
        cursor = table.cursor_row
        table.clear()
        previous_building = None
        for row in self.shown:
            sampling = row.sampling or {}
            schedule = " ".join(
                filter(None, [short_time(sampling.get("scheduled_at"), self.zone), sampling.get("team")])
            )
            table.add_row(
                Text(row.building if row.building != previous_building else ""),
                Text(row.resident.get("name") or ""),
                Text(row.address),
                " ".join(t.label("group", g) for g in row.groups),
                t.label("sampling", row.status) if row.status else t("sampling.none"),
                schedule,
                key=row.resident["id"],
            )
            previous_building = row.building
        if table.row_count:
            table.move_cursor(row=min(max(cursor, 0), table.row_count - 1))

    def current_row(self) -> SamplingRow | None:
        table = self.query_one("#sampling-table", DataTable)
        if not table.row_count or table.cursor_row >= len(self.shown):
            return None
        return self.shown[table.cursor_row]

    def action_toggle_left_out(self) -> None:
        self.left_out_only = not self.left_out_only
        self.render_table()

    def _need_round(self) -> bool:
        if self.coverage is None or self.coverage.round is None:
            self.notify(self.t("sampling.no_round"), severity="warning")
            return True
        return False

    def action_mark(self, status: str) -> None:
        row = self.current_row()
        if row is None or self._need_round():
            return
        if status not in REASON_NEEDED:
            self.write(self.session, self.round_id(), row, {"status": status})
            return
        t, session, round_id = self.t, self.session, self.round_id()
        dialog = FieldsDialog(
            t("sampling.reason_title", status=t.label("sampling", status), name=row.resident.get("name") or ""),
            [("reason", t("field.reason"), "", status != "missed")],
            t("key.save"),
            t("key.cancel"),
            t("dialog.required"),
            save=lambda values: save_sampling(session, round_id, row, {"status": status, "reason": values["reason"]}),
        )
        self.app.push_screen(dialog, self._dialog_saved)

    def action_schedule(self) -> None:
        row = self.current_row()
        if row is None or self._need_round():
            return
        t, sampling, session, round_id = self.t, row.sampling or {}, self.session, self.round_id()
        now = field_app(self).now

        def check(values: dict[str, Any]) -> dict[str, str]:
            return {} if parse_when(values["when"], now()) is not None else {"when": t("sampling.bad_time")}

        def save(values: dict[str, Any]) -> dict[str, Any]:
            status = row.status if row.status in ("sampled", "exempt") else "scheduled"
            when = parse_when(values["when"], now())
            return save_sampling(
                session, round_id, row, {"status": status, "scheduled_at": when, "team": values["team"]}
            )

        dialog = FieldsDialog(
            t("sampling.schedule_title", name=row.resident.get("name") or ""),
            [("when", t("field.scheduled_at"), "", True), ("team", t("field.team"), sampling.get("team") or "", False)],
            t("key.save"),
            t("key.cancel"),
            t("dialog.required"),
            save=save,
            check=check,
        )
        self.app.push_screen(dialog, self._dialog_saved)

    def _dialog_saved(self, saved: dict[str, Any] | None) -> None:
        if saved is not None:
            self.notify(self.t("sampling.marked", status=self.t.label("sampling", saved.get("status"))))
            self.reload()

    def round_id(self) -> str | None:
        return self.coverage.round["id"] if self.coverage and self.coverage.round else None

    @work(thread=True, exclusive=False, exit_on_error=False, group="save")
    def write(self, session: Session, round_id: str | None, row: SamplingRow, changes: dict[str, Any]) -> None:
        saved = save_sampling(session, round_id, row, changes)
        self.post_message(self.SamplingMarked(saved, row.sampling))

    def on_sampling_screen_sampling_marked(self, message: SamplingScreen.SamplingMarked) -> None:
        """A one-key mark: said in a toast that offers to undo it."""
        saved, t = message.sampling, self.t
        what = t("undo.what", what=t.label("sampling", saved.get("status")), name=escape(self.name_of(saved)))
        saved_text = t("sampling.marked", status=what)
        field_app(self).offer_undo(saved_text, what, restore_values("sampling", message.before, saved))
        self.reload()

    def name_of(self, sampling: dict[str, Any]) -> str:
        rows = self.coverage.rows if self.coverage else []
        resident = next((r.resident for r in rows if r.resident["id"] == sampling.get("resident")), {})
        return str(resident.get("name") or "")

    def action_new_round(self) -> None:
        t = self.t
        question = t("sampling.new_round_question")
        if self.coverage is not None and self.coverage.left_out:
            question += "\n" + t.n("sampling.new_round_left_out", len(self.coverage.left_out))

        def answered(yes: bool | None) -> None:
            if yes:
                self.start_round(self.session, self.coverage.round if self.coverage else None, self.t)

        self.app.push_screen(ConfirmDialog(question, t("key.new_round"), t("key.cancel")), answered)

    @work(thread=True, exclusive=True, exit_on_error=False, group="save")
    def start_round(self, session: Session, current: dict[str, Any] | None, t: Translator) -> None:
        with session.reading() as model:
            number = len(model.of_kind("sampling_round")) + 1
        name = t("sampling.round_name", number=number, date=session.today.isoformat())
        writes: list[tuple[str, Mapping[str, Any], str | None]] = []
        if current is not None:
            writes.append(("sampling_round", {"status": "closed"}, current["id"]))
        writes.append(
            ("sampling_round", {"name": name, "started_at": session.now().isoformat(), "status": "open"}, None)
        )
        saved = session.save_many(writes)
        self.post_message(self.RoundStarted(saved[-1]))

    def on_sampling_screen_round_started(self, message: SamplingScreen.RoundStarted) -> None:
        self.notify(self.t("sampling.round_started", name=message.round.get("name") or ""))
        self.reload()


def save_sampling(session: Session, round_id: str | None, row: SamplingRow, changes: dict[str, Any]) -> dict[str, Any]:
    """Save a resident's entry in the round (blocking): the existing one changed, or a new one."""
    values: dict[str, Any] = {
        "round": round_id,
        "resident": row.resident["id"],
        "household": row.resident.get("household"),
        **changes,
    }
    if changes.get("status") == "sampled":
        values.update(sampled_at=session.now().isoformat(), by=session.worker)
    record_id = row.sampling["id"] if row.sampling else None
    return session.save("sampling", values, record_id=record_id)
