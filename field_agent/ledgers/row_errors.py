"""One problem in one roster row: where it is (sheet, line, column and header) and why, as a message key and its
parameters, said in Chinese (the default) or English."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from field_agent.domain.i18n import say as say_domain
from field_agent.domain.messages import MESSAGES as DOMAIN_MESSAGES
from field_agent.domain.messages import Message
from field_agent.ledgers.roster_messages import say

DOMAIN_PREFIX = "domain."


@dataclass(frozen=True, slots=True)
class RowError:
    """``line`` is the spreadsheet's row number; ``column`` its letter ('' when the problem is the whole row);
    ``sheet`` the worksheet's name ('' for a CSV file). ``code`` is a key of ``roster_messages`` (``row.…``) or
    ``domain.<key>`` for a rule of the domain (``field_agent/domain/messages.py``; ``domain`` with its English
    ``text`` for one without a key), ``params`` what fills it in (never a name, an ID number or a phone)."""

    line: int
    column: str
    header: str
    code: str
    params: Mapping[str, Any] = field(default_factory=dict, hash=False)
    sheet: str = ""

    def reason_text(self, language: str | None = None) -> str:
        """Why the row is refused, in ``language`` (Chinese unless ``en``)."""
        key = self.code.removeprefix(DOMAIN_PREFIX)
        if self.code.startswith(DOMAIN_PREFIX) and key in DOMAIN_MESSAGES:
            return say_domain(Message(key, self.params), language or "zh_CN")
        if self.code == "domain":  # a domain rule's error without a key: its English text
            return str(self.params.get("text", ""))
        return say(self.code, language, **self.params)

    def place(self, language: str | None = None) -> str:
        """``工作表「一组」 第5行 C列（公民身份号码）`` / ``sheet 一组, line 5, column C (公民身份号码)``."""
        parts = [say("where.sheet", language, sheet=self.sheet)] if self.sheet else []
        parts.append(say("where.line", language, line=self.line))
        if self.column:
            parts.append(say("where.column", language, column=self.column, header=self.header))
        elif self.header:
            parts[-1] += say("where.header", language, header=self.header)
        return say("where.join", language).join(parts)

    def describe(self, language: str | None = None) -> str:
        """The whole line a report shows: place and reason."""
        return say("where.reason", language, where=self.place(language), reason=self.reason_text(language))

    @property
    def reason(self) -> str:
        """The reason in English (what logs and older callers read)."""
        return self.reason_text("en")

    def __str__(self) -> str:
        return self.describe("en")

    def as_dict(self, language: str | None = None) -> dict[str, object]:
        """For ``--json``: English keys, the reason in ``language`` and its code."""
        return {
            "sheet": self.sheet,
            "line": self.line,
            "column": self.column,
            "header": self.header,
            "code": self.code,
            "reason": self.reason_text(language),
        }
