"""A campaign's ledger: every target of the campaign is a row, those nobody reached included (未走访), each with the
form's answers under the definition's labels, the status, who recorded it and when; masked as every ledger is;
exported from the tablet as ``field-agent export campaign:KEY``."""

from __future__ import annotations

import csv
import datetime as dt
import json
import re
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from field_agent.cli.main import cli
from field_agent.domain.campaigns.definition import parse_campaign
from field_agent.domain.campaigns.results import coverage, find_targets
from field_agent.domain.demo_campaigns import demo_campaigns
from field_agent.domain.envelope import is_deleted, view
from field_agent.ledgers.campaign_ledger import NOT_VISITED, campaign_ledger, campaign_ledger_list
from field_agent.ledgers.definitions import load_definitions
from field_agent.ledgers.errors import UnknownLedger
from field_agent.ledgers.writers import write_ledger

from .conftest import PASSPHRASE, make_store
from .town import TODAY

KEYS = {campaign.template: campaign.key for campaign in demo_campaigns(TODAY)}
FULL_ID = re.compile(r"\d{17}[\dX]")


def expected(demo: list[dict[str, Any]], key: str) -> dict[str, Any]:
    """What the domain says of the campaign, grid by grid: its targets and the ones left out."""
    views = [view(e) for e in demo if not is_deleted(e)]
    targets: list[str] = []
    left_out: list[str] = []
    done = excused = 0
    for record in (v for v in views if v["kind"] == "campaign" and v["key"] == key):
        grid = record["grid"]
        campaign = parse_campaign(record["definition"])
        residents = [v for v in views if v["kind"] == "resident" and v["grid"] == grid]
        households = {v["id"]: v for v in views if v["kind"] == "household" and v["grid"] == grid}
        found = find_targets(campaign, residents, households, TODAY)
        results = [v for v in views if v["kind"] == "campaign_result" and v["campaign"] == record["id"]]
        progress = coverage(campaign, found, results)
        targets += found
        left_out += progress.left_out
        done, excused = done + len(progress.done), excused + len(progress.excused)
    return {"targets": targets, "left_out": left_out, "done": done, "excused": excused}


@pytest.mark.parametrize("template", sorted(KEYS))
def test_every_target_is_a_row_and_those_left_out_are_listed_too(demo: list[dict[str, Any]], template: str) -> None:
    ledger = campaign_ledger(demo, KEYS[template], TODAY)
    want = expected(demo, KEYS[template])
    assert want["targets"] and want["left_out"]  # the demo has both kinds: the test can tell them apart
    assert len(ledger.rows) == len(want["targets"])
    table = [dict(zip(ledger.headers, row, strict=True)) for row in ledger.text_rows()]
    assert sum(row["完成情况"] == "未完成" for row in table) == len(want["left_out"])
    never = [row for row in table if row["状态"] == NOT_VISITED]
    assert never and all(row["记录人"] == "" and row["记录时间"] == "" for row in never)
    assert {row["完成情况"] for row in table} <= {"完成", "免除", "未完成"}
    targets, done, excused = len(want["targets"]), want["done"], want["excused"]
    assert f"应走访 {targets} " in ledger.summary
    assert f"完成 {done}，免除 {excused}，未完成 {targets - done - excused}" in ledger.summary
    assert f"{100 * (done + excused) / targets:.1f}%" in ledger.summary


def test_the_form_s_fields_are_columns_under_their_labels_with_yes_no_in_chinese(demo: list[dict[str, Any]]) -> None:
    ledger = campaign_ledger(demo, "campaign:" + KEYS["typhoon"], TODAY)
    assert ledger.headers[:4] == ["网格", "户/地址", "姓名", "公民身份号码"]  # two grids: the grid first
    assert ledger.headers[4:9] == ["已联系", "已转移", "安置点", "需求", "已返回"]
    assert ledger.headers[9:] == ["状态", "完成情况", "原因", "记录人", "记录时间"]
    table = [dict(zip(ledger.headers, row, strict=True)) for row in ledger.rows]
    done = [row for row in table if row["状态"] == "已转移"]
    assert done and all(row["已转移"] == "是" for row in done)
    assert all(isinstance(row["记录时间"], dt.datetime) for row in done)
    assert all(row["记录时间"].utcoffset() == dt.timedelta(hours=8) for row in done)  # town time
    assert ledger.title == "防台风转移（12月）台账".replace("12", str(TODAY.month))


def test_id_numbers_are_masked_unless_asked(demo: list[dict[str, Any]]) -> None:
    masked = campaign_ledger(demo, KEYS["elderly_visit"], TODAY)
    full = campaign_ledger(demo, KEYS["elderly_visit"], TODAY, masked=False)
    column = masked.headers.index("公民身份号码")
    assert all("*" in row[column] and not FULL_ID.search(str(row[column])) for row in masked.rows)
    assert all(FULL_ID.fullmatch(str(row[column])) for row in full.rows)
    assert masked.masked and not full.masked


def test_a_household_campaign_lists_households_with_their_head_and_a_masked_phone(demo: list[dict[str, Any]]) -> None:
    ledger = campaign_ledger(demo, KEYS["supplies"], TODAY)
    assert ledger.headers[1:4] == ["户/地址", "户主", "联系电话"]
    assert "户：" in ledger.summary
    phones = [row[3] for row in ledger.rows if row[3]]
    assert phones and all("*" in phone for phone in phones)
    assert len(ledger.rows) == len(expected(demo, KEYS["supplies"])["targets"])


def test_an_unknown_campaign_names_those_there_are(demo: list[dict[str, Any]]) -> None:
    with pytest.raises(UnknownLedger) as caught:
        campaign_ledger(demo, "no-such-campaign", TODAY)
    message = caught.value.describe("zh_CN")
    assert "campaign:no-such-campaign" in message and f"campaign:{KEYS['typhoon']}" in message
    listed = campaign_ledger_list(demo, TODAY)
    assert {item["name"] for item in listed} == {f"campaign:{key}" for key in KEYS.values()}


def test_the_files_hold_the_totals_under_the_title_and_print_as_the_other_ledgers(
    demo: list[dict[str, Any]], tmp_path: Path
) -> None:
    ledger = campaign_ledger(demo, KEYS["vaccination"], TODAY)
    write_ledger(ledger, tmp_path / "v.xlsx")
    write_ledger(ledger, tmp_path / "v.csv")
    sheet = openpyxl.load_workbook(tmp_path / "v.xlsx").active
    assert sheet is not None
    assert ledger.summary in str(sheet["A1"].value)
    assert [c.value for c in sheet[2]] == ["序号", *ledger.headers]
    assert sheet.page_setup.orientation == "landscape" and sheet.print_title_rows == "$2:$2"
    lines = list(csv.reader((tmp_path / "v.csv").open(encoding="utf-8-sig")))
    assert ledger.summary in lines[0][0] and lines[1] == ledger.headers and len(lines) == len(ledger.rows) + 2


# --- the tablet's command line ---------------------------------------------------------------------------------


def run(store: Path, *args: str) -> Any:
    return CliRunner().invoke(cli, ["--store", str(store), *args], env={"FIELD_AGENT_PASSPHRASE": PASSPHRASE})


def test_the_tablet_exports_a_campaign_s_ledger(tmp_path: Path, demo_records: list[Any]) -> None:
    store = make_store(tmp_path / "worker", demo_records, role="worker")
    out = tmp_path / "typhoon.xlsx"
    result = run(store, "export", f"campaign:{KEYS['typhoon']}", "--out", str(out))
    assert result.exit_code == 0, result.output
    rows = [
        r for r in openpyxl.load_workbook(out).active.iter_rows(min_row=3, values_only=True) if isinstance(r[0], int)
    ]
    assert result.output.startswith("已导出 防台风转移") and f"（{len(rows)} 行；" in result.output
    assert rows and all("*" in str(r[3]) for r in rows)  # one grid: 户/地址, 姓名, then the masked number
    refused = run(store, "export", f"campaign:{KEYS['typhoon']}", "--unmasked", "--out", str(tmp_path / "u.xlsx"))
    assert refused.exit_code == 1 and "网格长" in refused.output
    unknown = run(store, "--lang", "en", "export", "campaign:nothing", "--out", str(tmp_path / "n.csv"))
    assert unknown.exit_code == 1 and f"campaign:{KEYS['typhoon']}" in unknown.output


def test_the_list_of_ledgers_names_the_store_s_campaigns_too(tmp_path: Path, demo_records: list[Any]) -> None:
    store = make_store(tmp_path / "worker", demo_records, role="worker")
    listed = run(store, "export", "--list", "--json")
    assert listed.exit_code == 0, listed.output
    names = [item["name"] for item in json.loads(listed.output)]
    town_ledgers = list(load_definitions())
    assert names[: len(town_ledgers)] == town_ledgers
    assert set(names[len(town_ledgers) :]) == {f"campaign:{k}" for k in KEYS.values()}
    plain = run(store, "export", "--list")
    assert "防台风转移" in plain.output and f"campaign:{KEYS['typhoon']}" in plain.output


class Views:
    """Live record views, as an open store gives them to the ledgers (``index.LiveRecords``)."""

    def __init__(self, views: list[dict[str, Any]]) -> None:
        self.views = views

    def live_views(self) -> list[dict[str, Any]]:
        return self.views

    def conflicted(self) -> list[dict[str, Any]]:
        return []


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_whatever_the_results_the_rows_are_the_targets_and_the_open_ones_are_those_left_out(
    demo: list[dict[str, Any]], data: st.DataObject
) -> None:
    """Any results — several per target (two tablets offline), some for people who are no target — give one row
    per target, its best result's status, and 未完成 on exactly the domain's "nobody left out" list."""
    views = [view(e) for e in demo if not is_deleted(e)]
    grid = views[0]["grid"]
    record = next(v for v in views if v["kind"] == "campaign" and v["key"] == KEYS["typhoon"] and v["grid"] == grid)
    campaign = parse_campaign(record["definition"])
    kept = [v for v in views if v["grid"] == grid and v["kind"] != "campaign_result"]
    residents = [v for v in kept if v["kind"] == "resident"]
    households = {v["id"]: v for v in kept if v["kind"] == "household"}
    targets = find_targets(campaign, residents, households, TODAY)
    someone = st.sampled_from([*targets, residents[0]["id"]])
    statuses = st.sampled_from([s.key for s in campaign.statuses])
    drawn = data.draw(st.lists(st.tuples(someone, statuses, st.integers(0, 5)), max_size=40))
    results = [
        {
            "kind": "campaign_result",
            "id": f"r{n}",
            "grid": grid,
            "campaign": record["id"],
            "target": target,
            "status": status,
            "reason": "已核实",
            "at": f"2026-12-0{day + 1}T09:00:00+08:00",
            "by": "林网格",
        }
        for n, (target, status, day) in enumerate(drawn)
    ]
    ledger = campaign_ledger(Views(kept + results), KEYS["typhoon"], TODAY)
    progress = coverage(campaign, targets, results)
    table = [dict(zip(ledger.headers, row, strict=True)) for row in ledger.rows]
    assert len(table) == len(targets)
    by_id = {r["id"]: r for r in residents}
    assert [row["姓名"] for row in table] == [by_id[t]["name"] for t in targets]
    assert [row["完成情况"] == "未完成" for row in table] == [t in progress.left_out for t in targets]
    labels = {s.key: s.label for s in campaign.statuses}
    assert [row["状态"] for row in table] == [labels.get(progress.statuses.get(t, ""), NOT_VISITED) for t in targets]
