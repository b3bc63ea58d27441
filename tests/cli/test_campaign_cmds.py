"""``field-agent campaigns list|show`` on the demo town's store: the progress every record in full gives, the
left-out people with masked ID numbers, one-line errors."""

from __future__ import annotations

import json
import shutil
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from field_agent.cli.main import cli
from field_agent.domain.campaigns.definition import parse_campaign
from field_agent.domain.campaigns.results import coverage, find_targets
from field_agent.domain.envelope import view
from field_agent.store import Store
from field_agent.tui.setup import create_store

PASSPHRASE = "correct horse battery staple"
CHINA = timezone(timedelta(hours=8))


@pytest.fixture(scope="module")
def demo_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo town made today (its campaigns run from two days ago to a week ahead: active when the CLI runs)."""
    path = tmp_path_factory.mktemp("campaigns") / "store"
    create_store(path, PASSPHRASE, [], "", demo=True, now=lambda: datetime.now(CHINA)).close()
    return path


@pytest.fixture
def run(demo_store: Path, tmp_path: Path):
    store = tmp_path / "store"
    shutil.copytree(demo_store, store)

    def invoke(*args: str):
        return CliRunner().invoke(cli, ["--store", str(store), *args], env={"FIELD_AGENT_PASSPHRASE": PASSPHRASE})

    invoke.store = store  # type: ignore[attr-defined]
    return invoke


def expected(store_path: Path) -> dict[str, dict[str, Any]]:
    """Each campaign's progress worked out by the domain from every record in full, by key."""
    today = datetime.now(CHINA).date()
    with Store.open(store_path, PASSPHRASE) as store:
        views = [view(envelope) for envelope in store.records()]
    residents = [v for v in views if v["kind"] == "resident" and not v.get("_deleted")]
    households = {v["id"]: v for v in views if v["kind"] == "household" and not v.get("_deleted")}
    found = {}
    for record in (v for v in views if v["kind"] == "campaign"):
        campaign = parse_campaign(record["definition"])
        targets = find_targets(campaign, residents, households, today)
        results = [v for v in views if v["kind"] == "campaign_result" and v["campaign"] == record["id"]]
        cover = coverage(campaign, targets, results)
        found[campaign.key] = {
            "targets": len(targets),
            "done": len(cover.done),
            "excused": len(cover.excused),
            "left_out": list(cover.left_out),
            "template": campaign.template,
        }
    return found


def test_list_json_gives_each_active_campaigns_progress(run) -> None:
    result = run("campaigns", "list", "--json")
    assert result.exit_code == 0, result.stderr
    listed = {entry["key"]: entry for entry in json.loads(result.stdout)}
    truth = expected(run.store)
    assert set(listed) == set(truth) and len(listed) == 4
    for key, entry in listed.items():
        want = truth[key]
        assert entry["status"] == "active" and entry["template"] == want["template"]
        assert (entry["targets"], entry["done"], entry["excused"]) == (want["targets"], want["done"], want["excused"])
        assert entry["left_out"] == len(want["left_out"]) > 0
        assert entry["starts"] <= datetime.now(CHINA).date().isoformat() <= entry["ends"]
    text = run("campaigns", "list")
    assert text.exit_code == 0 and len(text.stdout.splitlines()) == 4


def test_show_json_lists_who_is_left_out_with_masked_id_numbers(run) -> None:
    every = expected(run.store)
    key = next(key for key, entry in every.items() if entry["template"] == "vaccination")
    truth = every[key]
    result = run("campaigns", "show", key, "--json")
    assert result.exit_code == 0, result.stderr
    shown = json.loads(result.stdout)
    assert shown["left_out"] == len(truth["left_out"]) == len(shown["left_out_list"])
    assert sorted(row["target"] for row in shown["left_out_list"]) == sorted(truth["left_out"])
    with Store.open(run.store, PASSPHRASE) as store:
        numbers = {row["target"]: view(store.get(row["target"]))["id_number"] for row in shown["left_out_list"]}
    for row in shown["left_out_list"]:
        full = numbers[row["target"]]
        assert row["name"] and row["address"]
        assert row["id_number"] == full[:6] + "*" * 10 + full[-2:]
        assert full not in result.stdout
    supplies = next(key for key, entry in every.items() if entry["template"] == "supplies")
    households = run("campaigns", "show", supplies, "--json")
    assert json.loads(households.stdout)["subject"] == "household"


def test_show_of_an_unknown_campaign_fails_with_one_line(run) -> None:
    result = run("campaigns", "show", "no-such-campaign")
    assert result.exit_code == 1
    assert "no-such-campaign" in result.stderr and result.stderr.count("\n") == 1
