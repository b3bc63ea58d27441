"""Parsing a town roster (.xlsx), measured: the peak resident set and wall time of ``parse_roster(path)`` alone, each
run in a fresh process, for two checkouts side by side (issue 17, goal 2: the import must peak below 600 MB). Prints a
markdown table with medians, the ratio new/old from the same run, and the load average.

    PYTHONPATH=$PWD .venv/bin/python bench/roster_parse.py --old /work/wt/base --new . ROSTER.xlsx [ROSTER.xlsx ...]

Rosters come from bench/roster_memory.py (``--cache``). In each run, the interpreter imports ``field_agent.ledgers.
roster`` and openpyxl, notes VmRSS, resets VmHWM (``/proc/self/clear_refs``, 5) where the kernel allows, parses, and
reports VmHWM minus that RSS: the memory the parse itself adds. Runs alternate old/new, --repeats times per roster.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

PROBE = r"""
import json, sys, time
from pathlib import Path
import openpyxl
from field_agent.ledgers.roster import parse_roster

def status(key):
    for line in open("/proc/self/status"):
        if line.startswith(key + ":"):
            return int(line.split()[1]) / 1024
    raise KeyError(key)

before = status("VmRSS")
try:
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")
except OSError:
    pass
start = time.perf_counter()
parsed = parse_roster(Path(sys.argv[1]))
seconds = time.perf_counter() - start
print(json.dumps({"rss_before": before, "peak": status("VmHWM"), "seconds": seconds, "rows": len(parsed.rows),
                  "errors": len(parsed.errors), "module": __import__("field_agent").__file__}))
"""


def run(repo: Path, roster: Path) -> dict[str, float]:
    env = {**os.environ, "PYTHONPATH": str(repo.resolve())}
    out = subprocess.run(
        [sys.executable, "-c", PROBE, str(roster.resolve())],
        env=env,
        cwd=repo,
        capture_output=True,
        text=True,
        check=True,
    )
    result = json.loads(out.stdout)
    assert result["module"].startswith(str(repo.resolve())), result["module"]
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--old", type=Path, required=True, help="the checkout before the change (the anchor)")
    parser.add_argument("--new", type=Path, default=Path("."), help="the checkout after it")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("rosters", type=Path, nargs="+")
    args = parser.parse_args()
    lines = [
        "| roster | code | peak over imports MB (median) | max | parse s (median) | slowest s | rows "
        "| peak new/old | time new/old |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    loads = [os.getloadavg()]
    for roster in args.rosters:
        found: dict[str, list[dict[str, float]]] = {"old": [], "new": []}
        for _ in range(args.repeats):
            for name, repo in (("old", args.old), ("new", args.new)):
                found[name].append(run(repo, roster))
                print(name, roster.name, found[name][-1], file=sys.stderr, flush=True)
        med: dict[str, tuple[float, float]] = {}
        for name in ("old", "new"):
            runs = found[name]
            added = [r["peak"] - r["rss_before"] for r in runs]
            seconds = sorted(r["seconds"] for r in runs)
            med[name] = (statistics.median(added), statistics.median(seconds))
            slowest = seconds[-1]
            ratio = (
                ("1.00", "1.00")
                if name == "old"
                else (f"{med['new'][0] / med['old'][0]:.2f}", f"{med['new'][1] / med['old'][1]:.2f}")
            )
            lines.append(
                f"| {roster.name} | {name} | {med[name][0]:,.0f} | {max(added):,.0f} | {med[name][1]:.1f} "
                f"| {slowest:.1f} | {int(runs[0]['rows']):,} | {ratio[0]} | {ratio[1]} |"
            )
        loads.append(os.getloadavg())
    print("\n".join(lines))
    print(
        f"\nload average (1/5/15 min) at start {loads[0][0]:.2f}/{loads[0][1]:.2f}/{loads[0][2]:.2f}, "
        f"at end {loads[-1][0]:.2f}/{loads[-1][1]:.2f}/{loads[-1][2]:.2f}; {args.repeats} runs per cell, "
        f"each in a fresh process; {os.cpu_count()} CPUs"
    )


if __name__ == "__main__":
    main()
