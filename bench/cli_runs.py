"""Does a log grown by many short-lived processes get compacted? Prints the log size after each run.

    .venv/bin/python bench/cli_runs.py --runs 20 --puts 500 [--compare /path/to/other/checkout]

Each run is a process of its own (as a CLI command is): open the store, save ``--puts`` new residents and edit as
many, close. With ``--compare`` the same is done with that checkout's code, on a store of its own.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("FIELD_AGENT_KDF_PROFILE", "test")
PASSPHRASE = "benchmark passphrase of decent length"


def one_run(path: Path, puts: int, seed: int) -> None:
    from field_agent.store import Store

    spec = importlib.util.spec_from_file_location("bench_varied", Path(__file__).with_name("varied.py"))
    assert spec is not None and spec.loader is not None
    varied = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(varied)
    rows = varied.varied_records(puts, seed)
    with (
        Store.open(path, PASSPHRASE)
        if (path / "store.log").exists()
        else Store.create(path, PASSPHRASE, grid="bench") as store
    ):
        ids = [store.put("resident", row)["id"] for row in rows]
        for record_id, row in zip(ids, reversed(rows), strict=True):
            store.put("resident", {"notes": row["notes"]}, record_id=record_id)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--puts", type=int, default=500)
    parser.add_argument("--compare", type=Path)
    parser.add_argument("--one", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        one_run(Path(args.one[0]), args.puts, int(args.one[1]))
        return
    here = str(Path(__file__).resolve().parents[1])
    codes = [("this checkout", here)] + ([("compare", str(args.compare.resolve()))] if args.compare else [])
    root = Path(tempfile.mkdtemp(prefix="cli-runs-", dir=os.environ.get("BENCH_DIR")))
    try:
        for label, code in codes:
            path = root / label.replace(" ", "-")
            sizes = []
            started = time.perf_counter()
            for number in range(args.runs):
                command = [sys.executable, __file__, "--puts", str(args.puts), "--one", str(path), str(number)]
                subprocess.run(command, env={**os.environ, "PYTHONPATH": code}, check=True)
                sizes.append((path / "store.log").stat().st_size)
            took = time.perf_counter() - started
            print(f"{label} ({code}): {took:.0f} s, load {os.getloadavg()[0]:.1f}; log MB after each run: "
                  + " ".join(f"{size / 1e6:.1f}" for size in sizes))  # fmt: skip
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
