"""The messy roster of issue 16 (``messy_roster.py``) through both commands, as a grid leader and the town's IT staff
run them: exactly the report expected, in Chinese by default and in English with --lang en."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from field_agent.cli.main import cli
from field_agent.domain.envelope import view
from field_agent.domain.phone import mask_phone
from server_stub.cli import cli as server_cli

from .conftest import PASSPHRASE
from .messy_roster import (
    CHEN,
    ERRORS_EN,
    ERRORS_ZH,
    EXPECTED_PLACES,
    HE,
    INFO_EN,
    INFO_ZH,
    LIN,
    WANG,
    XU,
    write_messy_roster,
)

GRID = "01900000-0000-7000-8000-00000000a001"
REFUSED_ZH = (
    "field-agent: 未导入：5 行有误；跳过 4 条表尾行（见上）；请改正后重新导入，或加 --skip-invalid 只导入正确的行"
)
REFUSED_EN = (
    "field-agent: nothing imported: 5 bad rows; skipped 4 footer lines (listed above); fix them, or import the good "
    "rows with --skip-invalid"
)
IMPORTED_ZH = (
    "已导入 6 行：新增居民 6 人，更新 0 人，未变 0 人；新增住户 5 户，更新 0 户；跳过 5 行有误的行；跳过 4 条表尾行"
)
IMPORTED_EN = (
    "imported 6 rows: 6 new residents, 0 updated, 0 unchanged; 5 new households, 0 updated; skipped 5 bad rows; "
    "skipped 4 footer lines"
)


def enrolled_store(path: Path, role: str = "leader") -> Path:
    """An empty store enrolled in GRID, as a tablet is before its first roster."""
    from field_agent.store import Store

    with Store.create(path, PASSPHRASE, grid=GRID) as store:
        store.meta_set("role", role)
        store.meta_set("worker", "林组长")
    return path


def run(store: Path, *args: str) -> Any:
    return CliRunner().invoke(cli, ["--store", str(store), *args], env={"FIELD_AGENT_PASSPHRASE": PASSPHRASE})


def envelopes(path: Path) -> dict[str, dict[str, Any]]:
    from field_agent.store import Store

    with Store.open(path, PASSPHRASE) as store:
        return {e["id"]: e for e in store.records()}


@pytest.fixture
def messy(tmp_path: Path) -> Path:
    return write_messy_roster(tmp_path / "东门社区花名册.xlsx")


def test_the_messy_roster_is_refused_with_exactly_its_report(messy: Path, tmp_path: Path) -> None:
    store = enrolled_store(tmp_path / "store")
    chinese = run(store, "import", str(messy))
    assert chinese.exit_code == 1
    assert chinese.stderr.splitlines() == [*ERRORS_ZH, REFUSED_ZH]
    assert chinese.stdout.splitlines() == INFO_ZH
    english = run(store, "--lang", "en", "import", str(messy))
    assert english.exit_code == 1
    assert english.stderr.splitlines() == [*ERRORS_EN, REFUSED_EN]
    assert english.stdout.splitlines() == INFO_EN
    assert envelopes(store) == {}


def test_the_language_also_comes_from_field_agent_lang(messy: Path, tmp_path: Path) -> None:
    store = enrolled_store(tmp_path / "store")
    result = CliRunner().invoke(
        cli,
        ["--store", str(store), "import", str(messy)],
        env={"FIELD_AGENT_PASSPHRASE": PASSPHRASE, "FIELD_AGENT_LANG": "en"},
    )
    assert result.stderr.splitlines() == [*ERRORS_EN, REFUSED_EN]


def test_json_names_sheet_line_column_and_code_with_the_reason_in_the_chosen_language(
    messy: Path, tmp_path: Path
) -> None:
    store = enrolled_store(tmp_path / "store")
    for flags, lines, separator in (([], ERRORS_ZH, "："), (["--lang", "en"], ERRORS_EN, ": ")):
        report = json.loads(run(store, *flags, "import", str(messy), "--json").stdout)
        places = [(e["sheet"], e["line"], e["column"], e["header"], e["code"]) for e in report["errors"]]
        assert places == EXPECTED_PLACES
        assert [e["reason"] for e in report["errors"]] == [line.split(separator, 1)[1] for line in lines]
        assert report["imported"] is False and report["bad_rows"] == 5
        assert report["summary"] == {"rows": 6, "bad_rows": 5, "footer_lines": 4}
        assert [(s["name"], s["rows"], s["bad_rows"], s["footer_lines"]) for s in report["sheets"]] == [
            ("一组", 3, 4, 2),
            ("二组", 3, 1, 2),
        ]
        assert report["skipped_sheets"] == [{"name": "说明", "reason": "no_header"}]


def test_skip_invalid_imports_the_good_rows_with_their_words_phones_and_notes(messy: Path, tmp_path: Path) -> None:
    store = enrolled_store(tmp_path / "store")
    result = run(store, "import", str(messy), "--skip-invalid")
    assert result.exit_code == 0, result.output
    assert result.stderr.splitlines() == ERRORS_ZH
    assert result.stdout.splitlines() == [*INFO_ZH, IMPORTED_ZH]
    people = {v["id_number"]: v for v in map(view, envelopes(store).values()) if v["kind"] == "resident"}
    assert set(people) == {CHEN, LIN, WANG, HE, XU, next(n for n in people if people[n]["name"] == "李梅")}
    chen, lin, wang, he, xu = (people[n] for n in (CHEN, LIN, WANG, HE, XU))
    assert (chen["phone"], chen["phone2"]) == ("13812345678", "13912345678")
    assert chen["special_groups"] == ["chronic"] and chen["tags"] == ["独居老人"]
    assert lin["name"] == "林秀英" and lin["special_groups"] == ["disabled"]
    assert lin["notes"] == "女儿在外地\n残疾：肢体二级"
    assert wang["residency"] == "floating" and wang["special_groups"] == ["chronic"]
    assert (he["phone"], he["phone2"]) == ("13600002222", "0591-85551234")
    assert he["special_groups"] == ["chronic", "disabled"] and he["tags"] == ["低保户"]
    assert he["notes"] == "残疾：视力一级"
    assert xu["tags"] == ["留守儿童"] and "phone" not in xu
    assert he["household"] == xu["household"] and chen["household"] != lin["household"]

    before = envelopes(store)
    again = run(store, "--lang", "en", "import", str(messy), "--skip-invalid")
    assert again.stdout.splitlines() == [
        *INFO_EN,
        "imported 6 rows: 0 new residents, 0 updated, 6 unchanged; 0 new households, 0 updated; skipped 5 bad rows; "
        "skipped 4 footer lines",
    ]
    assert envelopes(store) == before


def test_a_note_the_worker_wrote_is_kept_when_the_roster_is_imported_again(messy: Path, tmp_path: Path) -> None:
    from field_agent.store import Store

    store = enrolled_store(tmp_path / "store")
    assert run(store, "import", str(messy), "--skip-invalid").exit_code == 0
    with Store.open(store, PASSPHRASE) as opened:
        lin = next(view(e) for e in opened.records("resident") if view(e)["id_number"] == LIN)
        opened.put("resident", {"notes": "2026-12-03 入户：需要轮椅"}, record_id=lin["id"])
    result = run(store, "import", str(messy), "--skip-invalid", "--json")
    assert json.loads(result.stdout)["summary"]["residents_updated"] == 1
    after = next(v for v in map(view, envelopes(store).values()) if v.get("id_number") == LIN)
    assert after["notes"] == "2026-12-03 入户：需要轮椅\n女儿在外地\n残疾：肢体二级"
    assert (
        json.loads(run(store, "import", str(messy), "--skip-invalid", "--json").stdout)["summary"]["residents_updated"]
        == 0
    )


def test_the_second_phone_is_masked_wherever_the_phone_is(messy: Path, tmp_path: Path) -> None:
    store = enrolled_store(tmp_path / "store", role="worker")
    assert run(store, "import", str(messy), "--skip-invalid").exit_code == 0
    for args in (["records", "list", "--kind", "resident", "--json"], ["records", "list", "--kind", "resident"]):
        listed = run(store, *args)
        assert listed.exit_code == 0, listed.output
        for number in ("13912345678", "0591-85551234", "85551234"):
            assert number not in listed.output
    listed = json.loads(run(store, "records", "list", "--kind", "resident", "--json").stdout)
    chen = next(r for r in listed if r["name"] == "陈大明")
    assert (chen["phone"], chen["phone2"]) == (mask_phone("13812345678"), mask_phone("13912345678"))


def test_only_the_sheet_asked_for_is_read(messy: Path, tmp_path: Path) -> None:
    store = enrolled_store(tmp_path / "store")
    result = run(store, "import", str(messy), "--sheet", "二组")
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        "读取的工作表：「二组」4 行",  # 陈大明 is no longer a second time
        "已导入 4 行：新增居民 4 人，更新 0 人，未变 0 人；新增住户 3 户，更新 0 户；跳过 2 条表尾行",
    ]
    unknown = run(store, "import", str(messy), "--sheet", "三组")
    assert unknown.exit_code == 1
    assert unknown.stderr == "field-agent: 东门社区花名册.xlsx 里没有名为「三组」的工作表；工作表有：一组、二组、说明\n"
    english = run(store, "--lang", "en", "import", str(messy), "--sheet", "三组")
    assert english.stderr == (
        "field-agent: 东门社区花名册.xlsx has no sheet named '三组'; its sheets are 一组, 二组, 说明\n"
    )
    notes = run(store, "import", str(messy), "--sheet", "说明")
    assert notes.exit_code == 1 and "工作表「说明」：前 10 行里没有含“姓名”和“身份证号”的表头行" in notes.stderr


def test_the_town_server_gives_the_same_report(messy: Path, tmp_path: Path) -> None:
    runner = CliRunner()

    def server(*args: str, env: dict[str, str] | None = None) -> Any:
        return runner.invoke(server_cli, ["--data-dir", str(tmp_path / "server"), *args], env=env)

    grid = server("grid", "create", "--town", "玉屏街道", "--name", "东门一网格").stdout.strip()
    refused = server("roster", "import", str(messy), "--grid", grid)
    assert refused.exit_code == 1
    assert refused.stderr.splitlines() == [*ERRORS_ZH, REFUSED_ZH.replace("field-agent:", "field-server:")]
    assert refused.stdout.splitlines() == INFO_ZH
    english = server("roster", "import", str(messy), "--grid", grid, "--skip-invalid", "--lang", "en")
    assert english.exit_code == 0, english.output
    assert english.stderr.splitlines() == ERRORS_EN
    assert english.stdout.splitlines() == [*INFO_EN, IMPORTED_EN]
    by_env = server("roster", "import", str(messy), "--grid", grid, "--json", env={"FIELD_AGENT_LANG": "en"})
    report = json.loads(by_env.stdout)
    assert report["grid"] == grid and report["errors"][0]["reason"].startswith("the ID number is stored as a number")
    assert [(e["sheet"], e["line"], e["column"], e["header"], e["code"]) for e in report["errors"]] == EXPECTED_PLACES
    one_sheet = json.loads(server("roster", "import", str(messy), "--grid", grid, "--sheet", "二组", "--json").stdout)
    assert one_sheet["imported"] is True and one_sheet["summary"]["residents_unchanged"] == 4
    unknown = server("roster", "import", str(messy), "--grid", grid, "--sheet", "三组")
    assert unknown.exit_code == 1 and "工作表有：一组、二组、说明" in unknown.stderr
