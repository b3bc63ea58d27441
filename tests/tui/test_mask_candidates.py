"""The household screen's masked resident view leaves every ID number at least 1,000 candidates.

Each household of the demo grid is opened as the worker sees it; for every resident row (name, sex and age, masked
ID number, special groups) the ID numbers that fit are counted (tests/ledgers/candidates.py), as are the phone
numbers that fit the household's masked phone in the header.
"""

from __future__ import annotations

import re

from textual.widgets import DataTable, Static

from field_agent.domain.demo_data import FUQING_REGION
from field_agent.tui.screens.household import HouseholdScreen
from tests.ledgers.candidates import THRESHOLD, id_candidates, phone_candidates

from .conftest import NOW, settle, unlocked

SEX = {"男": "male", "女": "female"}
AGE_GROUPS = {"老年": "elderly", "高龄": "very_old", "婴幼儿": "infant"}  # the zh_CN catalog's group labels


async def test_every_resident_row_keeps_1000_candidates(app_factory, demo) -> None:
    today = NOW.date()
    numbers = {r["id_number"] for r in demo["resident"].values() if r.get("id_number")}
    phones = {h["phone"] for h in demo["household"].values() if h.get("phone")}
    households = sorted(demo["household"])
    counted, fewest = 0, 10**9
    app = app_factory()
    async with app.run_test(size=(160, 48)) as pilot:
        await unlocked(pilot)
        screen = HouseholdScreen(households[0])
        await app.push_screen(screen)
        for household_id in households:
            screen.household_id = household_id  # the same screen, reloaded for each household
            screen.reload()
            await settle(pilot)
            header = str(app.screen.query_one("#household-header", Static).content)
            shown_phone = re.search(r"电话：(\S+)", header)
            assert shown_phone, header
            if shown_phone.group(1) != "—":
                assert shown_phone.group(1) not in phones
                assert phone_candidates(shown_phone.group(1)) >= THRESHOLD, shown_phone.group(1)
            table = app.screen.query_one("#residents", DataTable)
            living_here = {r["id"] for r in demo["resident"].values() if r.get("household") == household_id}
            assert {key.value for key in table.rows} == living_here  # this household's rows, not the last one's
            for index in range(table.row_count):
                _name, sex_age, masked, groups, _isolation = (str(cell) for cell in table.get_row_at(index))
                assert masked not in numbers
                sex, _, age = sex_age.partition(" ")
                count = id_candidates(
                    masked,
                    today=today,
                    region=FUQING_REGION,
                    sex=SEX.get(sex),
                    age=int(age) if age.isdigit() else None,
                    groups={AGE_GROUPS[g] for g in groups.split() if g in AGE_GROUPS},
                )
                assert count >= THRESHOLD, (sex_age, masked, groups, count)
                counted, fewest = counted + 1, min(fewest, count)
    assert counted == len(demo["resident"])
