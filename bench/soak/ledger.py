"""What the soak promised itself: every save a worker saw succeed, the conflicts and refusals it must cause, and
the end-of-day checks of those promises against the server and every device."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import orjson

from field_agent.domain.envelope import DELETED, is_moot


@dataclass
class Item:
    """One save the orchestrator asked a device to make; ``expect`` is "server", "refused:CODE" or "lost"."""

    key: str
    node: str
    day: int
    create: bool
    conflict_group: str | None = None
    expect: str = "server"
    attempted: list[str] = field(default_factory=list)
    ack: dict[str, Any] | None = None
    failures: list[str] = field(default_factory=list)


@dataclass
class DayChecks:
    """One simulated day's verdicts (each list holds the problems found; empty means the promise held)."""

    day: int
    acked: int = 0
    unacked: int = 0
    failed_saves: int = 0
    on_server: int = 0
    expected_on_server: int = 0
    missing: list[str] = field(default_factory=list)
    duplicated: list[str] = field(default_factory=list)
    phantom: list[str] = field(default_factory=list)
    disagreeing: list[str] = field(default_factory=list)
    devices_checked: int = 0
    conflicts_expected: int = 0
    conflicts_found: int = 0
    conflict_problems: list[str] = field(default_factory=list)
    refused_expected: int = 0
    refused_found: int = 0
    refusal_problems: list[str] = field(default_factory=list)
    refused_codes: dict[str, int] = field(default_factory=dict)  # refusals found on the tablets, by code
    lost_expected: int = 0
    records: int = 0

    @property
    def problems(self) -> list[str]:
        return (
            self.missing + self.duplicated + self.phantom + self.disagreeing + self.conflict_problems
            + self.refusal_problems
        )  # fmt: skip

    @property
    def clean(self) -> bool:
        return not self.problems


class Ledger:
    """Bookkeeping of every save attempted and acknowledged, fed by the device events."""

    def __init__(self) -> None:
        self.items: dict[str, Item] = {}
        self.seeded: set[str] = set()
        self.expected_refusals: set[tuple[str, str, str]] = set()
        self.day = 0

    def plan(self, item: Item) -> None:
        self.items[item.key] = item

    def event(self, node: str, event: dict[str, Any]) -> None:
        item = self.items.get(event["key"])
        if item is None:  # saves the device chose itself (conflict resolutions, a mode switch's task updates)
            item = self.items[event["key"]] = Item(event["key"], node, self.day, create=False)
        if event["ev"] == "attempt":
            item.attempted.append(event["record"])
        elif event["ev"] == "ack":
            item.ack = event
            if item.expect.startswith("refused:") and (event["stamps"] or event["sets"] or event["resolved"]):
                self.expected_refusals.add((node, event["record"], item.expect.split(":", 1)[1]))
        elif event["ev"] == "fail":
            item.failures.append(f"{event['error']}: {event['message']}")

    def retire(self, node: str) -> None:
        """A tablet taken out of service: the refusals it kept aside leave with it."""
        self.expected_refusals = {entry for entry in self.expected_refusals if entry[0] != node}

    def acked_on(self, node: str) -> list[Item]:
        return [item for item in self.items.values() if item.node == node and item.ack is not None]

    def expected_conflicts(self) -> Counter[tuple[str, str]]:
        """Two or more devices that each saved a different value in one register unseen: n - 1 conflicts."""
        groups: dict[str, list[Item]] = {}
        for item in self.items.values():
            if item.conflict_group and item.ack is not None and item.expect == "server":
                groups.setdefault(item.conflict_group, []).append(item)
        expected: Counter[tuple[str, str]] = Counter()
        for members in groups.values():
            acks = [(m.node, m.ack) for m in members if m.ack is not None]
            record_id = acks[0][1]["record"]
            deleters = {node for node, ack in acks if ack["values"].get(DELETED) is True}
            editors = {node for node, ack in acks if DELETED not in ack["stamps"]}
            if deleters and editors - deleters:
                expected[(record_id, DELETED)] += 1
                continue
            names = {name for _, ack in acks for name in ack["stamps"]}
            for name in sorted(names):
                writers = [(node, ack["values"].get(name)) for node, ack in acks if name in ack["stamps"]]
                nodes = {node for node, _ in writers}
                if len(nodes) > 1 and len({orjson.dumps(value) for _, value in writers}) > 1:
                    expected[(record_id, name)] += len(nodes) - 1
        return expected


def _check_ack(item: Item, envelope: dict[str, Any] | None) -> str | None:
    """Why an acknowledged save is not (or not rightly) on the server, or None."""
    ack = item.ack
    assert ack is not None
    if item.expect.startswith("refused:") or item.expect == "lost":
        if envelope is not None and any(envelope["stamps"].get(n) == s for n, s in ack["stamps"].items()):
            return f"{item.key}: the server holds a save it should have refused ({item.expect})"
        return None
    if envelope is None:
        return f"{item.key}: record {ack['record']} ({ack['kind']}) is not on the server"
    for name, stamp in ack["stamps"].items():
        server_stamp = envelope["stamps"].get(name)
        if server_stamp is None or server_stamp < stamp:
            return f"{item.key}: {ack['record']}.{name} saved at {stamp} never reached the server ({server_stamp})"
        if server_stamp == stamp and envelope["fields"].get(name) != ack["values"].get(name):
            return f"{item.key}: {ack['record']}.{name} has another value on the server under the same stamp"
    for name, elements in ack["sets"].items():
        for element, (stamp, _present) in elements.items():
            server = envelope["sets"].get(name, {}).get(element)
            if server is None or server[0] < stamp:
                return f"{item.key}: {ack['record']}.{name}[{element}] never reached the server"
    for cid in ack.get("resolved", {}):
        if not envelope["conflicts"].get(cid, {}).get("resolved"):
            return f"{item.key}: conflict {cid} on {ack['record']} was resolved on the device but is open on the server"
    return None


def check_day(
    day: int,
    ledger: Ledger,
    server: dict[str, dict[str, dict[str, Any]]],
    dumps: dict[str, dict[str, Any]],
) -> DayChecks:
    """Hold the server and every active device (``dumps`` by slot name) against the ledger."""
    checks = DayChecks(day)
    everything = {record_id: env for records in server.values() for record_id, env in records.items()}
    checks.records = len(everything)
    attempted: set[str] = set()
    for item in ledger.items.values():
        attempted.update(item.attempted)
        if item.day == day:
            checks.failed_saves += len(item.failures)
            if item.ack is None and item.attempted:
                checks.unacked += 1
        if item.ack is None:
            if item.create and sum(record_id in everything for record_id in item.attempted) > 1:
                checks.duplicated.append(f"{item.key}: saved {len(item.attempted)} times, several on the server")
            continue
        if item.day == day:
            checks.acked += 1
            checks.lost_expected += item.expect == "lost"
            checks.expected_on_server += item.expect == "server"
        problem = _check_ack(item, everything.get(item.ack["record"]))
        if problem:
            checks.missing.append(problem)
        elif item.expect == "server" and item.day == day:
            checks.on_server += 1
        if item.create and sum(record_id in everything for record_id in item.attempted) > 1:
            checks.duplicated.append(f"{item.key}: one visit or follow-up is on the server more than once")
    for record_id in everything:
        if record_id not in ledger.seeded and record_id not in attempted:
            checks.phantom.append(f"record {record_id} on the server was never saved by any device")

    for name, dump in sorted(dumps.items()):
        checks.devices_checked += 1
        grid = dump["grid"]
        mine = {env["id"]: env for env in dump["records"] if env["grid"] == grid}
        theirs = server.get(grid, {})
        differing = sorted(rid for rid in set(mine) | set(theirs) if mine.get(rid) != theirs.get(rid))
        if differing:
            checks.disagreeing.append(f"{name}: {len(differing)} records differ from the server, e.g. {differing[0]}")
        kept_aside = {entry["record"] for entry in dump["refused"]}
        foreign = sorted(env["id"] for env in dump["records"] if env["grid"] != grid and env["id"] not in kept_aside)
        if foreign:
            checks.disagreeing.append(f"{name}: holds {len(foreign)} records of another grid, e.g. {foreign[0]}")
        if dump["pending"]:
            checks.disagreeing.append(f"{name}: {dump['pending']} changes still unsent after the final sync")

    expected = ledger.expected_conflicts()
    found: Counter[tuple[str, str]] = Counter()
    for envelope in everything.values():
        for conflict in envelope["conflicts"].values():
            if is_moot(conflict):
                continue  # stored so every order agrees, never a conflict for a person (docs/SYNC.md)
            field_name = conflict["field"]
            found[(envelope["id"], field_name if field_name != DELETED else DELETED)] += 1
    checks.conflicts_expected, checks.conflicts_found = sum(expected.values()), sum(found.values())
    for key in sorted(set(expected) | set(found)):
        if expected[key] != found[key]:
            checks.conflict_problems.append(
                f"{key[0]}.{key[1]}: {found[key]} conflicts on the server, {expected[key]} expected"
            )

    actual_refusals = {
        (dump["node"], entry["record"], entry["code"]) for dump in dumps.values() for entry in dump["refused"]
    }
    checks.refused_expected, checks.refused_found = len(ledger.expected_refusals), len(actual_refusals)
    checks.refused_codes = dict(sorted(Counter(code for _, _, code in actual_refusals).items()))
    for node, record_id, code in sorted(ledger.expected_refusals ^ actual_refusals):
        side = "expected but not refused" if (node, record_id, code) in ledger.expected_refusals else "unexpected"
        checks.refusal_problems.append(f"refusal {code} of {record_id} by node {node}: {side}")
    return checks
