"""The soak's report: one row per simulated day, the faults injected, and every problem found."""

from __future__ import annotations

from collections import Counter
from typing import Any

from .sim import SoakResult

FAULT_COLUMNS = (
    ("connections cut", "cut"),
    ("server SIGKILL", "server-kill"),
    ("device SIGKILL mid-save", "kill-save"),
    ("mid-sync", "kill-sync"),
    ("clock off", "clock"),
    ("clock past bound", "clock-bound"),
    ("disk full", "disk-full"),
    ("revoke+replace", "revoke"),
    ("torn/forged frame", "frame"),
    ("wrong grid", "wrong-grid"),
    ("mode switch", "mode"),
    ("leader-only by worker", "leader-only"),
)


def _faults(result: SoakResult, day: int) -> dict[str, int]:
    log = result.faults
    counts = {
        "cut": result.cuts_by_day.get(day, 0),
        "server-kill": log.count("server-kill", day),
        "kill-save": 1 if log.count("kill-save", day) else 0,
        "kill-sync": 1 if log.count("kill-sync", day) else 0,
        "clock": log.count("clock", day),
        "clock-bound": log.count("clock-bound", day),
        "disk-full": 1 if log.count("disk-full", day) else 0,
        "revoke": 1 if log.count("revoke", day) else 0,
        "frame": log.count("torn-frame", day) + (1 if log.count("forged-frame", day) else 0),
        "wrong-grid": log.count("wrong-grid", day),
        "mode": log.count("mode", day),
        "leader-only": log.count("leader-only", day),
    }
    return counts


def rows(result: SoakResult) -> list[dict[str, Any]]:
    """The promises, one row per day."""
    table = []
    for day in result.days:
        table.append(
            {
                "day": day.day,
                "saves acked": day.acked,
                "unacked (killed)": day.unacked,
                "refused by full disk": day.failed_saves,
                "acked on server": f"{day.on_server}/{day.expected_on_server}",
                "lost w/ revoked tablet": day.lost_expected,
                "missing": len(day.missing),
                "duplicated": len(day.duplicated),
                "phantom": len(day.phantom),
                "devices = server": f"{day.devices_checked - _disagreeing(day)}/{day.devices_checked}",
                "conflicts exp/found": f"{day.conflicts_expected}/{day.conflicts_found}",
                "refused exp/found": f"{day.refused_expected}/{day.refused_found}",
                "server records": day.records,
                "verdict": "ok" if day.clean else "FAIL",
            }
        )
    return table


def fault_rows(result: SoakResult) -> list[dict[str, Any]]:
    """The faults injected, one row per day."""
    return [{"day": day.day, **{label: _faults(result, day.day)[kind] for label, kind in FAULT_COLUMNS}}
            for day in result.days]  # fmt: skip


def _disagreeing(day: Any) -> int:
    return len({problem.split(":", 1)[0] for problem in day.disagreeing})


def table_lines(table: list[dict[str, Any]]) -> list[str]:
    if not table:
        return []
    headers = list(table[0])
    widths = [max(len(h), *(len(str(row[h])) for row in table)) for h in headers]
    lines = ["| " + " | ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)) + " |"]
    lines.append("|" + "|".join("-" * (w + 1) + ":" for w in widths) + "|")
    for row in table:
        lines.append("| " + " | ".join(str(row[h]).rjust(w) for h, w in zip(headers, widths, strict=True)) + " |")
    return lines


def render(result: SoakResult) -> str:
    config = result.config
    lines = [
        f"soak: {config.days} days, {config.devices} devices in 2 grids, {config.households} households per grid, "
        f"database {config.db}, seed {config.seed}, {config.cut_rate:.0%} of night connections cut"
    ]
    lines.extend(table_lines(rows(result)))
    lines.append("")
    lines.append("faults injected:")
    lines.extend(table_lines(fault_rows(result)))
    kinds = Counter(kind for _, _, kind, _ in result.faults.entries if kind != "cut")
    lines.append(
        f"faults logged: {sum(result.cuts_by_day.values())} connection cuts, "
        + ", ".join(f"{count} {kind}" for kind, count in sorted(kinds.items()))
    )
    for note in result.notes:
        lines.append(f"note: {note}")
    problems = list(result.problems)
    for day in result.days:
        problems.extend(f"day {day.day}: {problem}" for problem in day.problems)
    if problems:
        lines.append(f"PROBLEMS ({len(problems)}):")
        lines.extend(f"  - {problem}" for problem in problems[:60])
        if len(problems) > 60:
            lines.append(f"  ... and {len(problems) - 60} more")
    lines.append(f"{'CLEAN' if result.clean else 'FAILED'} in {result.seconds:.0f} s")
    return "\n".join(lines)


def fault_lines(result: SoakResult) -> list[str]:
    return [f"day {day} {phase:7} {kind:14} {detail}" for day, phase, kind, detail in result.faults.entries]
