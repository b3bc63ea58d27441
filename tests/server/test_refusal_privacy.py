"""A refused change's reason names the field and the rule, never the value sent; stored answers are sealed.

Personal data typed into the wrong field (a phone written with separators, a name, an e-mail) must not come back
in the refusal reason, in the HTTP answer, or in the answer the server keeps for a retried batch (``batches``),
and that stored answer is sealed like the records, on SQLite and PostgreSQL.
"""

from __future__ import annotations

import itertools
import re
import sqlite3
from pathlib import Path
from typing import Any

import anyio
import anyio.from_thread
import anyio.to_thread
import orjson
import psycopg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from field_agent.domain.schema import SCHEMAS
from server_stub.db import open_database
from server_stub.records import create_grid
from server_stub.sealing import PREFIX, Sealer, key_path

from .harness import Harness

PHONE = "138-1234-5678"
NAME = "欧阳秀兰"


def every_field_holding(kind: str, value: str, shape: int) -> tuple[dict[str, Any], dict[str, dict[str, bool]]]:
    """A write of ``kind`` with ``value`` in every field, in the shape each field's type takes (or, by ``shape``,
    the value as it is), so every checker sees it: plain, in a list, as a set element, a member, a map key."""
    values: dict[str, Any] = {}
    sets: dict[str, dict[str, bool]] = {}
    for name, spec in SCHEMAS[kind].items():
        if spec.is_set:
            sets[name] = {value: True}
        elif shape == 0:
            values[name] = value
        elif spec.type in ("enum_list", "id_list"):
            values[name] = ["cough", value] if spec.type == "enum_list" else [value]
        elif spec.type == "members":
            values[name] = [{"name": value, "phone": value}, {"name": value, "role": value}]
        elif spec.type == "health":
            values[name] = {value: {"fever": value}}
        else:
            values[name] = value
    return values, sets


def _digits(value: str) -> str:
    return "".join(char for char in value if char.isdigit())


def assert_not_quoted(value: str, text: str, reason: bool = True) -> None:
    """Neither the value, nor its digits alone (a phone without its separators); a reason holds no run of five
    digits at all (an answer does: record ids)."""
    assert value not in text
    if len(_digits(value)) >= 5:
        assert _digits(value) not in text
    if reason:
        assert not re.search(r"[0-9]{5}", text), text


separator = st.sampled_from(["-", " ", ".", "—", "  ", "－"])
phones = st.builds(
    lambda prefix, a, b, c, sep: f"{prefix}{a}{sep}{b}{sep}{c}",
    st.sampled_from(["", "+86 ", "0086-"]),
    st.from_regex(r"1[3-9][0-9]", fullmatch=True),
    st.from_regex(r"[0-9]{4}", fullmatch=True),
    st.from_regex(r"[0-9]{4}", fullmatch=True),
    separator,
)
id_numbers = st.builds(
    lambda a, b, c, sep: f"{a}{sep}{b}{sep}{c}",
    st.from_regex(r"[1-6][0-9]{5}", fullmatch=True),
    st.from_regex(r"(19|20)[0-9]{6}", fullmatch=True),
    st.from_regex(r"[0-9]{3}[0-9X]", fullmatch=True),
    separator,
)
chinese_names = st.builds(
    lambda surname, given: surname + given,
    st.sampled_from(["欧阳", "王", "李", "张", "刘", "陈", "林", "黄", "司马"]),
    st.text(alphabet=st.characters(min_codepoint=0x4E00, max_codepoint=0x9FA5), min_size=1, max_size=3),
)
emails = st.from_regex(r"[a-z][a-z0-9._]{3,12}@[a-z]{3,8}\.(com|cn|net)", fullmatch=True)
personal = st.one_of(phones, id_numbers, chinese_names, emails)


async def test_values_in_every_field_of_every_kind_never_come_back_in_a_reason(sqlite_url: str) -> None:
    server = Harness(sqlite_url)
    tablet = await server.tablet(server.grid(), role="leader")  # a leader may write every field of the grid
    device_id = str(tablet.enrolment["device_id"])
    batches = itertools.count(1)

    @settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(value=personal, shape=st.integers(0, 1))
    def check(value: str, shape: int) -> None:
        changes = []
        for kind in SCHEMAS:
            values, sets = every_field_holding(kind, value, shape)
            record_id = tablet.grid if kind == "grid" else None  # the grid's record is its own, and it exists
            changes.append(tablet.edit(record_id, kind=kind, values=values, sets=sets))
        batch_id = f"privacy-{next(batches):06d}"
        response = anyio.from_thread.run(tablet.push, changes, batch_id)  # over HTTP, on the test's event loop
        assert response.status_code == 200, response.text
        results = response.json()["results"]
        reasons = [result["reason"] for result in results if result["status"] == "refused"]
        assert len(reasons) >= 4, results  # (a valid phone is a valid household, for one)
        for reason in reasons:
            assert_not_quoted(value, reason)
        assert_not_quoted(value, response.text, reason=False)
        with server.db.transaction() as tx:
            stored = tx.get_batch(device_id, batch_id)
            (raw,) = tx._run(  # type: ignore[attr-defined]
                "SELECT response FROM batches WHERE batch_id = ?", (batch_id,)
            ).fetchone()
        assert stored is not None and orjson.loads(stored)["results"] == results
        assert_not_quoted(value, stored, reason=False)
        assert raw.startswith(PREFIX) and value not in raw

    try:
        await anyio.to_thread.run_sync(check)
    finally:
        await server.close()


async def test_a_refused_reason_names_the_field_and_what_it_expects(server: Harness) -> None:
    tablet = await server.tablet(server.grid())
    change = tablet.edit(kind="resident", values={"phone": PHONE + "9", "isolation_days": NAME})
    (result,) = await tablet.push_ok([change])
    assert result["status"] == "refused" and result["code"] == "invalid_record"
    assert "phone: mobile number must have 11 digits, not 12" in result["reason"]
    assert "isolation_days: must be a whole number" in result["reason"]
    assert NAME not in result["reason"] and "138" not in result["reason"]


def encodings(secret: str) -> list[bytes]:
    """The ways a value could lie in a file: UTF-8, UTF-16, JSON's \\u escapes, and its digits alone."""
    forms = [secret.encode(), secret.encode("utf-16-le"), secret.encode("utf-16-be"), secret.encode("gb18030")]
    forms.append(secret.encode("unicode_escape"))  # \u6b27…, as JSON with ensure_ascii writes it
    if _digits(secret):
        forms.append(_digits(secret).encode())
    return [form for form in forms if form]


async def push_refused_personal_data(server: Harness) -> tuple[str, str]:
    tablet = await server.tablet(server.grid())
    # a phone with separators in the phone field, broken; a name typed into a number field and an enumeration
    change = tablet.edit(
        kind="resident", values={"phone": "138-1234-56789", "isolation_days": NAME, "residency": NAME + " 本地"}
    )
    batch_id = "privacy-batch-000001"
    (result,) = await tablet.push_ok([change], batch_id=batch_id)
    assert result["status"] == "refused"
    replay = await tablet.push([change], batch_id=batch_id)  # answered from the stored answer, which still opens
    assert replay.json()["replayed"] is True and replay.json()["results"] == [result]
    return str(tablet.enrolment["device_id"]), batch_id


SECRETS = (NAME, "138-1234-56789", "13812345678")


async def test_the_stored_answer_of_a_refusal_is_sealed_on_disk_sqlite(sqlite_url: str) -> None:
    server = Harness(sqlite_url)
    try:
        await push_refused_personal_data(server)
        database = Path(sqlite_url[len("sqlite:///") :])
        files = [database, *database.parent.glob(database.name + "-*")]
        assert any(file.name.endswith("-wal") and file.stat().st_size for file in files)  # the WAL is read too
        for file in files:
            content = file.read_bytes()
            for secret in SECRETS:
                for form in encodings(secret):
                    assert form not in content, f"{secret!r} as {form!r} in {file.name}"
    finally:
        await server.close()


@pytest.mark.postgres
async def test_the_stored_answer_of_a_refusal_is_sealed_in_postgresql(pg_url: str) -> None:
    server = Harness(pg_url)
    try:
        await push_refused_personal_data(server)
    finally:
        await server.close()
    conninfo, schema = pg_url.split("?schema=")
    with psycopg.connect(conninfo, autocommit=True) as connection:
        responses = [row[0] for row in connection.execute(f'SELECT response FROM "{schema}".batches')]
        assert responses and all(response.startswith(PREFIX) for response in responses)
        for secret in SECRETS:
            assert not [response for response in responses if secret in response]
        try:
            connection.execute("CHECKPOINT")  # the table's pages on disk
            (directory,) = connection.execute("SELECT current_setting('data_directory')").fetchone()
            files = [
                Path(directory) / row[0]
                for row in connection.execute(
                    "SELECT pg_relation_filepath(c.oid) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                    "WHERE n.nspname = %s AND c.relname = 'batches' UNION ALL "
                    "SELECT pg_relation_filepath(c.reltoastrelid) FROM pg_class c JOIN pg_namespace n "
                    "ON n.oid = c.relnamespace WHERE n.nspname = %s AND c.relname = 'batches' AND c.reltoastrelid <> 0",
                    (schema, schema),
                )
            ]
            contents = [file.read_bytes() for file in files]
        except (psycopg.Error, OSError) as error:
            pytest.skip(f"the PostgreSQL files are not readable here: {error}")
    assert contents and any(contents)
    for content in contents:
        for secret in SECRETS:
            for form in encodings(secret):
                assert form not in content


def test_plaintext_answers_of_an_older_database_are_sealed_when_it_opens(sqlite_url: str) -> None:
    with open_database(sqlite_url) as db:
        create_grid(db, town="玉屏街道", name="一网格")
    path = Path(sqlite_url[len("sqlite:///") :])
    answer = orjson.dumps(
        {"batch_id": "old-1", "results": [{"record": "r", "status": "refused", "reason": f"phone {PHONE} {NAME}"}]}
    ).decode()
    with sqlite3.connect(path) as connection:  # as an earlier version kept it: the answer in the clear
        connection.execute("INSERT INTO batches VALUES ('device-1', 'old-1', ?, 1)", (answer,))
        connection.execute("DELETE FROM meta WHERE key = 'answers_sealed'")
    assert NAME.encode() in b"".join(file.read_bytes() for file in path.parent.glob(path.name + "*"))

    with open_database(sqlite_url) as db, db.transaction() as tx:
        assert tx.get_batch("device-1", "old-1") == answer  # still replayed, now from its sealed form
    (stored,) = sqlite3.connect(path).execute("SELECT response FROM batches").fetchone()
    assert stored.startswith(PREFIX)
    assert Sealer(key_path(sqlite_url).read_bytes()).open_answer("device-1", "old-1", stored).decode() == answer
    for file in [path, *path.parent.glob(path.name + "-*")]:  # VACUUM left no old page behind
        for secret in (NAME, PHONE):
            assert secret.encode() not in file.read_bytes(), file.name


def test_a_stored_answer_moved_to_another_batch_does_not_open(sqlite_url: str) -> None:
    sealer = Sealer(b"k" * 32)
    stored = sealer.seal_answer("device-1", "batch-1", b'{"results": []}')
    assert sealer.open_answer("device-1", "batch-1", stored) == b'{"results": []}'
    for device, batch in (("device-2", "batch-1"), ("device-1", "batch-2")):
        with pytest.raises(Exception, match="does not open"):
            sealer.open_answer(device, batch, stored)


@pytest.mark.postgres
def test_plaintext_answers_of_an_older_postgresql_database_are_sealed_when_it_opens(pg_url: str) -> None:
    with open_database(pg_url) as db:
        create_grid(db, town="玉屏街道", name="一网格")
    answer = orjson.dumps({"batch_id": "old-1", "results": [{"reason": f"phone {PHONE} {NAME}"}]}).decode()
    conninfo, schema = pg_url.split("?schema=")
    with psycopg.connect(conninfo, autocommit=True) as connection:
        connection.execute(f'INSERT INTO "{schema}".batches VALUES (%s, %s, %s, 1)', ("device-1", "old-1", answer))
        connection.execute(f"DELETE FROM \"{schema}\".meta WHERE key = 'answers_sealed'")
    with open_database(pg_url) as db, db.transaction() as tx:
        assert tx.get_batch("device-1", "old-1") == answer
    with psycopg.connect(conninfo) as connection:
        (stored,) = connection.execute(f'SELECT response FROM "{schema}".batches').fetchone()
    assert stored.startswith(PREFIX) and NAME not in stored and PHONE not in stored
