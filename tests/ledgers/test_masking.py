"""A masked ledger masks ID numbers and phones by field, withholds birth dates, and masks numbers typed into notes."""

from __future__ import annotations

from typing import Any

from field_agent.ledgers.builder import build_ledger
from field_agent.ledgers.definitions import parse_definitions
from field_agent.ledgers.masking import mask_numbers_in_text, mask_record

from .town import TODAY, build_town

# A town's own ledger that forgets the masks and adds a birth date: the masked export must still hold.
CARELESS = parse_definitions(
    {
        "ledgers": [
            {
                "name": "careless",
                "source": "resident",
                "columns": [
                    {"field": "name", "zh": "姓名", "en": "Name"},
                    {"field": "id_number", "zh": "身份证号", "en": "ID"},
                    {"field": "phone", "zh": "电话", "en": "Phone"},
                    {"field": "household_phone", "zh": "户电话", "en": "Household phone"},
                    {"field": "birth_date", "zh": "出生日期", "en": "Born"},
                    {"field": "notes", "zh": "备注", "en": "Notes"},
                    {"field": "id", "zh": "编号", "en": "Id"},
                ],
            }
        ]
    }
)


def test_a_ledger_without_declared_masks_is_still_masked_and_hides_birth_dates() -> None:
    town = build_town()
    someone = next(e for e in town if e["kind"] == "resident" and e["fields"].get("phone"))
    number, phone = someone["fields"]["id_number"], someone["fields"]["phone"]
    someone["fields"]["notes"] = f"儿子身份证{number}，电话{phone}；座机0591-87654321"
    masked = build_ledger("careless", town, today=TODAY, definitions=CARELESS)
    row = next(r for r in masked.as_dicts() if r["id"] == someone["id"])
    assert row["id_number"] == number[:6] + "*" * 10 + number[-2:]
    assert row["phone"] == "*******" + phone[-4:] and row["household_phone"].count("*") >= 7
    assert row["birth_date"] == "****-**-**"
    assert row["notes"] == f"儿子身份证{row['id_number']}，电话{row['phone']}；座机0591-********"
    assert row["id"] == someone["id"]  # record ids (UUIDs) are not mistaken for numbers
    full = build_ledger("careless", town, today=masked.today, masked=False, definitions=CARELESS)
    row = next(r for r in full.as_dicts() if r["id"] == someone["id"])
    assert (row["id_number"], row["phone"]) == (number, phone) and number in str(row["notes"])
    assert str(row["birth_date"]) == f"{number[6:10]}-{number[10:12]}-{number[12:14]}"  # a real date when unmasked


def test_numbers_in_text_and_records() -> None:
    assert mask_numbers_in_text("身份证350181199003071234 手机13812345678") == (
        "身份证350181**********34 手机*******5678"
    )
    assert mask_numbers_in_text("3号楼2单元501室 2026-12-05 10:00") == "3号楼2单元501室 2026-12-05 10:00"
    record: dict[str, Any] = {
        "id": "01900000-0000-7000-8000-013812345678",
        "fields": {"id_number": {"value": "350181199003071234", "stamp": "s"}, "phone": "13812345678"},
        "stamps": {"id_number": "000000000000001-00000-aa"},
        "conflicts": {"c": {"field": "phone", "values": ["13912345678"]}},
        "birth_date": "1990-03-07",
    }
    assert mask_record(record) == {
        "id": "01900000-0000-7000-8000-013812345678",
        "fields": {"id_number": {"value": "350181**********34", "stamp": "s"}, "phone": "*******5678"},
        "stamps": {"id_number": "000000000000001-00000-aa"},
        "conflicts": {"c": {"field": "phone", "values": ["*******5678"]}},
        "birth_date": "****-**-**",
    }
