"""A deterministic demo town in Fuqing: grids, households, residents, tasks, a sampling round, visits, campaigns.

The same seed (and ``today``) always gives the same records, ids included; each grid draws from its own random
stream, so grid 1 of a 24-grid town is the 1-grid demo.
"""

from __future__ import annotations

import random
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from typing import Any

from field_agent.domain import demo_data as words
from field_agent.domain.demo_campaigns import make_campaign_records
from field_agent.domain.demo_people import PeopleMaker, Person
from field_agent.domain.envelope import Clock, local_edit
from field_agent.domain.groups import DEFAULT_ELIGIBILITY
from field_agent.domain.roles import DEFAULT_ROLE_CONFIG
from field_agent.domain.sorting import natural_key

CHINA = timezone(timedelta(hours=8))


@dataclass
class DemoRecord:
    """One demo record: its identity, its register values and its set fields (present elements)."""

    kind: str
    record_id: str
    grid: str
    values: dict[str, Any]
    sets: dict[str, list[str]] = field(default_factory=dict)

    def set_changes(self) -> dict[str, dict[str, bool]]:
        """The set fields as ``local_edit``/``Store.put`` take them: ``{name: {element: True}}``."""
        return {name: dict.fromkeys(elements, True) for name, elements in self.sets.items()}


def generate_demo(
    seed: int = 1, grids: int = 1, households_per_grid: int = 300, today: date | None = None
) -> list[DemoRecord]:
    """Make a demo town of ``grids`` grids with ``households_per_grid`` households each."""
    if grids < 1 or households_per_grid < 1:
        raise ValueError("a demo town needs at least one grid and one household per grid")
    day = today or date.today()
    used_ids: set[str] = set()
    records: list[DemoRecord] = []
    for index in range(grids):
        records.extend(_GridMaker(seed, index, households_per_grid, day, used_ids).make())
    return records


def demo_envelopes(records: Iterable[DemoRecord], clock: Clock) -> list[dict[str, Any]]:
    """Stamp demo records into envelopes as if a device had written them."""
    envelopes = []
    for record in records:
        envelope, _ = local_edit(
            None,
            clock,
            record_id=record.record_id,
            kind=record.kind,
            grid=record.grid,
            values=record.values,
            set_changes=record.set_changes(),
        )
        envelopes.append(envelope)
    return envelopes


# Key persons (重点人员台账): the town's words for them, as a roster's 标签 column brings them (docs/LEDGERS.md).
KEY_PERSON_TAGS = ("社区矫正", "刑满释放", "严重精神障碍", "吸毒人员", "重点上访")
KEY_PERSON_EVERY = 40


class _GridMaker(PeopleMaker):
    """Makes one grid's records from its own random stream."""

    def __init__(self, seed: int, index: int, households: int, today: date, used_ids: set[str]) -> None:
        super().__init__(random.Random(f"field-agent-demo:{seed}:{index}"), today, used_ids)
        self.index = index
        self.households = households
        start = datetime.combine(today - timedelta(days=60), time(), CHINA)
        self.next_ms = int(start.timestamp() * 1000) + index * 1_000_000
        self.town = words.TOWNS[index % len(words.TOWNS)]
        self.urban = self.town.endswith("街道")
        round_number = index // len(words.TOWNS)
        stem = words.COMMUNITY_STEMS[(index * 7 + round_number) % len(words.COMMUNITY_STEMS)]
        self.community = stem + ("社区" if self.urban else "村")
        self.grid_name = f"{self.community}第{round_number + 1}网格"
        self.grid_id = self.new_id()
        self.records: list[DemoRecord] = []
        self.members: list[dict[str, Any]] = []
        self.residents_made = 0

    def new_id(self) -> str:
        """A UUIDv7-shaped id: time-ordered, with random bits from the grid's stream."""
        self.next_ms += 1
        rand_a, rand_b = self.rng.getrandbits(12), self.rng.getrandbits(62)
        value = (self.next_ms << 80) | (0x7 << 76) | (rand_a << 64) | (0b10 << 62) | rand_b
        text = f"{value:032x}"
        return f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}"

    def add(
        self, kind: str, values: dict[str, Any], sets: dict[str, list[str]] | None = None, record_id: str = ""
    ) -> str:
        record_id = record_id or (self.grid_id if kind == "grid" else self.new_id())
        clean = {name: value for name, value in values.items() if value is not None}
        self.records.append(DemoRecord(kind, record_id, self.grid_id, clean, sets or {}))
        return record_id

    def make(self) -> list[DemoRecord]:
        members = self.make_grid()
        households = [self.make_household(n) for n in range(self.households)]
        self.make_tasks(members, households)
        self.make_sampling(households)
        self.make_visits(members, households)
        self.make_campaigns(members)
        return self.records

    def moment(self, days_ago: int, earliest: int = 8, latest: int = 19) -> str:
        day = self.today - timedelta(days=days_ago)
        at = time(self.rng.randrange(earliest, latest), self.rng.randrange(60))
        return datetime.combine(day, at, CHINA).isoformat()

    # grid ---------------------------------------------------------------------------------------------------

    def make_grid(self) -> list[dict[str, Any]]:
        config = DEFAULT_ROLE_CONFIG
        plan = [("information", config.leader_group), *((r, config.group_for_role(r)) for r in config.role_keys)]
        plan.append(("service", "sampling"))
        members = []
        names: set[str] = set()
        for role, group in plan:
            sex = "male" if self.rng.random() < 0.55 else "female"
            name = self.person(sex, self.rng.randrange(26, 56)).name
            while name in names:
                name = self.person(sex, 40).name
            names.add(name)
            members.append({"name": name, "role": role, "group": group, "phone": self.mobile()})
        values = {
            "town": self.town,
            "community": self.community,
            "name": self.grid_name,
            "leader": members[0]["name"],
            "party_org": f"{self.grid_name}党支部",
            "mode": "normal",
            "members": members,
        }
        self.add("grid", values)
        self.members = members
        return members

    def member_for(self, role: str) -> str:
        """The name of the (first) member with a role, else the leader."""
        return next((m["name"] for m in self.members if m["role"] == role), self.members[0]["name"])

    # households and residents -------------------------------------------------------------------------------

    def address(self, number: int) -> tuple[dict[str, str], str]:
        place = f"福建省福清市{self.town}{self.community}"
        if not self.urban:
            building = f"{number + 1}号"
            return {"building": building}, place + building
        estate = words.ESTATES[self.index % len(words.ESTATES)] + words.ESTATE_SUFFIXES[self.index % 5]
        per_building = 24  # 2 units x 6 floors x 2 rooms
        building_no, rest = divmod(number, per_building)
        unit_no, rest = divmod(rest, 12)
        floor, room_no = divmod(rest, 2)
        parts = {
            "building": f"{building_no + 1}号楼",
            "unit": f"{unit_no + 1}单元",
            "room": f"{floor + 1}0{room_no + 1}",
        }
        return parts, f"{place}{estate}{parts['building']}{parts['unit']}{parts['room']}室"

    def make_household(self, number: int) -> dict[str, Any]:
        parts, address = self.address(number)
        people = self.family()
        household_id = self.new_id()
        phone = (
            self.mobile()
            if self.rng.random() < 0.9
            else f"0591-8{self.rng.randrange(5, 7)}{self.rng.randrange(10**6):06d}"
        )
        tags = []
        if all(p.residency == "away" for p in people):
            tags.append("vacant")
        if len(people) == 1 and self.today.year - people[0].birth.year >= 60:
            tags.append("lives_alone")
        if any(p.residency == "floating" for p in people):
            tags.append("rented")
        values = {**parts, "address": address, "head": people[0].name, "phone": phone}
        self.add("household", values, {"tags": tags}, record_id=household_id)
        residents = [self.make_resident(person, household_id) for person in people]
        return {"id": household_id, "building": parts["building"], "residents": residents}

    def make_resident(self, person: Person, household_id: str) -> dict[str, Any]:
        rng = self.rng
        age = (self.today - person.birth).days // 365
        recorded = []
        if rng.random() < (0.16 if age >= 60 else 0.03 if age >= 40 else 0.004):
            recorded.append("chronic")
        if rng.random() < (0.06 if age >= 60 else 0.015):
            recorded.append("disabled")
        if rng.random() < (0.12 if age >= 80 else 0.02 if age >= 60 else 0.001):
            recorded.append("bedridden")
        if person.sex == "female" and 21 <= age <= 40 and rng.random() < 0.08:
            recorded.append("pregnant")
        values: dict[str, Any] = {
            "household": household_id,
            "name": person.name,
            "id_number": self.id_number(person),
            "phone": self.mobile() if 16 <= age <= 75 and rng.random() < 0.9 else None,
            "residency": person.residency,
            "isolation_status": "none",
        }
        if person.residency != "away":
            draw = rng.random()
            if draw < 0.012:
                days_ago = rng.randrange(0, 7)
                values.update(
                    isolation_status="home",
                    isolation_start=(self.today - timedelta(days=days_ago)).isoformat(),
                    isolation_days=7,
                )
            elif draw < 0.022:
                values.update(
                    isolation_status="ended",
                    isolation_start=(self.today - timedelta(days=rng.randrange(10, 30))).isoformat(),
                    isolation_days=7,
                )
        sets = {"special_groups": recorded}
        self.residents_made += 1  # every KEY_PERSON_EVERY-th adult a key person, drawing nothing from the stream
        if self.residents_made % KEY_PERSON_EVERY == 0 and 18 <= age < 70:
            sets["tags"] = [KEY_PERSON_TAGS[self.residents_made // KEY_PERSON_EVERY % len(KEY_PERSON_TAGS)]]
        resident_id = self.add("resident", values, sets)
        view = {**values, "id": resident_id, "special_groups": recorded}
        if values["isolation_status"] == "home":
            self.make_followups(view)
        return view

    def make_followups(self, resident: dict[str, Any]) -> None:
        start = date.fromisoformat(resident["isolation_start"])
        for offset in range((self.today - start).days):
            feverish = self.rng.random() < 0.05
            self.add(
                "followup",
                {
                    "resident": resident["id"],
                    "date": (start + timedelta(days=offset)).isoformat(),
                    "temperature": round(self.rng.uniform(37.4, 38.6) if feverish else self.rng.uniform(36.1, 37.1), 1),
                    "symptoms": ["fever"] if feverish else [],
                    "needs": self.rng.choice(("", "", "需要代购蔬菜", "药品快用完了")),
                    "contact_made": True,
                    "flagged": feverish,
                    "by": self.member_for("mediation"),
                },
            )

    # tasks, sampling, visits --------------------------------------------------------------------------------

    def make_tasks(self, members: list[dict[str, Any]], households: list[dict[str, Any]]) -> None:
        buildings = sorted({h["building"] for h in households}, key=natural_key)
        statuses = ("open", "open", "in_progress", "done")
        for role, templates in words.TASK_TEMPLATES.items():
            assignee = self.member_for(role)
            for number, (task_kind, title) in enumerate(templates):
                building = self.rng.choice(buildings)
                status = statuses[(number + self.rng.randrange(4)) % 4] if number else "open"
                sets = {}
                if task_kind == "publicity":
                    share = 1.0 if status == "done" else self.rng.uniform(0.2, 0.7)
                    sets["coverage"] = buildings[: max(1, round(len(buildings) * share))]
                self.add(
                    "task",
                    {
                        "title": title.format(building=building),
                        "task_kind": task_kind,
                        "role": role,
                        "assignee": assignee,
                        "due": (self.today + timedelta(days=self.rng.randrange(-1, 6))).isoformat(),
                        "status": status,
                        "notes": "已完成" if status == "done" else "",
                    },
                    sets,
                )

    def make_sampling(self, households: list[dict[str, Any]]) -> None:
        round_id = self.add(
            "sampling_round",
            {
                "name": f"{self.today.month}月{self.today.day}日重点人群上门采样",
                "started_at": datetime.combine(self.today - timedelta(days=1), time(8), CHINA).isoformat(),
                "status": "open",
            },
        )
        sampler = self.member_for("service")
        for household in households:
            for resident in household["residents"]:
                if not DEFAULT_ELIGIBILITY.is_eligible(resident, self.today):
                    continue
                draw = self.rng.random()
                if draw >= 0.8:
                    continue  # not reached yet: on the "nobody left out" list
                status = (
                    "sampled"
                    if draw < 0.55
                    else "scheduled"
                    if draw < 0.68
                    else "missed"
                    if draw < 0.72
                    else "refused"
                    if draw < 0.75
                    else "exempt"
                )
                values: dict[str, Any] = {
                    "round": round_id,
                    "resident": resident["id"],
                    "household": household["id"],
                    "scheduled_at": self.moment(self.rng.randrange(0, 2)),
                    "team": self.rng.choice(words.SAMPLING_TEAMS),
                    "status": status,
                }
                if status == "sampled":
                    values.update(sampled_at=values["scheduled_at"], by=sampler)
                elif status == "refused":
                    values["reason"] = self.rng.choice(words.REFUSAL_REASONS)
                elif status == "exempt":
                    values["reason"] = self.rng.choice(words.EXEMPT_REASONS)
                self.add("sampling", values)

    def make_campaigns(self, members: list[dict[str, Any]]) -> None:
        """One active campaign of each template beside the sampling round (its own random stream, so adding it left
        every record before it as it was)."""
        views = {r.record_id: {"id": r.record_id, "kind": r.kind, **r.values, **r.sets} for r in self.records}
        rng = random.Random(f"field-agent-demo-campaigns:{self.grid_id}")
        make_campaign_records(rng, self.today, views, [m["name"] for m in members], self.add)

    def make_visits(self, members: list[dict[str, Any]], households: list[dict[str, Any]]) -> None:
        workers = [m["name"] for m in members]
        for household in households:
            if self.rng.random() >= 0.4:
                continue
            present = [r for r in household["residents"] if r["residency"] != "away"]
            draw = self.rng.random()
            outcome = "vacant" if not present else "met" if draw < 0.8 else "nobody_home" if draw < 0.96 else "refused"
            seen = [r["id"] for r in present if self.rng.random() < 0.8] if outcome == "met" else []
            if outcome == "met" and not seen:
                seen = [present[0]["id"]]
            health = {rid: {"fever": False, "cough": self.rng.random() < 0.03, "other": ""} for rid in seen}
            self.add(
                "visit",
                {
                    "household": household["id"],
                    "visited_at": self.moment(self.rng.randrange(0, 7)),
                    "worker": self.rng.choice(workers),
                    "outcome": outcome,
                    "residents_seen": seen,
                    "health": health,
                    "follow_up": outcome in ("nobody_home", "refused"),
                    "notes": self.rng.choice(words.VISIT_NOTES),
                },
            )
