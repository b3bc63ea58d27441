"""Sync now (progress bar, phase log, readable errors) and open conflicts, resolved side by side in one step."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.markup import escape
from textual.message import Message
from textual.widgets import Button, DataTable, Log, ProgressBar, Static

from field_agent.domain.envelope import DELETED
from field_agent.domain.hlc import stamp_node
from field_agent.domain.printable import inert
from field_agent.domain.rights import may_resolve
from field_agent.sync.agent import SyncProgress, SyncResult
from field_agent.sync.refusals import describe_refusals
from field_agent.tui.app_base import field_app
from field_agent.tui.i18n import Translator
from field_agent.tui.queries.conflicts import explain_conflicts
from field_agent.tui.screens.base import SessionScreen
from field_agent.tui.session import Session
from field_agent.tui.sync_run import result_text
from field_agent.tui.timefmt import short_time
from field_agent.tui.widgets.form_dialog import domain_errors
from field_agent.tui.widgets.prompt import FieldsDialog


def shown_value(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, list | dict):
        return escape(str(value))
    return escape(str(value))


def progress_line(t: Translator, progress: SyncProgress) -> str:
    """One line of the sync log, said from the event's key and numbers in the active language (plain text)."""
    params = dict(progress.params)
    key = progress.key
    if key == "connect":
        text = t("sync.progress.connect", url=params.get("url", ""))
    elif key == "push_start":
        text = t.n("sync.progress.push_start", params["total"])
    elif key == "push_sent":
        text = t.n("sync.progress.push_sent", params["total"], done=params["done"])
    elif key == "pull_received":
        text = t.n("sync.progress.pull_received", params["count"])
    elif key == "retry":
        text = t(
            "sync.progress.retry",
            reason=_reason(t, params.get("kind"), params.get("error")),
            attempt=params["attempt"],
            seconds=params["seconds"],
        )
    elif key == "done":
        text = t("sync.progress.done", pushed=params["pushed"], pulled=params["pulled"])
        for part in ("conflicts", "refused", "erased"):
            if params.get(part):
                text += t.n(f"sync.progress.{part}", params[part])
        if params.get("stopped"):
            text += t("sync.progress.stopped")
    elif key == "failed":
        text = _reason(t, params.get("kind"), params.get("error"))
    else:  # an agent that gives no key: its own words
        text = progress.message
    return inert(f"{t.label('phase', progress.phase)}: {text}")


def _reason(t: Translator, kind: object, error: object) -> str:
    """Why a sync failed or waits, from the error's kind; the agent's own words only for a kind the catalog lacks."""
    key = f"sync.error.{kind}"
    return t(key) if t.has(key) else str(error or "")


def device_number(node: str) -> str:
    """Four digits that stand for a device's 12-hex-digit node id on screen (the same device, the same digits)."""
    try:
        return f"{int(node, 16) % 10_000:04d}"
    except ValueError:
        return "????"


def hidden(widget: Static) -> Static:
    """A line shown only when it has something to say."""
    widget.display = False
    return widget


class SyncScreen(SessionScreen):
    """s syncs now; in the conflicts list 1 keeps this side, 2 takes the other, 3 types the right value; k clears
    the list of changes the server refused once read."""

    NAV = "sync"
    BINDINGS = [
        Binding("s", "sync", "key.sync_now", id="sync.sync"),
        Binding("x", "stop", "key.stop", id="sync.stop"),
        Binding("1", "resolve('winner')", "sync.keep_current", id="sync.resolve.winner"),
        Binding("2", "resolve('loser')", "sync.keep_other", id="sync.resolve.loser"),
        Binding("3", "resolve_value", "sync.type_value", id="sync.resolve_value"),
        Binding("k", "clear_refusals", "sync.clear_refusals", id="sync.clear_refusals"),
    ]

    class StateLoaded(Message):
        def __init__(
            self, state: dict[str, Any], conflicts: list[dict[str, Any]], refusals: list[dict[str, Any]]
        ) -> None:
            super().__init__()
            self.state = state
            self.conflicts = conflicts
            self.refusals = refusals

    class RefusalsCleared(Message):
        """The refused changes a person has read were forgotten."""

    class ConflictResolved(Message):
        def __init__(self, record: dict[str, Any]) -> None:
            super().__init__()
            self.record = record

    def __init__(self) -> None:
        super().__init__()
        self.conflicts: list[dict[str, Any]] = []
        self.role = "worker"
        self.refusals: list[dict[str, Any]] = []

    def compose_body(self) -> ComposeResult:
        with Horizontal(id="sync-top"):
            with Vertical(id="sync-left"):
                yield Static("", id="sync-state")
                yield ProgressBar(id="sync-bar", show_eta=False)
                with Horizontal(classes="actions"):
                    yield Button(self.t("key.sync_now"), variant="primary", id="sync-now", action="screen.sync")
                    yield Button(self.t("key.stop"), id="sync-stop", action="screen.stop", disabled=True)
                yield Static("", id="sync-result")
                yield hidden(Static("", id="sync-refusals"))
            yield Log(id="sync-log", max_lines=200)
        yield Static(self.t("sync.conflicts"), id="conflicts-title")
        yield DataTable[str](id="conflicts", cursor_type="row")
        yield hidden(Static("", id="conflict-record"))
        with Horizontal(id="conflict-sides"):
            yield Static("", id="side-winner", classes="side")
            yield Static("", id="side-loser", classes="side")
        with Horizontal(classes="actions", id="conflict-actions"):
            yield Button(self.t("sync.keep_current"), action="screen.resolve('winner')")
            yield Button(self.t("sync.keep_other"), action="screen.resolve('loser')")
            yield Button(self.t("sync.type_value"), action="screen.resolve_value")
        yield hidden(Static("", id="conflict-rights"))

    def on_mount(self) -> None:
        self.query_one("#sync-bar", ProgressBar).update(total=1, progress=0)
        table = self.query_one("#conflicts", DataTable)
        for key in ("record", "field", "current", "other", "by", "when"):
            table.add_column(self.t(f"sync.col.{key}"), key=key)
        if field_app(self).sync_agent is not None:  # started here before the worker went to another screen
            self.show_running(clear=False)
        self.reload()

    def reload(self) -> None:
        self.load_state(self.session)

    @work(thread=True, exclusive=True, exit_on_error=False, group="load")
    def load_state(self, session: Session) -> None:
        state = session.sync_state()
        state["server"] = session.setting("server_url")
        conflicts = session.conflicts()
        store = session.store
        if conflicts:
            with session.reading() as model:
                conflicts = explain_conflicts(model, session.reader, conflicts, store.node_id if store else "")
        refusals = describe_refusals(store) if store is not None else []
        state["role"] = str(session.setting("role") or "worker")
        self.post_message(self.StateLoaded(state, conflicts, refusals))

    def on_sync_screen_state_loaded(self, message: SyncScreen.StateLoaded) -> None:
        t, state = self.t, message.state
        last = state.get("last_sync")
        self.query_one("#sync-state", Static).update(
            t(
                "sync.state",
                server=escape(state.get("server") or t("sync.no_server")),
                pending=state["pending"],
                last=short_time(last, self.zone) if last else t("today.never"),
                conflicts=state["conflicts"],
            )
        )
        last_result = state.get("last_result")
        if last_result and not self.query_one("#sync-result", Static).content:
            if last_result.get("error"):
                reason = escape(_reason(t, last_result.get("error_kind"), last_result["error"]))
                summary = t("sync.failed", reason=reason)
            else:
                summary = t("sync.last_ok", pushed=last_result.get("pushed", 0), pulled=last_result.get("pulled", 0))
            self.query_one("#sync-result", Static).update(summary)
        self.role = state["role"]
        self.conflicts = message.conflicts
        self.render_refusals(message.refusals)
        self.render_conflicts()

    def render_refusals(self, refusals: list[dict[str, Any]]) -> None:
        """Every change the server refused: whose record, which fields, and the server's reason."""
        self.refusals = refusals
        self.refresh_bindings()
        t, box = self.t, self.query_one("#sync-refusals", Static)
        lines = [t("sync.refusals_title", count=len(refusals))] if refusals else []
        for entry in refusals:
            fields = "、".join(t.label("field", name) for name in entry["fields"])
            reason = t(f"sync.refusal.{entry['code']}") if t.has(f"sync.refusal.{entry['code']}") else ""
            lines.append(
                t(
                    "sync.refusal",
                    record=escape(entry["name"] or t.label("kind", entry["kind"])),
                    fields=escape(fields),
                    reason=escape(reason or entry["reason"] or entry["code"]),
                )
            )
        box.update("\n".join(lines))
        box.display = bool(refusals)

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
                Text(entry.get("label") or t.label("kind", entry["kind"])),
                t.label("field", entry["field"]),
                shown_value(current)[:30],
                shown_value(other)[:30],
                Text("、".join(self.device_name(node, worker) for node, worker in entry.get("devices") or ())),
                short_time(entry.get("opened_at"), self.zone),
                key=entry["cid"] + "|" + entry["record"],
            )
        self.query_one("#conflicts-title", Static).update(t("sync.conflicts_count", count=len(self.conflicts)))
        self.show_sides()

    def device_name(self, node: str, worker: str | None) -> str:
        """Another device, by its worker's name where known; else by a four-digit number read off its node id,
        which a person can say and compare (``设备 4821``), never the hex id itself."""
        return self.t("sync.device_of", worker=worker) if worker else self.t("sync.device_id", node=device_number(node))

    def current_conflict(self) -> dict[str, Any] | None:
        table = self.query_one("#conflicts", DataTable)
        if not table.row_count or table.cursor_row >= len(self.conflicts):
            return None
        return self.conflicts[table.cursor_row]

    @on(DataTable.RowHighlighted, "#conflicts")
    def show_sides(self) -> None:
        t, entry = self.t, self.current_conflict()
        label = self.query_one("#conflict-record", Static)
        label.update(escape(entry.get("label") or t.label("kind", entry["kind"])) if entry else "")
        label.display = entry is not None
        winner, loser = self.query_one("#side-winner", Static), self.query_one("#side-loser", Static)
        rights = self.query_one("#conflict-rights", Static)
        if entry is None:
            winner.update("")
            loser.update("")
            rights.update("")
            rights.display = False
            return
        allowed = self.may_resolve(entry)
        for button in self.query("#conflict-actions Button").results(Button):
            button.disabled = not allowed
        rights.update("" if allowed else self.rights_reason(entry))
        rights.display = not allowed
        self.refresh_bindings()
        if entry["type"] == "value":
            for widget, side in ((winner, "winner"), (loser, "loser")):
                node = stamp_node(entry[side]["stamp"])
                worker = dict(entry.get("devices") or ()).get(node)
                if entry.get("mine") == side:
                    whose = t("sync.this_device")
                elif (node, worker) in (entry.get("devices") or ()):
                    whose = escape(self.device_name(node, worker))
                else:
                    whose = t("sync.other_device")
                widget.update(
                    f"[b]{t(f'sync.side.{side}')}[/b] ({whose})\n{shown_value(entry[side]['value'])}\n"
                    f"{short_time(entry[side].get('at'), self.zone)}"
                )
        else:
            winner.update(f"[b]{t('sync.deleted')}[/b]\n{short_time(entry.get('deleted_at'), self.zone)}")
            edits = ", ".join(
                f"{t.label('field', k)}={shown_value(v.get('value'))}" for k, v in entry["edited"].items()
            )
            loser.update(f"[b]{t('sync.edited')}[/b]\n{edits}")

    # ------------------------------------------------------------------ sync
    def action_sync(self) -> None:
        if field_app(self).start_sync():
            self.show_running(clear=True)

    def action_stop(self) -> None:
        field_app(self).stop_sync()

    def show_running(self, *, clear: bool) -> None:
        """The buttons and the result line of a running sync (started here, or before the worker came back)."""
        self.query_one("#sync-now", Button).disabled = True
        self.query_one("#sync-stop", Button).disabled = False
        if clear:
            self.query_one("#sync-log", Log).clear()
        self.query_one("#sync-bar", ProgressBar).update(total=None, progress=0)
        self.query_one("#sync-result", Static).update(self.t("sync.running"))

    def sync_progressed(self, progress: SyncProgress) -> None:
        """A step of the running sync (``tui.sync_run.SyncWatcher``)."""
        total = progress.total
        bar = self.query_one("#sync-bar", ProgressBar)
        if progress.phase == "done":
            bar.update(total=1, progress=1)
        elif total:
            bar.update(total=total, progress=progress.done)
        self.query_one("#sync-log", Log).write_line(progress_line(self.t, progress))

    def sync_finished(self, result: SyncResult) -> None:
        """The running sync ended (``tui.sync_run.SyncWatcher``)."""
        self.query_one("#sync-now", Button).disabled = False
        self.query_one("#sync-stop", Button).disabled = True
        self.query_one("#sync-result", Static).update(result_text(self.t, result))
        self.reload()

    def action_clear_refusals(self) -> None:
        """k: the worker has read the refused changes (already undone here): forget them."""
        if self.refusals:
            self.clear_refusals(self.session, [entry["id"] for entry in self.refusals])

    @work(thread=True, exclusive=True, exit_on_error=False, group="refusals")
    def clear_refusals(self, session: Session, entry_ids: list[str]) -> None:
        store = session.store
        if store is not None:
            with store.batch():
                for entry_id in entry_ids:
                    store.sync.discard_refused(entry_id)
        self.post_message(self.RefusalsCleared())

    def on_sync_screen_refusals_cleared(self) -> None:
        self.reload()

    # ------------------------------------------------------------------ conflicts
    def may_resolve(self, entry: dict[str, Any]) -> bool:
        """Whether the town server accepts this device's resolution of ``entry`` (``domain.rights``)."""
        field = DELETED if entry["type"] != "value" else entry["field"]
        return may_resolve(self.role, entry["kind"], field)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """The resolve keys show as disabled in the footer for a conflict the server would refuse from this role."""
        if action in ("resolve", "resolve_value"):
            entry = self.current_conflict() if self.query("#conflicts") else None
            if entry is not None and not self.may_resolve(entry):
                return None
        if action == "clear_refusals":
            return bool(self.refusals)
        return True

    def refuse_resolving(self, entry: dict[str, Any]) -> bool:
        """Say why this device may not resolve ``entry``, and return True, when the server would refuse it."""
        if self.may_resolve(entry):
            return False
        self.notify(self.rights_reason(entry), severity="warning")
        return True

    def rights_reason(self, entry: dict[str, Any]) -> str:
        return self.t("sync.leader_only", field=self.t.label("field", entry["field"]))

    def action_resolve(self, side: str) -> None:
        entry = self.current_conflict()
        if entry is None or self.refuse_resolving(entry):
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
        """3: type the right value; checked with the record's rules (as the edit forms are) before it is saved,
        and the dialog stays open on a problem."""
        entry = self.current_conflict()
        if entry is None or entry["type"] != "value" or self.refuse_resolving(entry):
            return
        t, session = self.t, self.session
        field, current = entry["field"], entry["winner"]["value"]

        def typed(values: dict[str, Any]) -> Any:
            text = values[field]
            if isinstance(current, int | float) and not isinstance(current, bool):
                return type(current)(text)  # ValueError: not a number
            return text

        def check(values: dict[str, Any]) -> dict[str, str]:
            try:
                value = typed(values)
            except ValueError:
                return {field: t("sync.bad_value")}
            errors = domain_errors(t, entry["kind"], {field: value}, roles=self.session.roles)
            return {name: message for name, message in errors.items() if name == field}

        def save(values: dict[str, Any]) -> dict[str, Any]:
            return session.resolve_conflict(entry["record"], entry["cid"], "value", typed(values))

        dialog = FieldsDialog(
            t("sync.type_title", field=t.label("field", field)),
            [(field, t.label("field", field), "" if current is None else str(current), True)],
            t("key.save"),
            t("key.cancel"),
            t("dialog.required"),
            save=save,
            check=check,
        )

        def answered(record: dict[str, Any] | None) -> None:
            if record is not None:
                self.on_sync_screen_conflict_resolved(self.ConflictResolved(record))

        self.app.push_screen(dialog, answered)

    @work(thread=True, exclusive=True, exit_on_error=False, group="resolve")
    def resolve(self, session: Session, entry: dict[str, Any], choice: str, value: Any) -> None:
        record = session.resolve_conflict(entry["record"], entry["cid"], choice, value)
        self.post_message(self.ConflictResolved(record))

    def on_sync_screen_conflict_resolved(self, message: SyncScreen.ConflictResolved) -> None:
        self.notify(self.t("sync.resolved"))
        self.reload()
