"""Every ledger opens in LibreOffice and prints one page wide; a CSV opened in LibreOffice keeps ID numbers as text.

LibreOffice headless (``soffice``, Debian ``libreoffice-calc-nogui``) converts the files as a town office's copy
would open them; poppler's ``pdftotext`` reads the PDF back. soffice takes seconds per start, so each module
fixture converts all its files in one invocation, and the tests share one xdist worker (``xdist_group``).
Without soffice they skip, loudly; ``.ci/run`` installs it and sets FIELD_AGENT_REQUIRE_SOFFICE=1, which turns
the skip into a failure.
"""

from __future__ import annotations

import datetime as dt
import html
import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from field_agent.domain.demo_campaigns import demo_campaigns
from field_agent.ledgers.builder import build_ledger
from field_agent.ledgers.campaign_ledger import PREFIX, campaign_ledger
from field_agent.ledgers.definitions import load_definitions
from field_agent.ledgers.writers import write_ledger

from .town import TODAY

pytestmark = pytest.mark.xdist_group("libreoffice")

SOFFICE = shutil.which("soffice")
PDFTOTEXT = shutil.which("pdftotext")
MISSING = ", ".join(name for name, path in (("soffice", SOFFICE), ("pdftotext", PDFTOTEXT)) if path is None)
MIN_SCALE = 0.55
# the dialog LibreOffice shows on opening a CSV: comma, double quote, UTF-8 (it sees the BOM), from line 1, every
# other option at its default ("Evaluate formulas" on, "Format quoted field as text" off)
CSV_IMPORT = "CSV:44,34,76,1"
CAMPAIGNS = [PREFIX + campaign.key for campaign in demo_campaigns(TODAY)]
"""The demo town's campaign ledgers (campaign:KEY), printed beside the six."""


def require_tools() -> None:
    if not MISSING:
        return
    reason = (
        f"!!! LibreOffice checks NOT RUN: {MISSING} missing. Install libreoffice-calc-nogui and poppler-utils "
        "(.ci/run does) to check that the ledgers print one page wide and that CSV ID numbers stay text !!!"
    )
    if os.environ.get("FIELD_AGENT_REQUIRE_SOFFICE") == "1":
        pytest.fail(reason)
    pytest.skip(reason)


def soffice(outdir: Path, files: list[Path], target: str, *, infilter: str | None = None) -> None:
    """Convert ``files`` with one soffice start, in a profile of its own (parallel runs never share one)."""
    assert SOFFICE is not None
    command = [SOFFICE, f"-env:UserInstallation={(outdir / 'lo-profile').as_uri()}", "--headless", "--norestore"]
    if infilter:
        command.append(f"--infilter={infilter}")
    command += ["--convert-to", target, "--outdir", str(outdir), *map(str, files)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr


# --- every ledger as LibreOffice prints it --------------------------------------------------------------------


@dataclass
class Word:
    text: str
    x_min: float
    y_min: float
    x_max: float
    y_max: float


@dataclass
class Page:
    width: float
    words: list[Word]

    @property
    def text(self) -> str:
        return " ".join(w.text for w in self.words)


_PAGE = re.compile(r'<page width="([\d.]+)" height="[\d.]+">(.*?)</page>', re.S)
_WORD = re.compile(r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">(.*?)</word>')


def pdf_pages(pdf: Path) -> list[Page]:
    assert PDFTOTEXT is not None
    out = subprocess.run([PDFTOTEXT, "-bbox", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    return [
        Page(
            float(width),
            [Word(html.unescape(t), float(a), float(b), float(c), float(d)) for a, b, c, d, t in _WORD.findall(body)],
        )
        for width, body in _PAGE.findall(out)
    ]


@pytest.fixture(scope="module")
def printed(demo: list[dict[str, Any]], tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The six ledgers of the demo town (two grids) and its campaigns' ledgers written as .xlsx and printed to PDF
    by LibreOffice."""
    require_tools()
    folder = tmp_path_factory.mktemp("printed")
    ledgers = {name: build_ledger(name, demo, today=TODAY) for name in load_definitions()}
    ledgers.update({name: campaign_ledger(demo, name, TODAY) for name in CAMPAIGNS})
    files = []
    for name, ledger in ledgers.items():
        write_ledger(ledger, folder / f"{_file(name)}.xlsx")
        files.append(folder / f"{_file(name)}.xlsx")
    soffice(folder, files, "pdf")
    return {name: (ledger, pdf_pages(folder / f"{_file(name)}.pdf")) for name, ledger in ledgers.items()}


def _file(name: str) -> str:
    return name.replace(":", "-")  # soffice would read campaign:KEY as a URL


def row_numbers(page: Page, left_of: float) -> list[int]:
    """The 序号 numbers printed on a page: whole numbers in the first column, top to bottom (pdftotext's reading
    order can put a block of rows before the rows above it, e.g. next to a cell that wraps)."""
    column = [w for w in page.words if w.text.isdigit() and w.x_max <= left_of]
    return [int(w.text) for w in sorted(column, key=lambda w: w.y_min)]


@pytest.mark.parametrize("name", [*load_definitions(), *CAMPAIGNS])
def test_each_ledger_prints_one_page_wide_with_its_header_on_every_page(name: str, printed: dict[str, Any]) -> None:
    ledger, pages = printed[name]
    assert pages, f"{name}: LibreOffice printed nothing"
    first_header, last_header = "序号", ledger.headers[-1]
    numbers: list[int] = []
    for page_number, page in enumerate(pages, start=1):
        words = [w.text for w in page.words]
        # a column strip would lack 序号 or the last column; every page has the whole header row
        assert first_header in words and last_header in page.text, f"{name} page {page_number}: header cut"
        assert f"第 {page_number} 页 共 {len(pages)} 页" in page.text, f"{name} page {page_number}: no page number"
        assert all(w.x_min >= 0 and w.x_max <= page.width for w in page.words), f"{name}: text off the page"
        index_header = next(w for w in page.words if w.text == first_header)
        numbers += row_numbers(page, left_of=index_header.x_max + 2)
        # the header's type is 11 points at 100%: its printed height is the page's scale
        scale = (index_header.y_max - index_header.y_min) / 11
        assert scale >= MIN_SCALE - 0.01, f"{name} page {page_number}: printed at {scale:.0%}"
        assert ledger.scope in page.text and TODAY.isoformat() in page.text  # page header: scope and date
    assert numbers == list(range(1, len(ledger.rows) + 1)), f"{name}: rows lost or repeated across pages"
    first = pages[0].text
    assert first.count(ledger.title) >= 2  # the title row and the page header
    assert "身份证号、电话已脱敏" in first and f"制表日期 {TODAY.isoformat()}" in first
    if ledger.summary:  # a campaign's totals, under its title
        assert ledger.summary.split("：")[0].replace(" ", "") in first.replace(" ", "")
    assert "填表人：" in pages[-1].text and "审核人：" in pages[-1].text


def test_the_residents_of_two_grids_take_a_few_pages_not_dozens(printed: dict[str, Any]) -> None:
    ledger, pages = printed["residents"]
    assert len(ledger.rows) > 100
    assert len(pages) <= len(ledger.rows) // 35 + 1  # one row a line: at least 35 rows a page


# --- a CSV as LibreOffice opens it ------------------------------------------------------------------------------


FORMULAS = ("=1+1", '=HYPERLINK("http://evil.test","点我")', "@SUM(1,1)", "+1+1", "-2+3", "=cmd|' /C calc'!A0")


@pytest.fixture(scope="module")
def csv_opened(demo: list[dict[str, Any]], tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """The unmasked residents ledger as .csv, opened by LibreOffice with its default CSV options and saved as .xlsx."""
    require_tools()
    folder = tmp_path_factory.mktemp("csv")
    ledger = build_ledger("residents", demo, today=TODAY, masked=False)
    notes = ledger.headers.index("备注")
    for row, text in zip(ledger.rows, FORMULAS, strict=False):  # what a worker could type as a note
        row[notes] = text
    write_ledger(ledger, folder / "residents.csv")
    soffice(folder, [folder / "residents.csv"], "xlsx", infilter=CSV_IMPORT)
    yield {"ledger": ledger, "sheet": openpyxl.load_workbook(folder / "residents.xlsx", data_only=True).active}


def test_a_note_that_looks_like_a_formula_stays_text_when_a_spreadsheet_opens_the_csv(
    csv_opened: dict[str, Any],
) -> None:
    """A note typed as ``=HYPERLINK(...)`` or ``@SUM(...)`` is shown as typed, never run (CSV injection)."""
    ledger, sheet = csv_opened["ledger"], csv_opened["sheet"]
    notes = ledger.headers.index("备注") + 1
    shown = [sheet.cell(row=r, column=notes) for r in range(3, len(FORMULAS) + 3)]
    assert [c.value for c in shown] == list(FORMULAS)
    assert all(c.data_type == "s" for c in shown)


def test_id_numbers_and_phones_stay_exact_text_when_a_spreadsheet_opens_the_csv(csv_opened: dict[str, Any]) -> None:
    ledger, sheet = csv_opened["ledger"], csv_opened["sheet"]
    headers = [c.value for c in sheet[2]]
    assert headers == ledger.headers
    ids, phones = headers.index("公民身份号码") + 1, headers.index("联系电话") + 1
    expected = ledger.as_dicts()
    cells = [(sheet.cell(row=r, column=ids), sheet.cell(row=r, column=phones)) for r in range(3, len(expected) + 3)]
    assert [c.value for c, _ in cells] == [row["id_number"] for row in expected]
    assert all(c.data_type == "s" and len(c.value) == 18 for c, _ in cells)  # not 3.50181198305274E+17
    assert [p.value or "" for _, p in cells] == [row["phone"] for row in expected]
    assert all(p.data_type == "s" for _, p in cells if p.value)
    names = {row["name"] for row in expected}
    assert {sheet.cell(row=r, column=headers.index("姓名") + 1).value for r in range(3, len(expected) + 3)} == names


# --- the campaign sheet, saved by a spreadsheet -------------------------------------------------------------------


def test_a_campaign_sheet_saved_by_libreoffice_reads_back_the_same_campaign(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    """The office opens the shipped sheet, fills it and saves it: what a spreadsheet writes (its own dimension,
    shared strings, date cells, drop-down lists) reads as the campaign the sheet held."""
    require_tools()
    from field_agent.domain.campaigns.definition import parse_campaign
    from field_agent.domain.campaigns.templates import TEMPLATES, from_template
    from field_agent.ledgers.campaign_sheet import read_campaign_file
    from field_agent.ledgers.campaign_sheet_template import write_campaign_template

    source, saved = tmp_path_factory.mktemp("sheets"), tmp_path_factory.mktemp("saved")
    starts, ends = TODAY, TODAY + dt.timedelta(days=3)
    for template in TEMPLATES:
        write_campaign_template(
            source / f"{template}.xlsx", template, key=template, name="活动", starts=starts, ends=ends
        )
    soffice(saved, sorted(source.glob("*.xlsx")), "xlsx:Calc MS Excel 2007 XML")
    for template in TEMPLATES:
        campaign = parse_campaign(read_campaign_file(saved / f"{template}.xlsx"))
        assert campaign == from_template(template, template, "活动", starts, ends), template
