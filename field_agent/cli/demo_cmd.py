"""``field-agent demo``: a local town server with a demo town, an enrolled encrypted store, and the app on it.

The town server runs as its own process (``field-server``), exactly as a town's IT staff would run it; the demo
store is a real encrypted store enrolled with a one-time code and synced before the app opens.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import click
import httpx
import platformdirs

from field_agent.cli.common import fail, language
from field_agent.server_extra import INSTALL_SERVER, missing_server_packages

DEMO_PASSPHRASE = "fuqing demo grid 2026"
SERVER_START_TIMEOUT_S = 30.0
NO_SERVER = {
    "zh_CN": "演示要在本机运行镇服务器，但缺少它的软件包（{missing}）：请先运行 {install}",
    "en": "the demo runs a local town server, whose packages are missing ({missing}): {install} first",
}


def _server_command(data_dir: Path, *args: str) -> list[str]:
    return [sys.executable, "-c", "from server_stub.cli import main; main()", "--data-dir", str(data_dir), *args]


def _admin(data_dir: Path, *args: str) -> dict:
    """Run a ``field-server`` admin command with --json and return its answer."""
    done = subprocess.run(_server_command(data_dir, *args, "--json"), capture_output=True, text=True, check=False)
    if done.returncode != 0:
        fail(f"field-server {args[0]} failed: {done.stderr.strip() or done.stdout.strip()}")
    return json.loads(done.stdout)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _raise_exit(signum: int, _frame: object) -> None:
    raise SystemExit(128 + signum)


@contextlib.contextmanager
def running_server(data_dir: Path, port: int) -> Iterator[str]:
    """Start ``field-server serve`` on 127.0.0.1 and stop it on exit."""
    log = (data_dir / "server.log").open("ab")
    process = subprocess.Popen(
        # one worker process: one person uses the demo, and it starts faster and lighter than one per core
        _server_command(data_dir, "serve", "--host", "127.0.0.1", "--port", str(port), "--workers", "1"),
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    # A closed terminal (SIGHUP) or a kill (SIGTERM) must still stop the server: unwind through `finally`.
    previous = {sig: signal.signal(sig, _raise_exit) for sig in (signal.SIGHUP, signal.SIGTERM)}
    try:
        deadline = time.monotonic() + SERVER_START_TIMEOUT_S
        while True:
            if process.poll() is not None:
                fail(f"the demo server stopped at start (exit {process.returncode}); see {data_dir / 'server.log'}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{url}/v1/health", timeout=1.0).status_code == 200:
                    break
            if time.monotonic() > deadline:
                fail(f"the demo server did not answer within {SERVER_START_TIMEOUT_S:.0f} s; see server.log")
            time.sleep(0.1)
        yield url
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


def prepare_demo(demo_dir: Path, url: str, households: int) -> dict:
    """Seed the demo town on the server, create and enrol the demo store, and sync it once."""
    from field_agent.store import Store
    from field_agent.sync.agent import SyncAgent
    from field_agent.sync.enroll import enroll

    server_dir, store_dir = demo_dir / "server", demo_dir / "store"
    seeded = _admin(server_dir, "seed-demo", "--grids", "1", "--households", str(households))
    grid_id = seeded["grids"][0]
    grids = _admin(server_dir, "grid", "list")
    grid = next(g for g in grids["grids"] if g["id"] == grid_id)
    leader = grid.get("leader") or "网格长"
    issued = _admin(server_dir, "enroll-code", "--grid", grid_id, "--worker", leader, "--role", "leader")
    office = _admin(server_dir, "office", "token")
    store = Store.create(store_dir, DEMO_PASSPHRASE, grid=grid_id)
    try:
        asyncio.run(enroll(store, url, issued["code"], "demo tablet"))
        result = asyncio.run(SyncAgent(store).sync())
    finally:
        store.close()
    if result.error:
        fail(f"the first sync of the demo store failed: {result.error}")
    (demo_dir / "office-token").write_text(office.get("token", ""), encoding="utf-8")
    os.chmod(demo_dir / "office-token", 0o600)
    return {"grid": grid_id, "leader": leader, "pulled": result.pulled}


def _point_store_at(store_dir: Path, url: str) -> None:
    from field_agent.store import Store

    with Store.open(store_dir, DEMO_PASSPHRASE) as store:
        store.meta_set("server_url", url)


@click.command(name="demo")
@click.option("--dir", "demo_dir", type=click.Path(path_type=Path), default=None, help="Where the demo lives.")
@click.option("--fresh", is_flag=True, help="Throw the old demo away and start again.")
@click.option("--households", default=300, show_default=True, type=click.IntRange(1, 20_000))
@click.option("--port", default=0, type=click.IntRange(0, 65535), help="Server port (default: a free one).")
@click.option("--no-tui", is_flag=True, help="Prepare and sync the demo, print where it is, and stop.")
@click.pass_context
def demo_command(
    ctx: click.Context, demo_dir: Path | None, fresh: bool, households: int, port: int, no_tui: bool
) -> None:
    """Local town server + demo town + enrolled encrypted store + the terminal app, in one command."""
    missing = missing_server_packages()
    if missing:
        fail(NO_SERVER[language(ctx)].format(missing=", ".join(missing), install=INSTALL_SERVER))
    demo_dir = demo_dir or Path(platformdirs.user_data_dir("field-agent", appauthor=False)) / "demo"
    if fresh and demo_dir.exists():
        shutil.rmtree(demo_dir)
    (demo_dir / "server").mkdir(parents=True, exist_ok=True)
    os.chmod(demo_dir, 0o700)
    store_dir = demo_dir / "store"
    with running_server(demo_dir / "server", port or _free_port()) as url:
        if not store_dir.exists():
            click.echo(f"Setting up the demo town ({households} households) …")
            prepared = prepare_demo(demo_dir, url, households)
            click.echo(f"Enrolled as grid leader {prepared['leader']}; pulled {prepared['pulled']} records.")
        else:
            _point_store_at(store_dir, url)
        click.echo(f"Town server:  {url}   (office overview: {url}/office, token in {demo_dir / 'office-token'})")
        click.echo(f"Store:        {store_dir}")
        click.echo(f"Passphrase:   {DEMO_PASSPHRASE}")
        if no_tui:
            return
        from field_agent.tui.app import make_app

        make_app(store_dir, lang=ctx.find_root().obj.get("lang"), demo_passphrase=DEMO_PASSPHRASE).run()
