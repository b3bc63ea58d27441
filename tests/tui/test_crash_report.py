"""A crash of the terminal app reports the traceback on stderr without any resident's data."""

from __future__ import annotations

import pytest

from .conftest import unlocked


class _Bug(Exception):
    """Stands for a programming error inside a screen."""


async def test_crash_report_shows_no_local_variables(app_factory, demo, capsys) -> None:
    resident = next(r for r in demo["resident"].values() if r.get("id_number") and r.get("phone"))
    app = app_factory()

    def buggy_handler() -> None:
        held = dict(resident)  # a local variable holding personal data, as real handlers have
        raise _Bug(f"bug while showing record {held['id']}")

    with pytest.raises(_Bug):
        async with app.run_test() as pilot:
            await unlocked(pilot)
            app.call_later(buggy_handler)
            await pilot.pause(0.2)
    report = capsys.readouterr().err
    assert "_Bug" in report and resident["id"] in report  # the crash is reported …
    for value in (resident["id_number"], resident["phone"], resident["name"]):
        assert value not in report  # … but no value held in a local variable
