"""Terminal escapes in record values are shown as text, never sent to the terminal (a pushed value once changed
another tablet's window title)."""

from __future__ import annotations

import copy
import uuid

from textual.widgets import DataTable, Static

from field_agent.tui.screens.household import HouseholdScreen

from .conftest import household_by_head, settle, unlocked

TITLE = "\x1b]0;pwned\x07"  # OSC 0: set the window title
CSI = "\x1b[2J\x1b[31m"  # clear the screen, turn red
C1_CSI = "\x9b2J"  # the same with the one-byte C1 introducer
RAW = ("\x1b", "\x9b", "\x07")


def pull_copy(store, record_id: str, values: dict[str, str]) -> str:
    """A new record as the server sends it after another tablet pushed it: a copy of ``record_id`` with ``values``
    (a pull is not validated against this app's rules: it may come from an older app, a script or the server's
    own tools). Returns the new record's id."""
    remote = copy.deepcopy(store.get(record_id))
    remote["id"] = str(uuid.uuid4())
    newest = max(int(stamp.split("-")[0]) for stamp in remote["stamps"].values())
    for number, (field, value) in enumerate(values.items()):
        remote["fields"][field] = value
        remote["stamps"][field] = f"{newest + 1000:015d}-{number:05d}-0123456789ab"
    store.apply_pulled([remote], next_cursor=1)
    return remote["id"]


def drawn_text(app) -> str:
    """Every character the current screen's widgets draw, as the terminal would get them."""
    lines = []
    for widget in app.screen.query("*"):
        if widget.size.height and widget.size.width:
            lines.extend("".join(s.text for s in widget.render_line(y)) for y in range(widget.size.height))
    return "\n".join(lines)


async def test_escapes_in_record_values_are_shown_inert(app_factory, demo) -> None:
    household = household_by_head(demo, "陈峰林")
    resident = next(r for r in demo["resident"].values() if r["household"] == household["id"])
    app = app_factory()
    async with app.run_test(size=(160, 48)) as pilot:
        await unlocked(pilot)
        store = app.session.store
        household_id = pull_copy(store, household["id"], {"head": f"陈{TITLE}峰林", "address": f"东门{CSI}3栋"})
        pull_copy(store, resident["id"], {"household": household_id, "name": f"张{C1_CSI}三"})
        app.session.load()
        await app.push_screen(HouseholdScreen(household_id))
        await settle(pilot)
        table = app.screen.query_one("#residents", DataTable)
        names = [str(table.get_row_at(i)[0]) for i in range(table.row_count)]
        assert "张\\x9b2J三" in names
        header = str(app.screen.query_one("#household-header", Static).render())
        assert "\\x1b]0;pwned\\x07" in header and "东门\\x1b[2J\\x1b[31m3栋" in header
        drawn = drawn_text(app)
        assert "\\x1b]0;pwned" in drawn
        screenshot = app.export_screenshot()
        for raw in RAW:
            assert raw not in drawn, repr(raw)
            assert raw not in screenshot, repr(raw)
