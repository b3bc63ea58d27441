"""A week in the field: a real town server and N tablets across two grids, simulated days of rounds and nightly
syncs under injected faults, with end-of-day checks that nothing acknowledged was lost or duplicated.

    .venv/bin/python bench/soak.py --days 7 --devices 20            # SQLite, then PostgreSQL when reachable
    .venv/bin/python bench/soak.py --days 2 --devices 4 --db sqlite --json report.json

Exit status 0 when every day's checks held on every database, 1 otherwise. See docs/SOAK.md.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
from dataclasses import asdict
from pathlib import Path

import orjson
from soak.report import fault_lines, fault_rows, render, rows
from soak.server import postgres_reachable
from soak.sim import Soak, SoakConfig, SoakResult


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="End-to-end soak of store, sync agent and town server with faults.")
    parser.add_argument("--days", type=int, default=7, help="simulated days (default 7)")
    parser.add_argument("--devices", type=int, default=20, help="tablets across the two grids (default 20)")
    parser.add_argument("--households", type=int, default=24, help="households per grid (default 24)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--db", choices=("sqlite", "postgres", "both"), default="both",
                        help="server database; 'both' runs PostgreSQL too when it is reachable (default)")  # fmt: skip
    parser.add_argument("--cut-rate", type=float, default=0.35, help="share of night connections cut (default 0.35)")
    parser.add_argument("--full-disk", choices=("tmpfs", "rlimit"), default="tmpfs",
                        help="how a tablet's disk fills up: a small tmpfs (needs root; else falls back) or a file-size "
                        "limit in the device process")  # fmt: skip
    parser.add_argument("--workdir", type=Path, default=None, help="where stores and the server live (default: temp)")
    parser.add_argument("--json", type=Path, default=None, help="also write the report as JSON here")
    parser.add_argument("--faults", action="store_true", help="print every fault injected")
    parser.add_argument("-v", "--verbose", action="store_true", help="narrate the run")
    args = parser.parse_args(argv)
    if args.devices < 4:
        parser.error("--devices must be at least 4 (a leader and a worker in each grid)")
    if args.days < 1:
        parser.error("--days must be at least 1")
    return args


def run_one(args: argparse.Namespace, db: str, workdir: Path) -> SoakResult:
    config = SoakConfig(
        days=args.days, devices=args.devices, households=args.households, seed=args.seed, db=db,
        workdir=workdir / db, cut_rate=args.cut_rate, verbose=args.verbose, full_disk=args.full_disk,
    )  # fmt: skip
    return asyncio.run(Soak(config).run())


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    databases = ["sqlite"] if args.db in ("sqlite", "both") else []
    skipped = None
    if args.db in ("postgres", "both"):
        skipped = postgres_reachable()
        if skipped is None:
            databases.append("postgres")
        elif args.db == "postgres":
            print(f"PostgreSQL is not reachable ({skipped})", file=sys.stderr)
            return 1
    with tempfile.TemporaryDirectory(prefix="field-soak-") as temp:
        workdir = args.workdir or Path(temp)
        results = []
        for db in databases:
            result = run_one(args, db, workdir)
            results.append(result)
            print(render(result))
            if args.faults:
                print("\n".join(fault_lines(result)))
            print()
    if skipped is not None and args.db == "both":
        print(f"PostgreSQL skipped: not reachable at 127.0.0.1:5432 ({skipped})")
    if args.json is not None:
        report = [
            {
                "db": result.config.db,
                "clean": result.clean,
                "seconds": round(result.seconds, 1),
                "days": rows(result),
                "fault_days": fault_rows(result),
                "checks": [asdict(day) for day in result.days],
                "faults": [list(entry) for entry in result.faults.entries],
                "cuts": sum(result.cuts_by_day.values()),
                "problems": result.problems,
                "notes": result.notes,
            }
            for result in results
        ]
        args.json.write_bytes(orjson.dumps(report, option=orjson.OPT_INDENT_2))
    return 0 if results and all(result.clean for result in results) else 1


if __name__ == "__main__":
    sys.exit(main())
