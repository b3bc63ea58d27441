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
from field_agent.tui.widgets.columns import fill_table
from field_agent.tui.widgets.confirm import ConfirmDialog
from field_agent.tui.widgets.nav import WIDE_FROM
from field_agent.tui.widgets.prompt import FieldsDialog

REASON_NEEDED = ("missed", "refused", "exempt")


class SamplingScreen(SessionScreen):
    """s sampled, m missed, r refused, x exempt (with a reason), t schedule, l nobody-left-out list, n new round."""

    NAV = "sampling"
    BINDINGS = [
        Binding("s", "mark('sampled')", "sampling.sampled", id="sampling.mark.sampled"),
        Binding("m", "mark('missed')", "sampling.missed", id="sampling.mark.missed"),
        Binding("r", "mark('refused')", "sampling.refused", id="sampling.mark.refused"),
        Binding("x", "mark('exempt')", "sampling.exempt", id="sampling.mark.exempt"),
        Binding("t", "schedule", "key.schedule", id="sampling.schedule"),
        Binding("l", "toggle_left_out", "key.left_out", id="sampling.toggle_left_out"),
        Binding("n", "new_round", "key.new_round", id="sampling.new_round"),
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

    COLUMNS = ("building", "name", "status", "schedule", "reasons", "address")
    """Who, whether sampled, when and by which team first; the address (its building is in the first column) gives
    way at 80 columns."""

    def on_mount(self) -> None:
        self.query_one("#sampling-table", DataTable).focus()
        self.reload()

    def on_resize(self) -> None:
        self.render_table()

    def reload(self) -> None:
        self.load(self.session)

    @work(thread=True, exclusive=True, exit_on_error=False, group="load")
    def load(self, session: Session) -> None:
        with session.reading() as model:
            result = coverage(model, session.today, session.eligibility)
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
        width = table.size.width or self.size.width
        today_year = f"{self.session.today.year}-"
        rows: list[tuple[str, list[str | Text]]] = []
        previous_building = None
        for row in self.shown:
            sampling = row.sampling or {}
            when = short_time(sampling.get("scheduled_at"), self.zone)
            if width < WIDE_FROM and when[:5] == today_year:
                when = when[5:]  # 11-30 13:53: the year goes at 80 columns, the time and the team stay
            schedule = " ".join(filter(None, [when, sampling.get("team")]))
            cells: dict[str, str | Text] = {
                "building": Text(row.building if row.building != previous_building else ""),
                "name": Text(row.resident.get("name") or ""),
                "status": t.label("sampling", row.status) if row.status else t("sampling.none"),
                "schedule": Text(schedule),
                "reasons": " ".join(t.label("group", g) for g in row.groups),
                "address": Text(row.address),
            }
            rows.append((row.resident["id"], [cells[key] for key in self.COLUMNS]))
            previous_building = row.building
        if width < WIDE_FROM:
            # The building has its own column: the rest of the address (unit, room) is what tells doors apart.
            for (_, shown_cells), row in zip(rows, self.shown, strict=True):
                shown_cells[-1] = Text(after_building(row.address, row.building))
        headers = [(key, t(f"sampling.col.{key}")) for key in self.COLUMNS]
        fill_table(table, headers, rows, "address", width)

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


def after_building(address: str, building: str) -> str:
    """``融侨花园1号楼1单元101室`` with building ``1号楼``: ``1单元101室`` (the address as is without the building)."""
    if building and building in address:
        rest = address.split(building, 1)[1].strip(" ,，")
        return rest or address
    return address
