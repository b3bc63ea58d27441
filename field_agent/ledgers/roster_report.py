"""What a roster import found and did (or, previewed, would do): the report the tablet's and the server's commands
print, the terminal app's import screen shows, and ``--json`` gives, in Chinese (the default) or English."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from field_agent.ledgers.roster import ParsedRoster
from field_agent.ledgers.roster_import import ImportPlan
from field_agent.ledgers.roster_messages import join_list, say
from field_agent.ledgers.row_errors import RowError


@dataclass
class ImportReport:
    """``plan`` is what the import writes (None when a bad row stopped it before planning); ``imported`` whether
    it was written; ``skipped`` the problems of the rows left out with ``--skip-invalid``."""

    parsed: ParsedRoster
    plan: ImportPlan | None = None
    imported: bool = False
    skipped: list[RowError] = field(default_factory=list)

    @property
    def errors(self) -> list[RowError]:
        return self.parsed.errors

    @property
    def bad_rows(self) -> int:
        return self.parsed.bad_rows

    @property
    def bad_lines(self) -> list[tuple[str, int]]:
        """The (sheet, line) of every bad row."""
        return sorted({(e.sheet, e.line) for e in self.parsed.errors})

    def summary(self) -> dict[str, int]:
        """The counts, keyed in English: rows (good ones), residents and households created/updated/unchanged
        (once planned), bad rows, footer lines skipped."""
        rows = len(self.parsed.rows)
        counts = self.plan.summary(rows) if self.plan else {"rows": rows}
        return {**counts, "bad_rows": self.bad_rows, "footer_lines": self.parsed.footer_lines}

    def summary_text(self, language: str | None = None) -> str:
        """One line: ``已导入 12 行：新增居民 10 人，更新 2 人，未变 0 人；新增住户 3 户，更新 0 户；
        跳过 3 条表尾行``; before the import (a preview) what it would do; when a bad row stopped it,
        ``未导入：2 行有误``."""
        counts = self.summary()
        if self.imported or self.plan is not None:
            parts = [say("summary.imported" if self.imported else "summary.preview", language, **counts)]
            if counts["bad_rows"]:
                key = "summary.bad_skipped" if self.imported else "summary.bad_found"
                parts.append(say(key, language, **counts))
        else:
            parts = [say("summary.refused", language, **counts)]
        if counts["footer_lines"]:
            parts.append(say("summary.footer", language, **counts))
        return say("summary.join", language).join(parts)

    def sheets_text(self, language: str | None = None) -> list[str]:
        """``读取的工作表：「一组」12 行、「二组」5 行`` and ``跳过的工作表：「说明」（没有花名册表头）``
        (nothing for a CSV)."""
        named = [s for s in self.parsed.sheets if s.name]
        if not named:
            return []
        read = [say("summary.sheet", language, sheet=s.name, rows=s.rows) for s in named]
        lines = [say("summary.sheets", language, sheets=join_list(read, language))]
        if self.parsed.skipped_sheets:
            skipped = [
                say("summary.skipped_sheet", language, sheet=s.name, reason=s.reason_text(language))
                for s in self.parsed.skipped_sheets
            ]
            lines.append(say("summary.skipped_sheets", language, sheets=join_list(skipped, language)))
        return lines

    def error_lines(self, language: str | None = None) -> list[str]:
        """Each problem, one line each (``工作表「一组」 第8行 C列（公民身份号码）：…``)."""
        return [error.describe(language) for error in self.parsed.errors]

    def info_lines(self, language: str | None = None) -> list[str]:
        """What a command prints above the summary besides the problems: the sheets read and skipped, the columns
        not imported."""
        found = self.sheets_text(language)
        if self.parsed.ignored_headers:
            found.append(say("summary.ignored", language, headers=join_list(self.parsed.ignored_headers, language)))
        return found

    def as_dict(self, language: str | None = None) -> dict[str, Any]:
        """For ``--json``: English keys; each problem's reason in ``language`` with its code."""
        return {
            "imported": self.imported,
            "summary": self.summary(),
            "message": self.summary_text(language),
            "bad_rows": self.bad_rows,
            "errors": [e.as_dict(language) for e in self.parsed.errors],
            "columns": self.parsed.columns,
            "ignored_headers": self.parsed.ignored_headers,
            "encoding": self.parsed.encoding,
            "sheets": [
                {
                    "name": s.name,
                    "header_line": s.header_line,
                    "rows": s.rows,
                    "bad_rows": s.bad_rows,
                    "footer_lines": s.footer_lines,
                    "columns": s.columns,
                    "ignored_headers": s.ignored_headers,
                }
                for s in self.parsed.sheets
            ],
            "skipped_sheets": [{"name": s.name, "reason": s.reason} for s in self.parsed.skipped_sheets],
        }
