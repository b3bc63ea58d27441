"""A ledger exported by Field Agent, unmasked, imports back (issue 16 item 6): into the same store it changes nothing;
into a fresh tablet of the same grid it gives the same residents and households."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from field_agent.cli.main import cli
from field_agent.domain.envelope import view
from field_agent.ledgers.roster_headers import household_key

from .conftest import PASSPHRASE, make_store

RESIDENT_FIELDS = ("name", "id_number", "phone", "residency", "special_groups", "notes")
FLOATING_FIELDS = ("name", "id_number", "phone", "residency", "notes")  # the 流动人口台账 has no 特殊人群


def run(store: Path, *args: str) -> Any:
    return CliRunner().invoke(cli, ["--store", str(store), *args], env={"FIELD_AGENT_PASSPHRASE": PASSPHRASE})


def records(path: Path) -> dict[str, dict[str, Any]]:
    from field_agent.store import Store

    with Store.open(path, PASSPHRASE) as store:
        return {e["id"]: e for e in store.records()}


def people_and_homes(
    path: Path, residency: tuple[str, ...], fields: tuple[str, ...]
) -> tuple[dict[str, Any], dict[tuple[str, ...], str]]:
    """Residents of ``residency`` by ID number (the ``fields`` a ledger carries, and their home's key), their homes
    by key with their head."""
    views = [view(e) for e in records(path).values()]
    homes = {v["id"]: v for v in views if v["kind"] == "household"}
    people = {
        v["id_number"]: {
            **{name: v.get(name) or None for name in fields},
            "home": household_key(homes[v["household"]]),
        }
        for v in views
        if v["kind"] == "resident" and v["residency"] in residency
    }
    lived_in = {person["home"] for person in people.values()}
    heads = {household_key(h): h.get("head") for h in homes.values() if household_key(h) in lived_in}
    return people, heads


@pytest.fixture
def leader_store(tmp_path: Path, demo_records: list[Any]) -> Path:
    return make_store(tmp_path / "leader", demo_records, role="leader", worker="林组长")


@pytest.mark.parametrize(
    ("name", "suffix", "residency", "fields"),
    [
        ("residents", ".xlsx", ("resident", "away"), RESIDENT_FIELDS),
        ("residents", ".csv", ("resident", "away"), RESIDENT_FIELDS),
        ("floating", ".xlsx", ("floating",), FLOATING_FIELDS),  # no 居住状态 column: its title 流动人口台账 says it
    ],
)
def test_an_unmasked_ledger_imports_back_with_no_error_and_no_change(
    leader_store: Path,
    tmp_path: Path,
    demo_records: list[Any],
    name: str,
    suffix: str,
    residency: tuple[str, ...],
    fields: tuple[str, ...],
) -> None:
    ledger = tmp_path / f"{name}{suffix}"
    exported = run(leader_store, "export", name, "--out", str(ledger), "--unmasked", "--json")
    assert exported.exit_code == 0, exported.output
    rows = json.loads(exported.stdout)["rows"]
    before = records(leader_store)
    assert rows == sum(1 for e in before.values() if e["kind"] == "resident" and view(e)["residency"] in residency)

    again = run(leader_store, "import", str(ledger), "--json")
    assert again.exit_code == 0, again.output + again.stderr
    report = json.loads(again.stdout)
    assert report["errors"] == [] and report["imported"] is True
    assert report["summary"] == {
        "rows": rows,
        "households_created": 0,
        "households_updated": 0,
        "residents_created": 0,
        "residents_updated": 0,
        "residents_unchanged": rows,
        "bad_rows": 0,
        "footer_lines": 1 if suffix == ".xlsx" else 0,  # the printed sheet's 填表人/审核人/日期 line
    }
    assert records(leader_store) == before

    fresh = tmp_path / "fresh"
    from field_agent.store import Store

    with Store.create(fresh, PASSPHRASE, grid=demo_records[0].grid) as store:
        store.meta_set("role", "leader")
    into_fresh = run(fresh, "import", str(ledger))
    assert into_fresh.exit_code == 0, into_fresh.output + into_fresh.stderr
    assert people_and_homes(fresh, residency, fields) == people_and_homes(leader_store, residency, fields)
