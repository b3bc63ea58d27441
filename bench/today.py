"""What the active campaigns cost Today, beside Today's own numbers, on a big demo store.

    .venv/bin/python bench/today.py [--households 9800] [--store DIR] [--runs 7]

The same open store, in the same process, timed in alternation (so a loaded machine slows them alike): Today's
numbers as the app computes them on unlock (``queries.today.today_summary``, before Today is drawn), the active
campaigns' progress (``queries.campaigns.campaign_lines``, worked out once Today is drawn) and one campaign's
screen (``campaign_detail``: its progress and left-out list with names and masked ID numbers).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

os.environ.setdefault("FIELD_AGENT_KDF_PROFILE", "default")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from field_agent.domain.demo import generate_demo
from field_agent.store import Store
from field_agent.tui.queries import today as today_module
from field_agent.tui.queries.campaigns import campaign_detail, campaign_lines, campaigns

PASSPHRASE = "benchmark passphrase of decent length"
TODAY = date(2026, 11, 30)
NOW = datetime(2026, 11, 30, 9, 30, tzinfo=timezone(timedelta(hours=8)))


def build_store(path: Path, households: int) -> None:
    records = generate_demo(seed=2022, grids=1, households_per_grid=households, today=TODAY)
    grid = next(r for r in records if r.kind == "grid").grid
    with Store.create(path, PASSPHRASE, grid=grid) as store:
        for start in range(0, len(records), 2000):
            with store.batch():
                for record in records[start : start + 2000]:
                    store.put(
                        record.kind, record.values, record_id=record.record_id, set_changes=record.set_changes() or None
                    )
        store.compact()


def timed(call: Callable[[], Any]) -> float:
    started = time.perf_counter()
    call()
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--households", type=int, default=9800)
    parser.add_argument("--store", type=Path, default=None, help="reuse (or keep) the store in this directory")
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    directory = args.store or Path(tempfile.mkdtemp(prefix="field-agent-today-")) / "store"
    if not directory.exists():
        build_store(directory, args.households)
    with Store.open(directory, PASSPHRASE) as store:
        reader = store.reader
        residents = len(reader.live_ids("resident"))
        results = len(reader.live_ids("campaign_result"))

        def summary() -> Any:
            return today_module.today_summary(reader, TODAY, NOW, "", {})

        first = campaigns(reader, TODAY)[0].record_id
        times: dict[str, list[float]] = {"today": [], "lines": [], "detail": []}
        for _ in range(args.runs):
            times["today"].append(timed(summary))
            times["lines"].append(timed(lambda: campaign_lines(reader, TODAY)))
            times["detail"].append(timed(lambda: campaign_detail(reader, first, TODAY)))
    print(f"{residents:,} residents, {results:,} campaign results; median of {args.runs} (min in brackets)\n")
    print("| measure | ms |")
    print("|---|---:|")
    for key, label in (
        ("today", "Today's numbers (today_summary, before Today is drawn)"),
        ("lines", "the active campaigns' progress (campaign_lines, once Today is drawn)"),
        ("detail", "one campaign's screen: progress and left-out list (campaign_detail)"),
    ):
        values = times[key]
        print(f"| {label} | {statistics.median(values) * 1000:.0f} ({min(values) * 1000:.0f}) |")
    print(f"\nload average at the end: {', '.join(f'{n:.2f}' for n in os.getloadavg())}")


if __name__ == "__main__":
    main()
