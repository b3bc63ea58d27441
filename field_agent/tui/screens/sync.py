"""Sync now (progress bar, phase log, readable errors) and open conflicts, resolved side by side in one step."""

from __future__ import annotations

import asyncio
from typing import Any

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.markup import escape
from textual.message import Message
from textual.widgets import Button, DataTable, Log, ProgressBar, Static

from field_agent.domain.printable import inert
from field_agent.sync.agent import SyncAgent, SyncProgress, SyncResult
from field_agent.tui.app_base import field_app
from field_agent.tui.screens.base import SessionScreen
from field_agent.tui.session import Session
from field_agent.tui.timefmt import short_time
from field_agent.tui.widgets.prompt import FieldsDialog


def shown_value(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, list | dict):
        return escape(str(value))
    return escape(str(value))


class SyncScreen(SessionScreen):
    """s syncs now; in the conflicts list 1 keeps this side, 2 takes the other, 3 types the right value."""

    NAV = "sync"
    BINDINGS = [
        Binding("s", "sync", "key.sync_now", id="sync.sync"),
        Binding("x", "stop", "key.stop", id="sync.stop"),
        Binding("1", "resolve('winner')", "sync.keep_current", id="sync.resolve.winner"),
        Binding("2", "resolve('loser')", "sync.keep_other", id="sync.resolve.loser"),
        Binding("3", "resolve_value", "sync.type_value", id="sync.resolve_value"),
    ]

    class StateLoaded(Message):
        def __init__(self, state: dict[str, Any], conflicts: list[dict[str, Any]]) -> None:
            super().__init__()
            self.state = state
            self.conflicts = conflicts

    class SyncProgressed(Message):
        def __init__(self, progress: SyncProgress) -> None:
            super().__init__()
            self.progress = progress

    class SyncFinished(Message):
        def __init__(self, result: SyncResult) -> None:
            super().__init__()
            self.result = result

    class ConflictResolved(Message):
        def __init__(self, record: dict[str, Any]) -> None:
            super().__init__()
            self.record = record

    def __init__(self) -> None:
        super().__init__()
        self.agent: SyncAgent | None = None
        self.conflicts: list[dict[str, Any]] = []

    def compose_body(self) -> ComposeResult:
        with Horizontal(id="sync-top"):
            with Vertical(id="sync-left"):
                yield Static("", id="sync-state")
                yield ProgressBar(id="sync-bar", show_eta=False)
                with Horizontal(classes="actions"):
                    yield Button(self.t("key.sync_now"), variant="primary", id="sync-now", action="screen.sync")
                    yield Button(self.t("key.stop"), id="sync-stop", action="screen.stop", disabled=True)
                yield Static("", id="sync-result")
            yield Log(id="sync-log", max_lines=200)
        yield Static(self.t("sync.conflicts"), id="conflicts-title")
        yield DataTable[str](id="conflicts", cursor_type="row")
        with Horizontal(id="conflict-sides"):
            yield Static("", id="side-winner", classes="side")
            yield Static("", id="side-loser", classes="side")
        with Horizontal(classes="actions", id="conflict-actions"):
            yield Button(self.t("sync.keep_current"), action="screen.resolve('winner')")
            yield Button(self.t("sync.keep_other"), action="screen.resolve('loser')")
            yield Button(self.t("sync.type_value"), action="screen.resolve_value")

    def on_mount(self) -> None:
        self.query_one("#sync-bar", ProgressBar).update(total=1, progress=0)
        table = self.query_one("#conflicts", DataTable)
        for key in ("record", "field", "current", "other", "when"):
            table.add_column(self.t(f"sync.col.{key}"), key=key)
        self.reload()

    def reload(self) -> None:
        self.load_state(self.session)

    @work(thread=True, exclusive=True, exit_on_error=False, group="load")
    def load_state(self, session: Session) -> None:
        state = session.sync_state()
        state["server"] = session.setting("server_url")
        self.post_message(self.StateLoaded(state, session.conflicts()))

    def on_sync_screen_state_loaded(self, message: SyncScreen.StateLoaded) -> None:
        t, state = self.t, message.state
        last = state.get("last_sync")
        self.query_one("#sync-state", Static).update(
            t(
                "sync.state",
                server=escape(state.get("server") or t("sync.no_server")),
                pending=state["pending"],
                last=short_time(last) if last else t("today.never"),
                conflicts=state["conflicts"],
            )
        )
        last_result = state.get("last_result")
        if last_result and not self.query_one("#sync-result", Static).content:
            if last_result.get("error"):
                summary = t("sync.failed", reason=escape(str(last_result["error"])))
            else:
                summary = t("sync.last_ok", pushed=last_result.get("pushed", 0), pulled=last_result.get("pulled", 0))
            self.query_one("#sync-result", Static).update(summary)
        self.conflicts = message.conflicts
        self.render_conflicts()

    def render_conflicts(self) -> None:
        t = self.t
        table = self.query_one("#conflicts", DataTable)
        table.clear()
        for entry in self.conflicts:
            if entry["type"] == "value":
                current, other = entry["winner"]["value"], entry["loser"]["value"]
            else:
                current, other = t("sync.deleted"), t("sync.edited")
            table.add_row(
                t.label("kind", entry["kind"]),
                t.label("field", entry["field"]),
                shown_value(current)[:30],
                shown_value(other)[:30],
                short_time(entry.get("opened_at")),
                key=entry["cid"] + "|" + entry["record"],
            )
        self.query_one("#conflicts-title", Static).update(t("sync.conflicts_count", count=len(self.conflicts)))
        self.show_sides()

    def current_conflict(self) -> dict[str, Any] | None:
        table = self.query_one("#conflicts", DataTable)
        if not table.row_count or table.cursor_row >= len(self.conflicts):
            return None
        return self.conflicts[table.cursor_row]

    @on(DataTable.RowHighlighted, "#conflicts")
    def show_sides(self) -> None:
        t, entry = self.t, self.current_conflict()
        winner, loser = self.query_one("#side-winner", Static), self.query_one("#side-loser", Static)
        if entry is None:
            winner.update("")
            loser.update("")
            return
        if entry["type"] == "value":
            for widget, side in ((winner, "winner"), (loser, "loser")):
                whose = t("sync.this_device") if entry.get("mine") == side else t("sync.other_device")
                widget.update(
                    f"[b]{t(f'sync.side.{side}')}[/b] ({whose})\n{shown_value(entry[side]['value'])}\n"
                    f"{short_time(entry[side].get('at'))}"
                )
        else:
            winner.update(f"[b]{t('sync.deleted')}[/b]\n{short_time(entry.get('deleted_at'))}")
            edits = ", ".join(
                f"{t.label('field', k)}={shown_value(v.get('value'))}" for k, v in entry["edited"].items()
            )
            loser.update(f"[b]{t('sync.edited')}[/b]\n{edits}")

    # ------------------------------------------------------------------ sync
    def action_sync(self) -> None:
        if self.agent is not None:
            return
        session = self.session
        if session.store is None:
            return
        factory = field_app(self).agent_factory or SyncAgent
        self.agent = factory(session.store)
        self.query_one("#sync-now", Button).disabled = True
        self.query_one("#sync-stop", Button).disabled = False
        self.query_one("#sync-log", Log).clear()
        self.query_one("#sync-bar", ProgressBar).update(total=None, progress=0)
        self.query_one("#sync-result", Static).update(self.t("sync.running"))
        self.run_sync(self.agent, session)

    def action_stop(self) -> None:
        if self.agent is not None:
            self.agent.request_stop()

    @work(exclusive=True, exit_on_error=False, group="sync")
    async def run_sync(self, agent: SyncAgent, session: Session) -> None:

        def progressed(progress: SyncProgress) -> None:
            self.post_message(self.SyncProgressed(progress))

        result = await agent.sync(on_progress=progressed)
        await asyncio.to_thread(session.load)
        self.post_message(self.SyncFinished(result))

    def on_sync_screen_sync_progressed(self, message: SyncScreen.SyncProgressed) -> None:
        progress, t = message.progress, self.t
        total = progress.total
        bar = self.query_one("#sync-bar", ProgressBar)
        if progress.phase == "done":
            bar.update(total=1, progress=1)
        elif total:
            bar.update(total=total, progress=progress.done)
        self.query_one("#sync-log", Log).write_line(f"{t.label('phase', progress.phase)}: {inert(progress.message)}")

    def on_sync_screen_sync_finished(self, message: SyncScreen.SyncFinished) -> None:
        result, t = message.result, self.t
        self.agent = None
        self.query_one("#sync-now", Button).disabled = False
        self.query_one("#sync-stop", Button).disabled = True
        if result.error:
            text = t(f"sync.error.{result.error_kind}") if t.has(f"sync.error.{result.error_kind}") else ""
            text = t("sync.failed", reason=text or escape(inert(result.error)))
            if text and result.error_kind not in ("offline",):
                text += f"\n[dim]{escape(inert(result.error))}[/dim]"
        else:
            text = t(
                "sync.done",
                pushed=result.pushed,
                pulled=result.pulled,
                conflicts=result.conflicts,
                seconds=f"{result.duration_s:.1f}",
            )
            if result.refused:
                text += "\n" + t("sync.refused", count=result.refused)
        self.query_one("#sync-result", Static).update(text)
        self.reload()

    # ------------------------------------------------------------------ conflicts
    def action_resolve(self, side: str) -> None:
        entry = self.current_conflict()
        if entry is None:
            return
        if entry["type"] == "value":
            self.resolve(self.session, entry, "value", entry[side]["value"])
            return
        # "winner" keeps the record deleted; choose the side of whoever did that.
        deleted_here = entry.get("mine") == "deleted"
        keep_deleted = side == "winner"
        choice = "mine" if keep_deleted == deleted_here else "theirs"
        self.resolve(self.session, entry, choice, None)

    def action_resolve_value(self) -> None:
        entry = self.current_conflict()
        if entry is None or entry["type"] != "value":
            return
        t = self.t
        current = entry["winner"]["value"]
        dialog = FieldsDialog(
            t("sync.type_title", field=t.label("field", entry["field"])),
            [("value", t.label("field", entry["field"]), "" if current is None else str(current), True)],
            t("key.save"),
            t("key.cancel"),
            t("dialog.required"),
        )

        def answered(values: dict[str, str] | None) -> None:
            if values is not None:
                typed: Any = values["value"]
                if isinstance(current, int | float) and not isinstance(current, bool):
                    try:
                        typed = type(current)(typed)
                    except ValueError:
                        self.notify(t("sync.bad_value"), severity="error")
                        return
                self.resolve(self.session, entry, "value", typed)

        self.app.push_screen(dialog, answered)

    @work(thread=True, exclusive=True, exit_on_error=False, group="resolve")
    def resolve(self, session: Session, entry: dict[str, Any], choice: str, value: Any) -> None:
        record = session.resolve_conflict(entry["record"], entry["cid"], choice, value)
        self.post_message(self.ConflictResolved(record))

    def on_sync_screen_conflict_resolved(self, message: SyncScreen.ConflictResolved) -> None:
        self.notify(self.t("sync.resolved"))
        self.reload()
