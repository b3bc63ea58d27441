"""A lean, line-drawn list of households: a new search swaps its rows and redraws only the visible lines."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from rich.cells import cell_len, set_cell_size
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual import events
from textual.binding import Binding
from textual.geometry import Region, Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

PADDING = 1  # blank cells on each side of every column, as a DataTable draws them
MAX_WIDTH = 32
"""No column is wider than this many cells (16 Chinese characters): one odd, long value is cut, not every row pushed."""


def widest(values: Iterable[str]) -> int:
    """The width in terminal cells of the widest of ``values``, measured with ``cell_len`` only where it can matter.

    A cheap bound first: a character of n UTF-8 bytes takes at most 1 + (n - 1) / 2 cells (the double-width ones
    start at U+1100, three bytes), exact for ASCII and Chinese. Then ``cell_len`` from the highest bound down, until
    no value left can be wider (for a grid's addresses: a handful of calls instead of one per household).
    """
    by_bound: dict[int, list[str]] = {}
    for value in values:
        length = len(value)
        by_bound.setdefault(length + (len(value.encode("utf-8", "surrogatepass")) - length) // 2, []).append(value)
    best = 0
    for bound in sorted(by_bound, reverse=True):
        if bound <= best:
            break
        for value in by_bound[bound]:
            best = max(best, cell_len(value))
            if best == bound:
                break
    return best


def fit(text: str, width: int) -> str:
    """``text`` cut or padded to exactly ``width`` terminal cells (an ellipsis marks a cut)."""
    length = cell_len(text)
    if length <= width:
        return text + " " * (width - length)
    if width < 1:
        return ""
    # The ellipsis right after the last character kept (a wide one that does not fit whole leaves a blank after it).
    kept = set_cell_size(text, width - 1).rstrip()
    return kept + "…" + " " * (width - 1 - cell_len(kept))


class HouseholdList(ScrollView, can_focus=True):
    """Households as rows of columns under a fixed header, with a row cursor; Enter or a tap on it selects.

    Columns are as wide as ``set_widths`` says (the widest value in the whole data set a search runs over, at least
    the header, at most ``MAX_WIDTH``), not as the rows shown: they stay put from one keystroke's results to the next.
    A longer value is cut with an ellipsis.
    """

    COMPONENT_CLASSES = {
        "household-list--header",
        "household-list--even-row",
        "household-list--cursor",
        "household-list--hover",
    }
    DEFAULT_CSS = """
    HouseholdList {
        background: $surface;
        color: $foreground;
        height: 1fr;
        &:focus {
            background-tint: $foreground 5%;
            & > .household-list--cursor {
                background: $block-cursor-background;
                color: $block-cursor-foreground;
                text-style: $block-cursor-text-style;
            }
            & > .household-list--header {
                background-tint: $foreground 5%;
            }
        }
        & > .household-list--header {
            text-style: bold;
            background: $panel;
            color: $foreground;
        }
        &:ansi > .household-list--header {
            background: ansi_bright_blue;
            color: ansi_default;
        }
        & > .household-list--even-row {
            background: $surface-lighten-1 50%;
        }
        &:dark > .household-list--even-row {
            background: $surface-darken-1 40%;
        }
        & > .household-list--cursor {
            background: $block-cursor-blurred-background;
            color: $block-cursor-blurred-foreground;
            text-style: $block-cursor-blurred-text-style;
        }
        & > .household-list--hover {
            background: $block-hover-background;
        }
    }
    """
    BINDINGS = [
        Binding("enter", "select", "Select", show=False),
        Binding("up", "cursor_up", "Up", show=False),
        Binding("down", "cursor_down", "Down", show=False),
        Binding("pageup", "page_up", "Page up", show=False),
        Binding("pagedown", "page_down", "Page down", show=False),
        Binding("home", "first", "First", show=False),
        Binding("end", "last", "Last", show=False),
    ]

    cursor: reactive[int] = reactive(0, always_update=True)
    """Index of the highlighted row."""

    class Selected(Message):
        """A household was chosen with Enter or a tap on the highlighted row."""

        def __init__(self, household_list: HouseholdList, household_id: str) -> None:
            super().__init__()
            self.household_list = household_list
            self.household_id = household_id

        @property
        def control(self) -> HouseholdList:
            return self.household_list

    def __init__(self, labels: Sequence[str], *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.labels = list(labels)
        self.rows: list[tuple[str, list[Text]]] = []
        self._wanted = [0] * len(self.labels)
        self._widths = [cell_len(label) for label in self.labels]
        self._header = ""
        self._lines: list[str] = []
        self._hover: int | None = None
        self._styles: dict[str, Style] = {}
        self._prepare()

    # ------------------------------------------------------------------ data

    def set_widths(self, widths: Sequence[int]) -> None:
        """Each column's width in cells, from all the data the list may show; a change redraws, the rows stay put."""
        wanted = list(widths)
        if wanted == self._wanted:
            return  # the usual case: the same data set, searched again
        self._wanted = wanted
        self._prepare()
        self._resize()
        self.refresh()

    def show(self, rows: Sequence[tuple[str, Sequence[Text]]]) -> None:
        """Swap in new rows (household id and its cells): the lines are prepared here, once, as plain text."""
        self.rows = [(key, list(cells)) for key, cells in rows]
        self._prepare()
        self.set_reactive(HouseholdList.cursor, 0)
        self._hover = None
        self._resize()
        self.scroll_to(0, 0, animate=False, immediate=True)
        self.refresh()

    @property
    def column_widths(self) -> list[int]:
        """The columns' widths as drawn, in cells, without their padding."""
        return list(self._widths)

    @property
    def row_count(self) -> int:
        return len(self.rows)

    @property
    def highlighted_id(self) -> str | None:
        """The household under the cursor, if any."""
        return self.rows[self.cursor][0] if self.rows else None

    def _resize(self) -> None:
        size = Size(sum(self._widths) + 2 * PADDING * len(self._widths), len(self._lines) + 1)
        if size != self.virtual_size:
            # Not a layout of the whole screen: only the scrollbars follow (a layout if one appears or goes).
            self.set_reactive(HouseholdList.virtual_size, size)
            self._scroll_update(size)

    def _prepare(self) -> None:
        plain = [[cell.plain for cell in cells] for _, cells in self.rows]
        widths = [
            min(MAX_WIDTH, max(cell_len(label), wanted))
            for label, wanted in zip(self.labels, self._wanted, strict=True)
        ]
        self._widths = widths
        pad = " " * PADDING
        self._header = "".join(pad + fit(label, width) + pad for label, width in zip(self.labels, widths, strict=True))
        self._lines = ["".join(pad + fit(v, w) + pad for v, w in zip(cells, widths, strict=True)) for cells in plain]

    # ------------------------------------------------------------------ drawing

    def render_lines(self, crop: Region) -> list[Strip]:
        # The row styles, looked up once per redraw rather than once per line.
        base = self.rich_style
        self._styles = {"base": base, "header": self.get_component_rich_style("household-list--header")}
        for name in ("cursor", "hover", "even-row"):
            self._styles[name] = base + self.get_component_rich_style(f"household-list--{name}")
        return super().render_lines(crop)

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        scroll_x, scroll_y = self.scroll_offset
        styles = self._styles or {name: self.rich_style for name in ("base", "header", "cursor", "hover", "even-row")}
        if y == 0:
            return self._strip(self._header, styles["header"], scroll_x, width)
        index = scroll_y + y - 1
        if index >= len(self._lines):
            return Strip.blank(width, styles["base"])
        if index == self.cursor:
            style = styles["cursor"]
        elif index == self._hover:
            style = styles["hover"]
        else:
            style = styles["even-row" if index % 2 else "base"]
        return self._strip(self._lines[index], style, scroll_x, width).apply_meta({"row": index})

    @staticmethod
    def _strip(text: str, style: Style, scroll_x: int, width: int) -> Strip:
        strip = Strip([Segment(text, style)], cell_len(text))
        return strip.crop_extend(scroll_x, scroll_x + width, style)

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self.refresh()

    # ------------------------------------------------------------------ cursor

    def validate_cursor(self, cursor: int) -> int:
        return max(0, min(cursor, len(self.rows) - 1))

    def watch_cursor(self, old: int, new: int) -> None:
        self._refresh_row(old)
        self._refresh_row(new)
        self._scroll_to_cursor()

    def _refresh_row(self, index: int | None) -> None:
        if index is not None:
            self.refresh_line(index + 1)

    def _scroll_to_cursor(self) -> None:
        visible = max(1, self.scrollable_content_region.height - 1)  # the header line stays put
        top = self.scroll_offset.y
        if self.cursor < top:
            self.scroll_to(y=self.cursor, animate=False, immediate=True)
        elif self.cursor >= top + visible:
            self.scroll_to(y=self.cursor - visible + 1, animate=False, immediate=True)

    def action_cursor_up(self) -> None:
        self.cursor -= 1

    def action_cursor_down(self) -> None:
        self.cursor += 1

    def action_page_up(self) -> None:
        self.cursor -= max(1, self.scrollable_content_region.height - 1)

    def action_page_down(self) -> None:
        self.cursor += max(1, self.scrollable_content_region.height - 1)

    def action_first(self) -> None:
        self.cursor = 0

    def action_last(self) -> None:
        self.cursor = len(self.rows) - 1

    def action_select(self) -> None:
        if self.rows:
            self.post_message(self.Selected(self, self.rows[self.cursor][0]))

    # ------------------------------------------------------------------ mouse and touch

    async def _on_click(self, event: events.Click) -> None:
        index = event.style.meta.get("row")
        if index is None or index >= len(self.rows):
            return
        if index == self.cursor:
            self.action_select()  # a second tap on the highlighted row opens it, as in every table of the app
        else:
            self.cursor = index

    def _on_mouse_move(self, event: events.MouseMove) -> None:
        index = event.style.meta.get("row")
        if index != self._hover:
            self._refresh_row(self._hover)
            self._hover = index
            self._refresh_row(index)

    def _on_leave(self, _: events.Leave) -> None:
        self._refresh_row(self._hover)
        self._hover = None
