"""The six ledgers: pick one, preview its rows (personal data masked), export to .xlsx or .csv; the grid leader
also imports a roster from here (``i``, ``screens/roster_import.py``)."""

from __future__ import annotations

from pathlib import Path

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.message import Message
from textual.widgets import Button, DataTable, Input, Select, Static

from field_agent.ledgers.builder import Ledger, build_ledger
from field_agent.ledgers.definitions import load_definitions
from field_agent.ledgers.writers import default_file_name, write_ledger
from field_agent.tui.screens.base import SessionScreen
from field_agent.tui.screens.roster_import import FOLDER_SETTING, ImportRosterScreen, start_folder
from field_agent.tui.session import Session

PREVIEW_ROWS = 200


class LedgersScreen(SessionScreen):
    """Choose a ledger to preview it; ctrl+e exports it to the file named below; i imports a roster (the leader)."""

    NAV = "ledgers"
    BINDINGS = [
        Binding("ctrl+e", "export", "key.export", priority=True, id="ledgers.export"),
        Binding("i", "import_roster", "key.import_roster", id="ledgers.import_roster"),
    ]

    class Built(Message):
        def __init__(self, ledger: Ledger) -> None:
            super().__init__()
            self.ledger = ledger

    class Exported(Message):
        def __init__(self, path: Path, rows: int) -> None:
            super().__init__()
            self.path = path
            self.rows = rows

    class ImportAsked(Message):
        def __init__(self, leader: bool, folder: Path) -> None:
            super().__init__()
            self.leader = leader
            self.folder = folder

    def __init__(self) -> None:
        super().__init__()
        self.definitions = load_definitions()
        self._suggested: str | None = None
        """The export path this screen last suggested (replaced with the next ledger's until the worker edits it)."""

    def compose_body(self) -> ComposeResult:
        english = self.t.language == "en"
        options = [(d.title_en if english else d.title_zh, name) for name, d in self.definitions.items()]
        with Horizontal(id="ledger-bar"):
            yield Select(options, id="ledger", allow_blank=False, value=options[0][1], compact=True)
            yield Input(id="export-path", compact=True)
            yield Button(self.t("key.export"), id="export", action="screen.export", compact=True)
            yield Button(self.t("key.import_roster"), id="import-roster", action="screen.import_roster", compact=True)
        yield Static("", id="ledger-status")
        yield DataTable[str](id="ledger-table", zebra_stripes=True)

    def on_mount(self) -> None:
        self._default_path()
        self.build(self.session, str(self.query_one("#ledger", Select).value))

    def _default_path(self, ledger: Ledger | None = None) -> None:
        """Name the file as every export does (``东门社区第1网格-常住人口台账-2026-12-05.xlsx``), in the folder of the
        last suggestion; a path the worker typed is left alone."""
        box = self.query_one("#export-path", Input)
        suggested = self._suggested
        if box.value and box.value != suggested:
            return
        if suggested is None:
            folder = Path.home()
        else:  # before the first ledger is built the suggestion is the folder alone (``/home/x/``)
            folder = Path(suggested) if suggested.endswith("/") else Path(suggested).parent
        box.value = self._suggested = str(folder / default_file_name(ledger)) if ledger else str(folder) + "/"

    @on(Select.Changed, "#ledger")
    def _ledger_changed(self, event: Select.Changed) -> None:
        self._default_path()
        self.build(self.session, str(event.value))

    @work(thread=True, exclusive=True, exit_on_error=False, group="ledger")
    def build(self, session: Session, name: str) -> None:
        if session.store is None:
            return
        ledger = build_ledger(name, session.reader, today=session.today, masked=True, rule=session.eligibility)
        self.post_message(self.Built(ledger))

    def on_ledgers_screen_built(self, message: LedgersScreen.Built) -> None:
        ledger = message.ledger
        self._default_path(ledger)
        english = self.t.language == "en"
        table = self.query_one("#ledger-table", DataTable)
        table.clear(columns=True)
        for column in ledger.columns:
            table.add_column(column.en if english else column.zh)
        for row in ledger.text_rows()[:PREVIEW_ROWS]:  # dates, times and percentages as the .csv shows them
            table.add_row(*(Text(cell) for cell in row))
        self.query_one("#ledger-status", Static).update(
            self.t("ledgers.status", rows=len(ledger.rows), shown=min(len(ledger.rows), PREVIEW_ROWS))
        )

    def action_export(self) -> None:
        path = Path(self.query_one("#export-path", Input).value.strip()).expanduser()
        self.export(self.session, str(self.query_one("#ledger", Select).value), path)

    @work(thread=True, exclusive=True, exit_on_error=False, group="export")
    def export(self, session: Session, name: str, path: Path) -> None:
        if session.store is None:
            return
        ledger = build_ledger(name, session.reader, today=session.today, masked=True, rule=session.eligibility)
        write_ledger(ledger, path)
        self.post_message(self.Exported(path, len(ledger.rows)))

    def on_ledgers_screen_exported(self, message: LedgersScreen.Exported) -> None:
        self.notify(self.t("ledgers.exported", rows=message.rows, path=str(message.path)))
        self.query_one("#ledger-status", Static).update(
            self.t("ledgers.exported", rows=message.rows, path=str(message.path))
        )

    # ------------------------------------------------------------------ roster import (the grid leader)
    def action_import_roster(self) -> None:
        self.ask_import(self.session)

    @work(thread=True, exclusive=True, exit_on_error=False, group="import-rights")
    def ask_import(self, session: Session) -> None:
        """Whether this device may import (the grid leader's), and where the file picker starts."""
        if session.store is None:
            return
        self.post_message(self.ImportAsked(session.is_leader, start_folder(session.setting(FOLDER_SETTING))))

    def on_ledgers_screen_import_asked(self, message: LedgersScreen.ImportAsked) -> None:
        if not message.leader:
            self.notify(self.t("import.leader_only"), severity="warning", timeout=10)
            return
        self.app.push_screen(ImportRosterScreen(message.folder), self._import_closed)

    def _import_closed(self, _result: object) -> None:
        """Back from an import: the preview shows the new residents."""
        self.build(self.session, str(self.query_one("#ledger", Select).value))
