"""The shipped ledger definitions: the six ledgers and five more, Chinese and English headers, valid filters; bad files
refused."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from field_agent.ledgers.definitions import get_definition, load_definitions, parse_definitions
from field_agent.ledgers.errors import DefinitionError, UnknownLedger

SIX = ["residents", "floating", "special_groups", "isolation", "sampling", "visits"]
MORE = ["key_persons", "rented_housing", "grid_staff", "grid_tasks", "supplies"]


def test_the_defaults_are_the_six_ledgers_and_five_more() -> None:
    definitions = load_definitions()
    assert list(definitions) == SIX + MORE
    titles = [d.title_zh for d in definitions.values()]
    assert titles[0] == "常住人口台账" and titles[1] == "流动人口台账" and "老弱病残孕幼" in titles[2]
    assert titles[6:] == ["重点人员台账", "出租房屋台账", "网格人员及任务台账", "网格任务台账", "物资台账"]
    for definition in definitions.values():
        assert definition.columns, definition.name
        assert all(c.zh and c.en for c in definition.columns)
        assert len({c.field for c in definition.columns}) == len(definition.columns)


def test_person_ledgers_mask_id_numbers_and_phones() -> None:
    for name in ("residents", "floating", "special_groups", "isolation", "key_persons"):
        masks = {c.field: c.mask for c in get_definition(name).columns if c.mask}
        assert masks == {"id_number": "id_number", "phone": "phone"}, name


def test_unknown_ledger_names_the_known_ones() -> None:
    with pytest.raises(UnknownLedger, match="residents, floating"):
        get_definition("households")


def test_a_town_can_supply_its_own_definitions(tmp_path: Path) -> None:
    path = tmp_path / "ledgers.json"
    path.write_text(
        json.dumps(
            {
                "ledgers": [
                    {
                        "name": "elderly",
                        "title_zh": "老年人台账",
                        "source": "resident",
                        "filter": [{"field": "age", "nonempty": True}],
                        "sort": ["-age"],
                        "columns": [
                            {"field": "name", "zh": "姓名", "en": "Name"},
                            {"field": "age", "zh": "年龄", "en": "Age"},
                        ],
                    }
                ]
            },
            ensure_ascii=False,
        ),
        encoding="utf-8",
    )
    definitions = load_definitions(path)
    assert list(definitions) == ["elderly"]
    assert definitions["elderly"].sort == ("-age",)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({}, "non-empty 'ledgers'"),
        ({"ledgers": [{"name": "x", "source": "rooms", "columns": [{"field": "a", "zh": "甲", "en": "A"}]}]}, "source"),
        (
            {
                "ledgers": [
                    {
                        "name": "x",
                        "source": "resident",
                        "tags": "出租",
                        "columns": [{"field": "a", "zh": "甲", "en": "A"}],
                    }
                ]
            },
            "'tags' must be a list of words",
        ),
        ({"ledgers": [{"name": "x", "source": "visit", "columns": []}]}, "no columns"),
        ({"ledgers": [{"name": "x", "source": "visit", "columns": [{"field": "a"}]}]}, "'zh' and 'en'"),
        (
            {
                "ledgers": [
                    {
                        "name": "x",
                        "source": "visit",
                        "filter": [{"field": "a", "like": 1}],
                        "columns": [{"field": "a", "zh": "甲", "en": "A"}],
                    }
                ]
            },
            "a filter needs",
        ),
        (
            {
                "ledgers": [
                    {"name": "x", "source": "visit", "columns": [{"field": "a", "zh": "甲", "en": "A", "mask": "name"}]}
                ]
            },
            "unknown mask",
        ),
        (
            {
                "ledgers": [
                    {
                        "name": "x",
                        "source": "visit",
                        "columns": [{"field": "a", "zh": "甲", "en": "A", "format": "money"}],
                    }
                ]
            },
            "unknown format 'money'; formats: percent",
        ),
    ],
)
def test_malformed_definitions_are_refused_with_the_reason(data: dict, message: str) -> None:
    with pytest.raises(DefinitionError, match=message):
        parse_definitions(data)


def test_a_definitions_file_that_is_not_json_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "bad.json"
    path.write_text("{ledgers: ", encoding="utf-8")
    with pytest.raises(DefinitionError, match="not valid JSON"):
        load_definitions(path)


def test_the_documentation_lists_every_default_column() -> None:
    text = (Path(__file__).parents[2] / "docs" / "LEDGERS.md").read_text("utf-8")
    for definition in load_definitions().values():
        section = text.split(f"### `{definition.name}`", 1)[1].split("###", 1)[0]
        for column in definition.columns:
            assert f"| {column.zh} | {column.en} | `{column.field}`" in section, (definition.name, column.field)
