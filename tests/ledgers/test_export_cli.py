"""Exports as the user runs them: default file names (scope, ledger, date), --out FOLDER and --format, messages and
errors in Chinese by default and in English with --lang en, on the tablet, on the server and from the office page."""

from __future__ import annotations

import errno
import tempfile
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import httpx
import openpyxl
import pytest
from click.testing import CliRunner
from fastapi import FastAPI

from field_agent.cli.main import cli
from server_stub.db.sqlite import SqliteDatabase
from server_stub.office import export_command, issue_office_token, router

from .conftest import PASSPHRASE, make_store
from .town import G1, G2, TODAY

DAY = TODAY.isoformat()


def run(store: Path, *args: str, env: dict[str, str] | None = None) -> Any:
    return CliRunner().invoke(
        cli, ["--store", str(store), *args], env={"FIELD_AGENT_PASSPHRASE": PASSPHRASE, **(env or {})}
    )


@pytest.fixture
def worker_store(tmp_path: Path, demo_records: list[Any]) -> Path:
    """The demo's first grid: 玉屏街道, 东门社区, grid 东门社区第1网格."""
    return make_store(tmp_path / "worker", demo_records, role="worker")


@pytest.fixture
def elsewhere(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The folder the user runs the command in."""
    folder = tmp_path / "here"
    folder.mkdir()
    monkeypatch.chdir(folder)
    return folder


def test_export_without_out_names_the_file_by_grid_ledger_and_date(worker_store: Path, elsewhere: Path) -> None:
    result = run(worker_store, "export", "residents")
    assert result.exit_code == 0, result.output
    name = f"东门社区第1网格-常住人口台账-{DAY}.xlsx"
    assert [p.name for p in elsewhere.iterdir()] == [name]
    rows = sum(
        isinstance(r[0], int) for r in openpyxl.load_workbook(elsewhere / name).active.iter_rows(values_only=True)
    )
    assert result.output == f"已导出 常住人口台账（{rows} 行；身份证号、电话已脱敏）到 {name}\n"


def test_export_to_a_folder_as_csv_in_english(worker_store: Path, tmp_path: Path) -> None:
    folder = tmp_path / "exports"
    folder.mkdir()
    result = run(worker_store, "--lang", "en", "export", "visits", "--out", str(folder), "--format", "csv")
    assert result.exit_code == 0, result.output
    path = folder / f"东门社区第1网格-入户走访台账-{DAY}.csv"
    assert path.exists() and [p.name for p in folder.iterdir()] == [path.name]
    assert result.output.startswith("wrote Door-to-door visit log (") and "rows; ID numbers and phones masked)" in (
        result.output
    )
    assert result.output.rstrip().endswith(f"to {path}")
    english = run(worker_store, "export", "visits", "--out", str(folder), "--json", env={"FIELD_AGENT_LANG": "en"})
    assert english.exit_code == 0 and f"入户走访台账-{DAY}.xlsx" in english.output


def test_a_named_file_is_used_as_given(worker_store: Path, tmp_path: Path) -> None:
    out = tmp_path / "我的台账.xlsx"
    result = run(worker_store, "export", "sampling", "--out", str(out))
    assert result.exit_code == 0, result.output
    assert out.exists() and result.output.rstrip().endswith(f"到 {out}")


@pytest.mark.parametrize(
    ("args", "zh", "en"),
    [
        (
            ["households"],
            "没有名为“households”的台账；可导出的台账：residents, floating",
            "no ledger named 'households'",
        ),
        (
            ["visits", "--out", "v.pdf"],
            "无法导出为 v.pdf：文件名须以 .xlsx 或 .csv 结尾",
            "name the file .xlsx or .csv",
        ),
        (
            ["visits", "--out", "v.xlsx", "--format", "csv"],
            "--format csv 与文件名 v.xlsx 不符",
            "does not match v.xlsx",
        ),
        (["visits", "--out", "no-such-folder/v.xlsx"], "文件夹 no-such-folder 不存在", "folder no-such-folder does"),
        (
            ["residents", "--unmasked"],
            "只有网格长可以导出完整身份证号和电话（--unmasked）；本设备登记的角色是网格员",
            "only the grid leader",
        ),
        ([], "请指定要导出的台账", "name a ledger"),
    ],
)
def test_export_errors_in_chinese_and_in_english(
    worker_store: Path, elsewhere: Path, args: list[str], zh: str, en: str
) -> None:
    chinese = run(worker_store, "export", *args)
    assert chinese.exit_code == 1 and zh in chinese.output, chinese.output
    english = run(worker_store, "--lang", "en", "export", *args)
    assert english.exit_code == 1 and en in english.output, english.output
    assert chinese.output.count("\n") == english.output.count("\n") == 1
    assert list(elsewhere.iterdir()) == []


def test_an_unwritable_folder_is_named_with_the_reason(
    worker_store: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(*args: object, **kwargs: object) -> Any:
        raise PermissionError(errno.EACCES, "Permission denied")

    monkeypatch.setattr(tempfile, "mkstemp", refuse)
    chinese = run(worker_store, "export", "visits", "--out", str(tmp_path))
    assert chinese.exit_code == 1 and f"无法在文件夹 {tmp_path} 中写入：没有写入权限" in chinese.output
    english = run(worker_store, "--lang", "en", "export", "visits", "--out", str(tmp_path))
    assert f"cannot write in folder {tmp_path}: permission denied" in english.output


# --- the server -------------------------------------------------------------------------------------------------


@pytest.fixture
def server_db(tmp_path: Path, town: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch) -> str:
    data = tmp_path / "server"
    data.mkdir()
    monkeypatch.setenv("FIELD_SERVER_DATA_DIR", str(data))
    database = SqliteDatabase(data / "server.db")
    for grid in (G1, G2):
        with database.transaction(grid) as tx:
            tx.put_records(grid, [e for e in town if e["grid"] == grid])
    database.close()
    return f"sqlite:///{data / 'server.db'}"


def server(*args: str, env: dict[str, str] | None = None) -> Any:
    return CliRunner().invoke(export_command, list(args), env=env)


def test_server_export_names_its_file_and_speaks_chinese_or_english(
    server_db: str, elsewhere: Path, tmp_path: Path
) -> None:
    one = server("residents", "--grid", G1, "--db", server_db)
    assert one.exit_code == 0, one.output
    name = f"东门社区第一网格-常住人口台账-{DAY}.xlsx"
    assert (elsewhere / name).exists()
    assert one.output == f"已导出 常住人口台账　城关镇 东门社区 第一网格（5 行；身份证号、电话已脱敏）到 {name}\n"
    folder = tmp_path / "out"
    folder.mkdir()
    town = server(
        "visits", "--town", "城关镇", "--out", str(folder), "--format", "csv", "--db", server_db, "--lang", "en"
    )
    assert town.exit_code == 0, town.output
    assert (folder / f"城关镇-入户走访台账-{DAY}.csv").exists()
    assert town.output.startswith(
        "wrote Door-to-door visit log, 城关镇（2个网格） (3 rows; ID numbers and phones masked)"
    )
    full = server("residents", "--grid", G1, "--unmasked", "--db", server_db, env={"FIELD_SERVER_LANG": "en"})
    assert "(5 rows; full ID numbers and phones: keep this file safe (audited))" in full.output


def test_server_export_errors_in_both_languages(server_db: str, elsewhere: Path) -> None:
    both = server("visits", "--grid", G1, "--town", "城关镇", "--db", server_db)
    assert both.exit_code == 1 and both.stderr == "field-server: 请指定 --grid G 或 --town T 中的一个\n"
    unknown = server("households", "--grid", G1, "--db", server_db)
    assert unknown.exit_code == 1 and "没有名为“households”的台账" in unknown.stderr
    town = server("visits", "--town", "西湖镇", "--db", server_db)
    assert "镇（街道）西湖镇 下没有网格；现有：城关镇" in town.stderr
    english = server("visits", "--town", "西湖镇", "--db", server_db, "--lang", "en")
    assert "no grids in town '西湖镇'; towns: 城关镇" in english.stderr
    assert list(elsewhere.iterdir()) == []


async def test_the_office_download_names_the_grid_ledger_and_date(server_db: str) -> None:
    db = SqliteDatabase(Path(server_db.removeprefix("sqlite:///")))
    app = FastAPI()
    app.state.db = db
    app.include_router(router)
    token = issue_office_token(db)
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://office.test") as client:
            got = await client.get(
                f"/office/ledgers/residents.xlsx?grid={G1}", headers={"Authorization": f"Bearer {token}"}
            )
            town = await client.get(
                "/office/ledgers/sampling.xlsx?town=城关镇", headers={"Authorization": f"Bearer {token}"}
            )
    finally:
        db.close()
    assert got.status_code == 200
    disposition = got.headers["content-disposition"]
    assert disposition.startswith(f"attachment; filename=\"residents-{DAY}.xlsx\"; filename*=UTF-8''")
    assert disposition.isascii()
    assert unquote(disposition.split("UTF-8''")[1]) == f"东门社区第一网格-常住人口台账-{DAY}.xlsx"
    assert (
        unquote(town.headers["content-disposition"].split("UTF-8''")[1]) == f"城关镇-核酸采样轮次及覆盖台账-{DAY}.xlsx"
    )
