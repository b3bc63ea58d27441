"""A small hand-made town for the ledger tests: every record kind, every status, one deleted resident."""

from __future__ import annotations

import dataclasses
import datetime as dt
import itertools
from typing import Any

from field_agent.domain.envelope import local_edit
from field_agent.domain.hlc import HybridClock
from field_agent.domain.idnumber import make_id_number

CHINA = dt.timezone(dt.timedelta(hours=8))
TODAY = dt.datetime.now(CHINA).date()
G1 = "01900000-0000-7000-8000-00000000a001"
G2 = "01900000-0000-7000-8000-00000000a002"


class TownBuilder:
    """Builds envelopes the way a device would (local edits stamped by an HLC)."""

    def __init__(self) -> None:
        ticks = itertools.count(1_764_000_000_000)
        self.clock = HybridClock("0123456789ab", now_ms=lambda: next(ticks))
        self.envelopes: dict[str, dict[str, Any]] = {}
        self.serial = itertools.count(1)

    def add(self, kind: str, grid: str, values: dict[str, Any], sets: dict[str, list[str]] | None = None) -> str:
        record_id = grid if kind == "grid" else f"01900000-0000-7000-8000-{next(self.serial):012d}"
        envelope, _ = local_edit(
            None,
            self.clock,
            record_id=record_id,
            kind=kind,
            grid=grid,
            values=values,
            set_changes={name: dict.fromkeys(items, True) for name, items in (sets or {}).items()},
        )
        self.envelopes[record_id] = envelope
        return record_id

    def delete(self, record_id: str) -> None:
        envelope = self.envelopes[record_id]
        self.envelopes[record_id], _ = local_edit(
            envelope,
            self.clock,
            record_id=record_id,
            kind=envelope["kind"],
            grid=envelope["grid"],
            values={"_deleted": True},
        )


def person(age: int, sequence: int, sex: str = "male") -> str:
    """A valid ID number of someone ``age`` years old today (born on 1 January)."""
    return make_id_number("350181", dt.date(TODAY.year - age, 1, 1), sequence, sex)


def day(offset: int) -> str:
    return (TODAY + dt.timedelta(days=offset)).isoformat()


def moment(offset: int, hour: int) -> str:
    return f"{day(offset)}T{hour:02d}:00:00+08:00"


def build_town() -> list[dict[str, Any]]:
    """Two grids of one town; grid G1 has every ledger's cases, G2 a few more residents."""
    t = TownBuilder()
    t.add(
        "grid", G1, {"town": "城关镇", "community": "东门社区", "name": "第一网格", "mode": "normal", "leader": "林长"}
    )
    t.add("grid", G2, {"town": "城关镇", "community": "东门社区", "name": "第二网格", "mode": "normal"})
    h1 = t.add(
        "household",
        G1,
        {
            "building": "3",
            "unit": "2",
            "room": "501",
            "address": "东门小区3栋2单元501室",
            "head": "陈大明",
            "phone": "13812345678",
        },
    )
    h2 = t.add(
        "household",
        G1,
        {"building": "12", "unit": "1", "room": "101", "address": "东门小区12栋1单元101室", "head": "王芳"},
    )
    h3 = t.add("household", G1, {"building": "3", "unit": "1", "room": "202", "address": "东门小区3栋1单元202室"})
    h4 = t.add("household", G2, {"building": "7", "unit": "1", "room": "301", "address": "西门小区7栋1单元301室"})
    chen = t.add(
        "resident",
        G1,
        {
            "household": h1,
            "name": "陈大明",
            "id_number": person(86, 1),
            "phone": "13812345678",
            "residency": "resident",
        },
    )  # 86: very_old, eligible
    t.add(
        "resident",
        G1,
        {
            "household": h1,
            "name": "陈小红",
            "id_number": person(36, 2, "female"),
            "phone": "13912345678",
            "residency": "resident",
        },
        {"special_groups": ["pregnant"]},
    )
    t.add(
        "resident",
        G1,
        {"household": h1, "name": "陈宝宝", "id_number": person(0, 3, "female"), "residency": "resident"},
    )  # infant, eligible
    wang = t.add(
        "resident",
        G1,
        {
            "household": h2,
            "name": "王芳",
            "id_number": person(66, 4, "female"),
            "phone": "0591-87654321",
            "residency": "floating",
            "isolation_status": "home",
            "isolation_start": day(-5),
            "isolation_days": 7,
        },
    )  # 66, isolated
    li = t.add(
        "resident",
        G1,
        {"household": h2, "name": "李强", "id_number": person(41, 5), "residency": "floating"},
        {"special_groups": ["chronic"]},
    )
    t.add(
        "resident",
        G1,
        {"household": h3, "name": "赵外出", "id_number": person(76, 6), "residency": "away"},
        {"special_groups": ["disabled"]},
    )  # away: not eligible
    t.add(
        "resident",
        G1,
        {
            "household": h3,
            "name": "孙结束",
            "id_number": person(31, 7),
            "residency": "resident",
            "isolation_status": "ended",
            "isolation_start": day(-29),
            "isolation_days": 14,
        },
    )
    gone = t.add(
        "resident", G1, {"household": h3, "name": "已删除", "id_number": person(96, 8), "residency": "resident"}
    )
    t.delete(gone)
    zhou = t.add(
        "resident",
        G2,
        {"household": h4, "name": "周卧床", "id_number": person(56, 9), "residency": "resident"},
        {"special_groups": ["bedridden"]},
    )
    old_round = t.add("sampling_round", G1, {"name": "第1轮", "started_at": moment(-10, 8), "status": "closed"})
    current = t.add("sampling_round", G1, {"name": "第2轮", "started_at": moment(-2, 8), "status": "open"})
    g2_round = t.add("sampling_round", G2, {"name": "第2轮", "started_at": moment(-2, 9), "status": "open"})
    t.add(
        "sampling",
        G1,
        {
            "round": old_round,
            "resident": chen,
            "household": h1,
            "status": "sampled",
            "sampled_at": moment(-10, 10),
            "by": "采样一队",
        },
    )
    t.add(
        "sampling",
        G1,
        {
            "round": current,
            "resident": chen,
            "household": h1,
            "status": "sampled",
            "team": "采样一队",
            "sampled_at": moment(-2, 10),
            "by": "张护士",
        },
    )
    t.add(
        "sampling",
        G1,
        {
            "round": current,
            "resident": li,
            "household": h2,
            "status": "scheduled",
            "scheduled_at": moment(0, 15),
            "team": "采样二队",
        },
    )
    t.add(
        "sampling",
        G1,
        {"round": current, "resident": wang, "household": h2, "status": "exempt", "reason": "居家隔离，由隔离点采样"},
    )
    t.add(
        "sampling",
        G2,
        {"round": g2_round, "resident": zhou, "household": h4, "status": "refused", "reason": "本人拒绝"},
    )
    t.add(
        "visit",
        G1,
        {
            "household": h1,
            "visited_at": moment(-1, 9),
            "worker": "林网格",
            "outcome": "met",
            "residents_seen": [chen],
            "health": {chen: {"fever": True, "cough": False}},
            "follow_up": True,
        },
    )
    t.add("visit", G1, {"household": h2, "visited_at": moment(-1, 10), "worker": "林网格", "outcome": "nobody_home"})
    t.add(
        "visit", G1, {"household": h3, "visited_at": moment(-3, 10), "worker": "林网格", "outcome": "met"}
    )  # before the current round started
    t.add(
        "followup", G1, {"resident": wang, "date": day(-1), "temperature": 36.6, "contact_made": True, "by": "林网格"}
    )
    t.add(
        "followup",
        G1,
        {
            "resident": wang,
            "date": TODAY.isoformat(),
            "temperature": 37.8,
            "symptoms": ["fever", "cough"],
            "contact_made": True,
            "flagged": True,
            "by": "林网格",
        },
    )
    return list(t.envelopes.values())


# the words a town marks its key persons and rented houses with (the defaults of ledgers.json use them)
KEY_PERSON_TAGS = ("社区矫正", "刑满释放", "严重精神障碍", "吸毒人员", "重点上访")


def with_key_person_tags(records: list[Any], every: int = 20) -> list[Any]:
    """The demo's records with every ``every``-th resident marked as a key person (the demo marks nobody): the
    categories in turn, the third marked resident with two of them, and a few households tagged 群租."""
    marked: list[Any] = []
    count = 0
    households = 0
    for record in records:
        if record.kind == "resident":
            count += 1
            if count % every == 0:
                tags = [KEY_PERSON_TAGS[(count // every) % len(KEY_PERSON_TAGS)]]
                if count == every * 3:
                    tags.append("重点人员")
                record = dataclasses.replace(record, sets={**record.sets, "tags": tags})
        elif record.kind == "household":
            households += 1
            if households % 15 == 0:
                record = dataclasses.replace(
                    record, sets={**record.sets, "tags": [*record.sets.get("tags", []), "群租"]}
                )
        marked.append(record)
    return marked
