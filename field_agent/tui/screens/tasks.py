"""Role tasks: the six roles (or eight groups in wartime) as a board; the leader assigns and switches mode."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.markup import escape
from textual.message import Message
from textual.widgets import Button, DataTable, Static

from field_agent.domain.membership import member_ended
from field_agent.domain.roles import DEFAULT_ROLE_CONFIG, ModeSwitch, RoleConfig, switch_mode
from field_agent.domain.roles import Label as RoleLabel
from field_agent.domain.sorting import natural_key
from field_agent.tui.screens.base import SessionScreen
from field_agent.tui.session import Session
from field_agent.tui.widgets.columns import fill_table
from field_agent.tui.widgets.confirm import ConfirmDialog
from field_agent.tui.widgets.prompt import FieldsDialog
from field_agent.tui.widgets.task_form import TaskForm


def member_label(t: Any, member: Mapping[str, Any], today: date | None) -> str:
    """A member's name as the board lists it (markup escaped); a temporary member's with their last day, or as
    ended once it has passed (``domain.membership``)."""
    name = escape(member.get("name") or "")
    if member.get("temporary") is None:
        return name
    kind = escape(t.label("temporary", member["temporary"]))
    if today is not None and member_ended(member, today):
        return name + t("tasks.member_ended", kind=kind)
    return name + t("tasks.member_until", kind=kind, until=escape(str(member.get("until") or "")))


@dataclass(frozen=True)
class Board:
    grid: dict[str, Any]
    tasks: list[dict[str, Any]]
    leader: bool
    worker: str
    today: date | None = None
    roles: RoleConfig = DEFAULT_ROLE_CONFIG  # the town configuration's in force (Session.roles)

    @property
    def wartime(self) -> bool:
        return self.grid.get("mode") == "wartime"


class TasksScreen(SessionScreen):
    """d done (with notes), g in progress; the leader: n new task, w switch normal/wartime."""

    NAV = "tasks"
    BINDINGS = [
        Binding("d", "complete", "key.complete", id="tasks.complete"),
        Binding("g", "start", "key.start_task", id="tasks.start"),
        Binding("n", "new_task", "key.new_task", id="tasks.new_task"),
        Binding("w", "switch_mode", "key.switch_mode", id="tasks.switch_mode"),
    ]

    class Loaded(Message):
        def __init__(self, board: Board) -> None:
            super().__init__()
            self.board = board

    class TaskSaved(Message):
        def __init__(self, task: dict[str, Any]) -> None:
            super().__init__()
            self.task = task

    class ModeSwitched(Message):
        def __init__(self, mode: str) -> None:
            super().__init__()
            self.mode = mode

    def __init__(self) -> None:
        super().__init__()
        self.board: Board | None = None
        self.rows: list[dict[str, Any]] = []

    def compose_body(self) -> ComposeResult:
        yield Static("", id="tasks-mode")
        yield Static("", id="tasks-members")
        yield DataTable[str](id="tasks-table", cursor_type="row", zebra_stripes=True)
        with Horizontal(classes="actions"):
            yield Button(self.t("key.complete"), variant="success", action="screen.complete")
            yield Button(self.t("key.start_task"), action="screen.start")
            yield Button(self.t("key.new_task"), action="screen.new_task", classes="leader-only")
            yield Button(
                self.t("key.switch_mode"), action="screen.switch_mode", classes="leader-only", variant="warning"
            )

    COLUMNS = ("slot", "title", "status", "due", "assignee", "kind")
    """Status and due date right after the title, which gives way at 80 columns: they decide the work."""

    def on_mount(self) -> None:
        self.query_one("#tasks-table", DataTable).focus()
        self.reload()

    def on_resize(self) -> None:
        self.render_rows()

    def reload(self) -> None:
        self.load(self.session)

    @work(thread=True, exclusive=True, exit_on_error=False, group="load")
    def load(self, session: Session) -> None:
        with session.reading() as model:
            grid = dict(model.grid or {})
            tasks = list(model.of_kind("task").values())
        board = Board(grid, tasks, session.is_leader, session.worker, session.today, session.roles)
        self.post_message(self.Loaded(board))

    def slots(self, board: Board) -> tuple[Any, ...]:
        return board.roles.groups if board.wartime else board.roles.roles

    def on_tasks_screen_loaded(self, message: TasksScreen.Loaded) -> None:
        t, board = self.t, message.board
        self.board = board
        language = t.language
        self.query_one("#tasks-mode", Static).update(t(f"tasks.mode.{'wartime' if board.wartime else 'normal'}"))
        self.query_one("#tasks-mode", Static).set_class(board.wartime, "-wartime")
        slot_field = "group" if board.wartime else "role"
        members = board.grid.get("members") or []
        summary = []
        for slot in self.slots(board):
            names = [member_label(t, m, board.today) for m in members if m.get(slot_field) == slot.key]
            summary.append(f"[b]{slot.name(language)}[/b] {'、'.join(names) or '—'}")
        self.query_one("#tasks-members", Static).update("  ".join(summary))
        for button in self.query(".leader-only").results(Button):
            button.display = board.leader
        order = {slot.key: i for i, slot in enumerate(self.slots(board))}
        status_order = {"in_progress": 0, "open": 1, "done": 2, "cancelled": 3}
        self.rows = sorted(
            board.tasks,
            key=lambda task: (
                order.get(task.get(slot_field) or "", 99),
                status_order.get(task.get("status") or "", 9),
                task.get("due") or "",
                natural_key(task.get("title")),
            ),
        )
        self.render_rows()

    def render_rows(self) -> None:
        board, t = self.board, self.t
        if board is None:
            return
        language = t.language
        slot_field = "group" if board.wartime else "role"
        rows: list[tuple[str, list[str | Text]]] = []
        previous = None
        for task in self.rows:
            slot_key = task.get(slot_field) or ""
            label = next((s.name(language) for s in self.slots(board) if s.key == slot_key), slot_key or "—")
            coverage = task.get("coverage") or []
            title = task.get("title") or ""
            if coverage:
                title += " " + t("tasks.covered", buildings="、".join(coverage))
            cells: dict[str, str | Text] = {
                "slot": label if slot_key != previous else "",
                "title": Text(title),
                "status": t.label("task_status", task.get("status")),
                "due": task.get("due") or "",
                "assignee": Text(task.get("assignee") or "—"),
                "kind": t.label("task_kind", task.get("task_kind")),
            }
            rows.append((task["id"], [cells[key] for key in self.COLUMNS]))
            previous = slot_key
        table = self.query_one("#tasks-table", DataTable)
        headers = [(key, t(f"tasks.col.{key}")) for key in self.COLUMNS]
        fill_table(table, headers, rows, "title", table.size.width or self.size.width)

    def current_task(self) -> dict[str, Any] | None:
        table = self.query_one("#tasks-table", DataTable)
        if not table.row_count or table.cursor_row >= len(self.rows):
            return None
        return self.rows[table.cursor_row]

    def action_start(self) -> None:
        task = self.current_task()
        if task is not None and task.get("status") == "open":
            self.write(self.session, task["id"], {"status": "in_progress"}, None)

    def action_complete(self) -> None:
        task = self.current_task()
        if task is None or task.get("status") in ("done", "cancelled"):
            return
        t = self.t
        fields = [("notes", t("field.notes"), task.get("notes") or "", False)]
        if task.get("task_kind") == "publicity":
            fields.append(("coverage", t("tasks.coverage_prompt"), "", False))
        session = self.session

        def save(values: dict[str, Any]) -> dict[str, Any]:
            buildings = [b.strip() for b in values.get("coverage", "").replace("，", ",").split(",") if b.strip()]
            coverage = {b: True for b in buildings} or None
            return save_task(session, task["id"], {"status": "done", "notes": values["notes"]}, coverage)

        dialog = FieldsDialog(
            t("tasks.complete_title", title=task.get("title") or ""),
            fields,
            t("key.complete"),
            t("key.cancel"),
            save=save,
        )
        self.app.push_screen(dialog, self._task_answered)

    def _task_answered(self, saved: dict[str, Any] | None) -> None:
        if saved is not None:
            self.task_saved(saved)

    def action_new_task(self) -> None:
        board = self.board
        if board is None:
            return
        if not board.leader:
            self.notify(self.t("tasks.leader_only"), severity="warning")
            return
        members = [m.get("name") for m in board.grid.get("members") or [] if m.get("name")]

        session = self.session
        form = TaskForm(
            board.wartime,
            self.slots(board),
            members,
            session.today,
            save=lambda values: save_task(session, None, values, None),
        )
        self.app.push_screen(form, self._task_answered)

    @work(thread=True, exclusive=False, exit_on_error=False, group="save")
    def write(
        self, session: Session, task_id: str | None, values: dict[str, Any], coverage: dict[str, bool] | None
    ) -> None:
        self.post_message(self.TaskSaved(save_task(session, task_id, values, coverage)))

    def on_tasks_screen_task_saved(self, message: TasksScreen.TaskSaved) -> None:
        self.task_saved(message.task)

    def task_saved(self, task: dict[str, Any]) -> None:
        self.notify(self.t("tasks.saved", status=self.t.label("task_status", task.get("status"))))
        self.reload()

    def action_switch_mode(self) -> None:
        board, t = self.board, self.t
        if board is None:
            return
        if not board.leader:
            self.notify(t("tasks.leader_only"), severity="warning")
            return
        new_mode = "normal" if board.wartime else "wartime"
        change = switch_mode(board.grid, board.tasks, new_mode, board.roles)

        def answered(yes: bool | None) -> None:
            if yes:
                self.apply_switch(self.session, change)

        self.app.push_screen(
            ConfirmDialog(self.describe_switch(change), t("tasks.switch_yes"), t("key.cancel")), answered
        )

    def describe_switch(self, change: ModeSwitch) -> str:
        t, language = self.t, self.t.language
        lines = [t(f"tasks.switch_to.{change.to_mode}")]
        for move in change.moves:
            lines.append(
                f"• {escape(move['name'])}: {label_name(move.get('from_label'), language)} → "
                f"{label_name(move.get('to_label'), language)}"
            )
        lines.append(t.n("tasks.switch_tasks", len(change.task_values)))
        return "\n".join(lines)

    @work(thread=True, exclusive=True, exit_on_error=False, group="save")
    def apply_switch(self, session: Session, change: ModeSwitch) -> None:
        writes: list[tuple[str, Mapping[str, Any], str | None]] = [("grid", change.grid_values, change.grid_id)]
        writes += [("task", values, task_id) for task_id, values in change.task_values.items()]
        session.save_many(writes)
        self.post_message(self.ModeSwitched(change.to_mode))

    def on_tasks_screen_mode_switched(self, message: TasksScreen.ModeSwitched) -> None:
        self.notify(self.t(f"tasks.switched.{message.mode}"))
        self.reload()


def save_task(
    session: Session, task_id: str | None, values: dict[str, Any], coverage: dict[str, bool] | None
) -> dict[str, Any]:
    """Save a task (blocking); ``coverage`` adds buildings to its set of buildings covered."""
    return session.save("task", values, record_id=task_id, set_changes={"coverage": coverage} if coverage else None)


def label_name(label: RoleLabel | None, language: str) -> str:
    """The name of a role or group, or a dash."""
    return label.name(language) if label is not None else "—"
