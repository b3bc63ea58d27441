"""What keeps a town server recoverable: ``field-server backup FILE`` and ``field-server key check [KEY_FILE]``.

``backup`` makes a consistent, sealed copy of a SQLite server database while it serves.

The copy is checked before the command says it is done: SQLite's integrity check, and the server's key opens it
(the sealing check value and every record). The key file is never put into the backup: a backup that travels
(a USB disk, another office) then reveals nothing, and the key is kept, and backed up, elsewhere. A PostgreSQL
database is backed up with PostgreSQL's own tools (``pg_dump``); the command says so, and where the key is.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import click

from server_stub.cli import common_options, echo_json, fail, open_db, server_dir
from server_stub.config import default_db_url
from server_stub.db.base import Database
from server_stub.sealing import SealError, key_path


@click.command("backup")
@common_options
@click.argument("target", type=click.Path(dir_okay=False, path_type=Path))
def backup_command(db_url: str | None, as_json: bool, target: Path) -> None:
    """Copy the SQLite database to TARGET (a new file) while the server runs, then check the copy."""
    from server_stub.db.sqlite import SqliteDatabase

    url = db_url or default_db_url(server_dir())
    key = key_path(url)
    if not url.startswith("sqlite:///"):
        fail(f"back up a PostgreSQL database with pg_dump, and its key file {key} separately (the dump is sealed)")
    if target.exists():
        fail(f"{target} already exists: a backup never overwrites a file")
    if not target.parent.is_dir():
        fail(f"{target.parent} is not a folder")
    with open_db(url) as db:
        assert isinstance(db, SqliteDatabase)
        db.backup_to(target)
        report = _check_copy(target, db, url)
    report.update(backup=str(target), key_file=str(key))
    if as_json:
        echo_json(report)
        return
    click.echo(
        f"Backed up {report['records']} records ({report['bytes'] // 1024} KiB) to {target}; checked: it opens with "
        "the server's key."
    )
    click.echo(
        f"The key file is not in the backup. Keep a copy of {key} elsewhere: without it the backup is unreadable."
    )


def _check_copy(target: Path, db: Database, url: str) -> dict[str, Any]:
    """The copy passes SQLite's integrity check and the server's key opens its check value and every record in it
    (read only: nothing is added beside the copy); the copy is removed if not."""
    from server_stub.db.sql import SEAL_CHECK_ID, SEAL_CHECK_KEY

    try:
        connection = sqlite3.connect(f"{target.resolve().as_uri()}?mode=ro", uri=True)
        try:
            verdict = connection.execute("PRAGMA integrity_check").fetchone()[0]
            if verdict != "ok":
                raise click.ClickException(f"the copy failed SQLite's integrity check: {verdict}")
            (check,) = connection.execute("SELECT value FROM meta WHERE key = ?", (SEAL_CHECK_KEY,)).fetchone()
            db.sealer.open(SEAL_CHECK_ID, check)
            records = 0
            for record_id, body in connection.execute("SELECT id, body FROM records"):
                db.sealer.open(record_id, body)
                records += 1
        finally:
            connection.close()
    except SealError as error:
        target.unlink(missing_ok=True)
        fail(f"the copy did not check out, so it was removed: {error}")
    except BaseException:
        target.unlink(missing_ok=True)
        raise
    return {"records": records, "bytes": target.stat().st_size, "integrity": "ok", "db": url.split("?")[0]}


@click.group("key")
def key_group() -> None:
    """The key that seals the records in the server database."""


@key_group.command("check")
@common_options
@click.argument("key_file", required=False, type=click.Path(dir_okay=False, exists=True, path_type=Path))
def key_check(db_url: str | None, as_json: bool, key_file: Path | None) -> None:
    """Check that KEY_FILE (default: the server's own key file) opens every record of the database.

    Run it on the copy of the key you keep for emergencies, before you need it.
    """
    from server_stub.db import open_database
    from server_stub.sealing import sealer_from_file

    url = db_url or default_db_url(server_dir())
    path = key_file or key_path(url)
    with open_database(url, sealer_from_file(path, create=False)) as db:
        records = sum(1 for _ in db.iter_records())  # opens every record
    if as_json:
        echo_json({"key_file": str(path), "db": url.split("?")[0], "records": records, "opens": True})
    else:
        click.echo(f"{path} opens the database {url.split('?')[0]}: all {records} records checked.")
