"""Households: instant search as you type, filters, and the list that opens a household or starts a visit."""

from __future__ import annotations

from rich.cells import cell_len
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.message import Message
from textual.widgets import Button, Input, Select, Static

from field_agent.domain.enums import VISIT_OUTCOMES
from field_agent.tui.model import GridModel
from field_agent.tui.queries.households import FILTERS, HouseholdRow, buildings, list_households
from field_agent.tui.screens.base import SessionScreen
from field_agent.tui.session import Session
from field_agent.tui.widgets.household_list import HouseholdList, widest


class HouseholdsScreen(SessionScreen):
    """Type an address, a name, pinyin initials (``zs`` finds 张三) or a phone tail; Enter opens, v visits."""

    NAV = "households"
    BINDINGS = [
        Binding("ctrl+f", "focus_search", "key.search", id="households.focus_search"),
        Binding("v", "visit", "key.visit", id="households.visit"),
        Binding("ctrl+r", "cycle_filter", "key.filter", id="households.cycle_filter"),
        Binding("down", "focus_results", "key.results", show=False, id="households.focus_results"),
    ]

    class Searched(Message):
        def __init__(
            self, serial: int, rows: list[HouseholdRow], total: int, buildings: list[str], widths: list[int]
        ) -> None:
            super().__init__()
            self.serial = serial
            self.rows = rows
            self.total = total
            self.buildings = buildings
            self.widths = widths

    def __init__(self) -> None:
        super().__init__()
        self.filter_name = "all"
        self.building: str | None = None
        self.serial = 0
        self.shown_serial = -1
        self.shown_rows: list[HouseholdRow] | None = None
        self.label_widths: list[int] = []  # residents, flags, last visit: set with the labels, in compose_body

    def compose_body(self) -> ComposeResult:
        yield Input(placeholder=self.t("households.search"), id="search")
        with Horizontal(id="filters"):
            for name in FILTERS:
                yield Button(self.t(f"filter.{name}"), id=f"filter-{name}", compact=True)
            yield Select[str]([], prompt=self.t("households.building"), id="building", compact=True)
        yield Static("", id="households-count")
        columns = ("address", "head", "residents", "flags", "last_visit")
        yield HouseholdList([self.t(f"households.col.{key}") for key in columns], id="households")
        t = self.t
        # The widest a row can show: up to 999 residents, every flag, the longest outcome (after a 10-cell date).
        flags = cell_len(" ".join(t(f"households.flag.{name}") for name in ("special", "isolation", "unchecked")))
        self.label_widths = [3, flags, 11 + widest(t.label("outcome", outcome) for outcome in VISIT_OUTCOMES)]

    def on_mount(self) -> None:
        self.query_one("#filter-all", Button).add_class("-active")
        self.query_one("#search", Input).focus()
        self.refresh_list()

    def reload(self) -> None:
        self.refresh_list()

    def refresh_list(self) -> None:
        self.serial += 1
        query = self.query_one("#search", Input).value
        self.search(self.session, self.serial, query, self.filter_name, self.building)

    @work(thread=True, exclusive=True, exit_on_error=False, group="search")
    def search(self, session: Session, serial: int, query: str, filter_name: str, building: str | None) -> None:
        matches = session.search_household_ids(query)
        with session.reading() as model:
            rows, total = list_households(model, session.today, matches, filter_name, building)
            names = buildings(model)
            widths = self.column_widths(model)
        self.post_message(self.Searched(serial, rows, total, names, widths))

    def column_widths(self, model: GridModel) -> list[int]:
        """Each column's width over every household of the grid, not the matches: columns stay put while typing."""
        address, head = model.across_households("household list widths", _address_and_head_widths)
        return [address, head, *self.label_widths]

    def on_households_screen_searched(self, message: HouseholdsScreen.Searched) -> None:
        if message.serial != self.serial:
            return  # a newer keystroke's search is on its way: drawing this one would only delay it
        self.shown_serial = message.serial
        t = self.t
        select = self.query_one("#building", Select)
        options = [(name, name) for name in message.buildings]
        if [value for _, value in options] != getattr(self, "_building_options", None):
            self._building_options = [value for _, value in options]
            with select.prevent(Select.Changed):
                select.set_options(options)
                if self.building in self._building_options:
                    select.value = self.building
        found = self.query_one("#households", HouseholdList)
        found.set_widths(message.widths)  # changes only with the data (a household added or edited, a sync)
        if message.rows != self.shown_rows:
            # Only when the rows changed (typing "1号" -> "1号楼" often keeps them); the list redraws its visible lines.
            self.shown_rows = message.rows
            found.show([(row.id, self.cells(row)) for row in message.rows])
        shown = len(message.rows)
        count = self.query_one("#households-count", Static)
        count.update(t("households.count", shown=shown, total=message.total), layout=False)  # one line, fixed

    def cells(self, row: HouseholdRow) -> list[Text]:
        """One table row; ``Text`` cells, so an address or name is shown as typed and never parsed as markup."""
        t = self.t
        flags = []
        if row.special:
            flags.append(t("households.flag.special"))
        if row.isolation:
            flags.append(t("households.flag.isolation"))
        if not row.checked_round:
            flags.append(t("households.flag.unchecked"))
        last = f"{row.last_visit} {t.label('outcome', row.last_outcome)}" if row.last_outcome else "—"
        return [Text(row.address), Text(row.head), Text(str(row.residents)), Text(" ".join(flags)), Text(last)]

    @on(Input.Changed, "#search")
    def _query_changed(self) -> None:
        self.refresh_list()

    @on(Input.Submitted, "#search")
    def _query_submitted(self) -> None:
        found = self.query_one("#households", HouseholdList)
        if found.row_count:
            found.focus()

    @on(Button.Pressed, "#filters Button")
    def _filter_pressed(self, event: Button.Pressed) -> None:
        self.set_filter((event.button.id or "filter-all").removeprefix("filter-"))

    @on(Select.Changed, "#building")
    def _building_changed(self, event: Select.Changed) -> None:
        self.building = None if event.value is Select.BLANK else str(event.value)
        self.refresh_list()

    def set_filter(self, name: str) -> None:
        self.filter_name = name
        for other in FILTERS:
            self.query_one(f"#filter-{other}", Button).set_class(other == name, "-active")
        self.refresh_list()

    def action_cycle_filter(self) -> None:
        self.set_filter(FILTERS[(FILTERS.index(self.filter_name) + 1) % len(FILTERS)])

    def action_focus_search(self) -> None:
        self.query_one("#search", Input).focus()

    def action_focus_results(self) -> None:
        """Down from the search box (or a filter): into the results, on their highlighted row."""
        found = self.query_one("#households", HouseholdList)
        if found.row_count:
            found.focus()

    def selected_household(self) -> str | None:
        return self.query_one("#households", HouseholdList).highlighted_id

    @on(HouseholdList.Selected, "#households")
    def _row_selected(self) -> None:
        self.action_open()

    def action_open(self) -> None:
        from field_agent.tui.screens.household import HouseholdScreen

        household_id = self.selected_household()
        if household_id:
            self.app.push_screen(HouseholdScreen(household_id))

    def action_visit(self) -> None:
        from field_agent.tui.screens.visit import VisitScreen

        household_id = self.selected_household()
        if household_id:
            self.app.push_screen(VisitScreen(household_id))

    def on_screen_resume(self) -> None:
        if self.shown_serial >= 0:
            self.refresh_list()


def _address_and_head_widths(model: GridModel) -> tuple[int, int]:
    """The widest address and head of household of the grid, in cells (remembered until a household changes)."""
    households = model.of_kind("household").values()
    return widest(model.short_address(h) for h in households), widest(h.get("head") or "" for h in households)
