"""Import a roster (the grid leader, from the Ledgers screen): pick an .xlsx or .csv file, see what it holds row by
row, confirm, and it is imported into the session's store in one durable batch (as ``field-agent import``)."""

from __future__ import annotations

import os
from pathlib import Path

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widgets import Button, ContentSwitcher, DataTable, DirectoryTree, Input, Static

from field_agent.tui.errors import describe_error
from field_agent.tui.roster_import import (
    ROSTER_SUFFIXES,
    RosterReport,
    commit,
    preview,
    problem_text,
    row_problem_cells,
    row_problem_line,
    summary_text,
)
from field_agent.tui.screens.base import SessionScreen
from field_agent.tui.session import Session
from field_agent.tui.widgets.columns import fill_table
from field_agent.tui.widgets.file_picker import FileTree, PathInput

FOLDER_SETTING = "roster_folder"
"""The store setting that remembers the folder of the last roster checked: the picker starts there next time."""
COMMIT_KEY = "ctrl+s"


def start_folder(saved: object) -> Path:
    """Where the picker opens: the folder last used, if it is still there, else the home folder."""
    for candidate in (saved, Path.home()):
        if candidate and Path(str(candidate)).is_dir():
            return Path(str(candidate))
    return Path.cwd()


class ImportRosterScreen(SessionScreen):
    """Enter (or a file picked in the tree) checks the file; ctrl+s imports what the check showed; escape goes
    back to the file, then to the ledgers."""

    NAV = "ledgers"
    AUTO_FOCUS = "#roster-path"
    BINDINGS = [
        Binding("escape", "back", "key.back", id="import.back"),
        Binding(COMMIT_KEY, "commit", "key.import_now", priority=True, id="import.commit"),
    ]

    class Previewed(Message):
        def __init__(self, report: RosterReport, note: str = "") -> None:
            super().__init__()
            self.report = report
            self.note = note

    class Imported(Message):
        def __init__(self, report: RosterReport) -> None:
            super().__init__()
            self.report = report

    class Failed(Message):
        def __init__(self, text: str) -> None:
            super().__init__()
            self.text = text

    def __init__(self, folder: Path) -> None:
        super().__init__()
        self.folder = folder
        self.report: RosterReport | None = None
        self.busy = False

    def compose_body(self) -> ComposeResult:
        t = self.t
        yield Static(t("import.title"), id="import-title")
        yield PathInput(
            os.path.join(self.folder, ""),
            ROSTER_SUFFIXES,
            self.folder,
            placeholder=t("import.path"),
            id="roster-path",
            compact=True,
        )
        with ContentSwitcher(initial="roster-tree", id="import-body"):
            yield FileTree(self.folder, ROSTER_SUFFIXES, id="roster-tree")
            with Vertical(id="roster-report"):
                yield Static("", id="import-summary")
                yield DataTable[str | Text](id="import-problems", cursor_type="row", zebra_stripes=True)
                yield Static("", id="import-problem")
        yield Static("", id="import-status")
        with Horizontal(classes="actions"):
            yield Button(t("import.check"), id="import-check")
            yield Button("", variant="primary", id="import-commit")
            yield Button(t("import.repick"), id="import-repick")

    def on_mount(self) -> None:
        self.show_picker()

    # ------------------------------------------------------------------ picking
    def show_picker(self) -> None:
        self.report = None
        self.query_one("#import-body", ContentSwitcher).current = "roster-tree"
        self.query_one("#import-check", Button).display = True
        self.query_one("#import-commit", Button).display = False
        self.query_one("#import-repick", Button).display = False
        self.query_one("#roster-path", Input).focus()
        self.refresh_bindings()

    @on(Input.Submitted, "#roster-path")
    @on(Button.Pressed, "#import-check")
    def _check_typed(self) -> None:
        field = self.query_one("#roster-path", PathInput)
        if not field.value.strip():
            return
        path = field.path
        if path.is_dir():  # a folder: the tree shows it
            field.base = path
            tree = self.query_one("#roster-tree", FileTree)
            tree.path = path
            tree.focus()
            return
        self.check(path)

    @on(DirectoryTree.FileSelected, "#roster-tree")
    def _file_picked(self, event: DirectoryTree.FileSelected) -> None:
        self.query_one("#roster-path", Input).value = str(event.path)
        self.check(event.path)

    @on(DirectoryTree.DirectorySelected, "#roster-tree")
    def _folder_picked(self, event: DirectoryTree.DirectorySelected) -> None:
        self.query_one("#roster-path", Input).value = os.path.join(event.path, "")

    @on(FileTree.Moved, "#roster-tree")
    def _tree_moved(self, event: FileTree.Moved) -> None:
        field = self.query_one("#roster-path", PathInput)
        field.base = event.folder
        field.value = os.path.join(event.folder, "")

    def check(self, path: Path) -> None:
        if self.busy:
            return
        self.set_busy(True, self.t("import.reading", name=path.name))
        self.run_preview(self.session, path)

    @work(thread=True, exclusive=True, exit_on_error=False, group="roster-preview")
    def run_preview(self, session: Session, path: Path) -> None:
        store = session.store
        if store is None:
            return
        try:
            report = preview(store, path)
            session.set_setting(FOLDER_SETTING, str(path.parent))
        except Exception as error:  # every failure is said on the screen, in words
            self.post_message(self.Failed(self.failure(error)))
            return
        self.post_message(self.Previewed(report))

    def failure(self, error: BaseException) -> str:
        return problem_text(error, self.t) or describe_error(self.t, error)

    def set_busy(self, busy: bool, status: str = "") -> None:
        self.busy = busy
        self.query_one("#import-status", Static).update(status)
        self.query_one("#import-status", Static).remove_class("-error")
        for button in self.query(".actions Button").results(Button):
            button.disabled = busy
        self.refresh_bindings()

    def on_import_roster_screen_failed(self, message: ImportRosterScreen.Failed) -> None:
        self.set_busy(False)
        status = self.query_one("#import-status", Static)
        status.update(Text(message.text))
        status.add_class("-error")
        self.app.bell()

    # ------------------------------------------------------------------ the report
    def on_import_roster_screen_previewed(self, message: ImportRosterScreen.Previewed) -> None:
        t, report = self.t, message.report
        self.set_busy(False, message.note)
        self.report = report
        self.query_one("#import-body", ContentSwitcher).current = "roster-report"
        self.query_one("#import-summary", Static).update(Text(summary_text(report, t)))
        self.show_problems(report)
        self.query_one("#import-check", Button).display = False
        commit_button = self.query_one("#import-commit", Button)
        key = "import.commit_good" if report.bad_rows else "import.commit"
        commit_button.label = t("dialog.save_key", label=t(key, rows=report.good_rows))
        commit_button.display = True
        commit_button.disabled = not report.good_rows
        self.query_one("#import-repick", Button).display = True
        if not report.good_rows:
            self.query_one("#import-status", Static).update(t("import.nothing"))
        table = self.query_one("#import-problems", DataTable)
        (table if report.problems else commit_button).focus()
        self.refresh_bindings()

    def show_problems(self, report: RosterReport) -> None:
        t = self.t
        table = self.query_one("#import-problems", DataTable)
        table.display = bool(report.problems)
        self.query_one("#import-problem", Static).display = bool(report.problems)
        cells = [row_problem_cells(error, t) for error in report.problems]
        columns = [
            ("line", t("import.col.line")),
            ("column", t("import.col.column")),
            ("reason", t("import.col.reason")),
        ]
        if any(sheet for sheet, *_ in cells):
            columns.insert(0, ("sheet", t("import.col.sheet")))
            rows = [(str(i), [Text(c) for c in cell]) for i, cell in enumerate(cells)]
        else:
            rows = [(str(i), [Text(c) for c in cell[1:]]) for i, cell in enumerate(cells)]
        fill_table(table, columns, rows, "reason", table.size.width or self.size.width)
        self._show_problem(0)

    @on(DataTable.RowHighlighted, "#import-problems")
    def _problem_highlighted(self, event: DataTable.RowHighlighted) -> None:
        self._show_problem(event.cursor_row)

    def _show_problem(self, index: int) -> None:
        """The highlighted problem in full, under the table (its reason column is cut at 80 columns)."""
        problems = self.report.problems if self.report else ()
        shown = row_problem_line(problems[index], self.t) if 0 <= index < len(problems) else ""
        self.query_one("#import-problem", Static).update(Text(shown))

    @on(Button.Pressed, "#import-repick")
    def _repick(self) -> None:
        if not self.busy:
            self.set_busy(False)
            self.show_picker()

    # ------------------------------------------------------------------ importing
    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """ctrl+s shows once a file has been checked, dimmed while nothing of it can be imported."""
        if action == "commit":
            if self.report is None:
                return False
            return True if self.report.good_rows and not self.busy else None
        return True

    @on(Button.Pressed, "#import-commit")
    def action_commit(self) -> None:
        report = self.report
        if report is None or self.busy or not report.good_rows:
            return
        self.set_busy(True, self.t("import.importing", name=report.path.name))
        self.run_commit(self.session, report.path, skip_invalid=bool(report.bad_rows))

    @work(thread=True, exclusive=True, exit_on_error=False, group="save")
    def run_commit(self, session: Session, path: Path, *, skip_invalid: bool) -> None:
        """In the group the app waits for before it locks: an import is a save."""
        store = session.store
        if store is None:
            return
        try:
            if not session.is_leader:
                self.post_message(self.Failed(self.t("import.leader_only")))
                return
            report = commit(store, path, skip_invalid=skip_invalid)
            if report.imported:
                session.load()  # the read model takes in the new households and residents
        except Exception as error:
            self.post_message(self.Failed(self.failure(error)))
            return
        if report.imported:
            self.post_message(self.Imported(report))
        else:  # the file changed since it was checked, and now has bad rows: nothing was imported
            self.post_message(self.Previewed(report, self.t("import.changed")))

    def on_import_roster_screen_imported(self, message: ImportRosterScreen.Imported) -> None:
        self.busy = False
        self.notify(summary_text(message.report, self.t), title=self.t("import.done"), timeout=12)
        self.dismiss(None)

    def action_back(self) -> None:
        if self.busy:
            return
        if self.report is not None:
            self.set_busy(False)
            self.show_picker()
            return
        self.app.pop_screen()
