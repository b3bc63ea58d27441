"""``field-agent export`` and ``field-agent import`` against a real encrypted store, as a user runs them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from click.testing import CliRunner

from field_agent.cli.main import cli
from field_agent.domain.envelope import view
from field_agent.ledgers.definitions import load_definitions

from .conftest import PASSPHRASE, make_store
from .rosters import GOOD_ROWS, bad_rows, write_csv
from .test_builder import expected_counts


def data_rows(sheet: Any) -> list[tuple[Any, ...]]:
    """A ledger sheet's rows below its title and header, numbered 1.. in 序号 (the signature line after them)."""
    return [row for row in sheet.iter_rows(min_row=3, values_only=True) if isinstance(row[0], int)]


def run(store: Path, *args: str) -> Any:
    return CliRunner().invoke(cli, ["--store", str(store), *args], env={"FIELD_AGENT_PASSPHRASE": PASSPHRASE})


def store_envelopes(path: Path) -> list[dict[str, Any]]:
    from field_agent.store import Store

    with Store.open(path, PASSPHRASE) as store:
        return store.records()


def meta(path: Path, key: str) -> Any:
    from field_agent.store import Store

    with Store.open(path, PASSPHRASE) as store:
        return store.meta_get(key)


@pytest.fixture
def worker_store(tmp_path: Path, demo_records: list[Any]) -> Path:
    return make_store(tmp_path / "worker", demo_records, role="worker")


@pytest.fixture
def leader_store(tmp_path: Path, demo_records: list[Any]) -> Path:
    return make_store(tmp_path / "leader", demo_records, role="leader", worker="林组长")


def test_list_names_the_six_ledgers(tmp_path: Path) -> None:
    result = run(tmp_path / "none", "export", "--list", "--json")
    assert result.exit_code == 0, result.output
    assert [item["name"] for item in json.loads(result.output)] == list(load_definitions())
    plain = run(tmp_path / "none", "export", "--list")
    assert "常住人口台账" in plain.output and "visits" in plain.output


def test_every_ledger_exports_with_the_rows_the_store_holds(worker_store: Path, tmp_path: Path) -> None:
    expected = expected_counts(store_envelopes(worker_store))
    for name in load_definitions():
        out = tmp_path / f"{name}.xlsx"
        result = run(worker_store, "export", name, "--out", str(out))
        assert result.exit_code == 0, result.output
        assert f"（{expected[name]} 行；身份证号、电话已脱敏）到 {out}" in result.output
        sheet = openpyxl.load_workbook(out).active
        assert len(data_rows(sheet)) == expected[name]
    csv_out = tmp_path / "residents.csv"
    assert run(worker_store, "export", "residents", "--out", str(csv_out)).exit_code == 0
    assert csv_out.read_bytes().startswith(b"\xef\xbb\xbf")
    audit = meta(worker_store, "audit")
    assert len(audit) == len(load_definitions()) + 1 and not any(entry["unmasked"] for entry in audit)


def test_unmasked_is_refused_to_a_worker_and_nothing_is_written(worker_store: Path, tmp_path: Path) -> None:
    out = tmp_path / "full.xlsx"
    result = run(worker_store, "export", "residents", "--out", str(out), "--unmasked")
    assert result.exit_code == 1
    assert "只有网格长可以导出完整身份证号和电话" in result.output
    assert not out.exists()
    assert meta(worker_store, "audit") is None


def test_unmasked_is_allowed_to_the_leader_and_audited(leader_store: Path, tmp_path: Path) -> None:
    out = tmp_path / "full.csv"
    result = run(leader_store, "export", "special_groups", "--out", str(out), "--unmasked", "--json")
    assert result.exit_code == 0, result.output
    numbers = {view(e)["id_number"] for e in store_envelopes(leader_store) if e["kind"] == "resident"}
    text = out.read_text("utf-8-sig")
    assert any(number in text for number in numbers)
    (entry,) = meta(leader_store, "audit")
    assert entry["unmasked"] is True and entry["ledger"] == "special_groups" and entry["actor"] == "林组长"
    assert entry["rows"] == json.loads(result.output)["rows"]
    assert not any(number in json.dumps(entry, ensure_ascii=False) for number in numbers)


def test_export_errors_are_one_clear_line(worker_store: Path, tmp_path: Path) -> None:
    unknown = run(worker_store, "--lang", "en", "export", "households", "--out", str(tmp_path / "h.xlsx"))
    assert unknown.exit_code == 1 and "no ledger named 'households'" in unknown.output
    wrong = run(worker_store, "--lang", "en", "export", "visits", "--out", str(tmp_path / "v.pdf"))
    assert wrong.exit_code == 1 and ".xlsx or .csv" in wrong.output
    missing = run(worker_store, "--lang", "en", "export")
    assert missing.exit_code == 1 and "name a ledger" in missing.output


def residents_by_number(path: Path) -> dict[str, dict[str, Any]]:
    return {v["id_number"]: v for v in map(view, store_envelopes(path)) if v["kind"] == "resident"}


def test_import_a_good_roster_then_again_changes_nothing(worker_store: Path, tmp_path: Path) -> None:
    before = residents_by_number(worker_store)
    roster = write_csv(tmp_path / "roster.csv", GOOD_ROWS, encoding="gbk")
    result = run(worker_store, "import", str(roster), "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["imported"] and report["summary"]["residents_created"] == 5 and report["encoding"] == "gbk"
    after = residents_by_number(worker_store)
    assert len(after) == len(before) + 5
    assert after[GOOD_ROWS[0][2]]["special_groups"] == ["chronic"]
    homes = {v["id"]: v for v in map(view, store_envelopes(worker_store)) if v["kind"] == "household"}
    assert homes[after[GOOD_ROWS[0][2]]["household"]]["head"] == "陈大明"
    envelopes = {e["id"]: e for e in store_envelopes(worker_store)}

    again = run(worker_store, "import", str(roster))
    assert again.exit_code == 0, again.output
    assert "已导入 5 行：新增居民 0 人，更新 0 人，未变 5 人；新增住户 0 户，更新 0 户" in again.output
    in_english = run(worker_store, "--lang", "en", "import", str(roster))
    assert "0 new residents, 0 updated, 5 unchanged; 0 new households" in in_english.output
    assert {e["id"]: e for e in store_envelopes(worker_store)} == envelopes


def test_a_roster_with_bad_rows_imports_nothing_and_lists_each(worker_store: Path, tmp_path: Path) -> None:
    before = store_envelopes(worker_store)
    result = run(worker_store, "import", str(write_csv(tmp_path / "bad.csv", bad_rows())))
    assert result.exit_code == 1
    for line in ("第4行 C列", "第5行 D列", "第6行 B列", "第6行 H列", "第8行 C列"):
        assert line in result.output
    assert "未导入：4 行有误（见上）" in result.output
    english = run(worker_store, "--lang", "en", "import", str(write_csv(tmp_path / "bad.csv", bad_rows())))
    for line in ("line 4, column C", "line 5, column D", "line 6, column B", "line 6, column H", "line 8, column C"):
        assert line in english.output
    assert "nothing imported: 4 bad rows" in english.output
    assert store_envelopes(worker_store) == before


def test_skip_invalid_imports_the_good_rows(worker_store: Path, tmp_path: Path) -> None:
    before = residents_by_number(worker_store)
    result = run(worker_store, "import", str(write_csv(tmp_path / "bad.csv", bad_rows())), "--skip-invalid")
    assert result.exit_code == 0, result.output
    assert "跳过 4 行有误的行" in result.output
    assert set(residents_by_number(worker_store)) - set(before) == {GOOD_ROWS[0][2], GOOD_ROWS[2][2]}


def test_import_refuses_a_file_it_cannot_read(worker_store: Path, tmp_path: Path) -> None:
    (tmp_path / "old.xls").write_bytes(b"\xd0\xcf\x11\xe0")
    result = run(worker_store, "import", str(tmp_path / "old.xls"))
    assert result.exit_code == 1 and "请在 Excel 中另存为 .xlsx" in result.output
    english = run(worker_store, "--lang", "en", "import", str(tmp_path / "old.xls"))
    assert english.exit_code == 1 and "save it from Excel as .xlsx" in english.output


def test_a_towns_own_definitions_file_is_used(worker_store: Path, tmp_path: Path) -> None:
    definitions = tmp_path / "ours.json"
    definitions.write_text(
        json.dumps(
            {
                "ledgers": [
                    {
                        "name": "over80",
                        "title_zh": "高龄老人名单",
                        "source": "resident",
                        "filter": [{"field": "special_groups", "nonempty": True}],
                        "sort": ["-age"],
                        "columns": [
                            {"field": "name", "zh": "姓名", "en": "Name"},
                            {"field": "age", "zh": "年龄", "en": "Age"},
                        ],
                    }
                ]
            },
            ensure_ascii=False,
        ),
        encoding="utf-8",
    )
    out = tmp_path / "over80.xlsx"
    result = run(worker_store, "export", "over80", "--out", str(out), "--definitions", str(definitions))
    assert result.exit_code == 0, result.output
    sheet = openpyxl.load_workbook(out).active
    assert "高龄老人名单" in sheet["A1"].value and [c.value for c in sheet[2]] == ["序号", "姓名", "年龄"]
    ages = [row[2] for row in data_rows(sheet)]
    assert ages == sorted(ages, reverse=True) and ages


def test_records_print_masked_and_only_the_leader_may_unmask_them(worker_store: Path, leader_store: Path) -> None:
    numbers = {view(e)["id_number"] for e in store_envelopes(worker_store) if e["kind"] == "resident"}
    listed = run(worker_store, "records", "list", "--kind", "resident", "--json")
    assert listed.exit_code == 0, listed.output
    assert not any(number in listed.output for number in numbers)
    one = json.loads(listed.output)[0]
    assert one["id_number"].count("*") == 10
    for args in (["list", "--json"], ["get", one["id"], "--json"], ["get", one["id"], "--envelope"]):
        refused = run(worker_store, "records", *args, "--unmasked")
        assert refused.exit_code == 1 and "only the grid leader may print full ID numbers" in refused.output
        assert not any(number in refused.output for number in numbers)
    assert meta(worker_store, "audit") is None
    full = run(leader_store, "records", "get", one["id"], "--json", "--unmasked")
    assert full.exit_code == 0, full.output
    assert json.loads(full.output)["id_number"] in numbers
    (entry,) = meta(leader_store, "audit")
    assert entry["action"] == "records" and entry["unmasked"] is True and entry["actor"] == "林组长"
    assert entry["scope"] == f"records get {one['id']}" and entry["rows"] == 1
    assert not any(number in json.dumps(entry, ensure_ascii=False) for number in numbers)
