"""The ledger package's errors, each with a message a grid worker or the town office can act on.

``str(error)`` is the English message. An error raised with a ``code`` (and the ``params`` its message needs) can
also be told in Chinese: ``error.describe("zh_CN")`` (the catalog is ``field_agent/ledgers/messages.py``); one raised
without a code describes itself in English in either language.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from field_agent.ledgers.campaign_sheet_messages import CellProblem
from field_agent.ledgers.messages import error_text
from field_agent.ledgers.roster_messages import say


class LedgerError(Exception):
    """Base of every ledger, export and roster-import error."""

    def __init__(self, message: str = "", /, *, code: str = "", **params: object) -> None:
        super().__init__(message)
        self.code = code
        self.params = params

    def describe(self, lang: str = "zh_CN") -> str:
        """The message in ``lang`` (``zh_CN`` or ``en``): from the catalog when the error has a code."""
        return error_text(self.code, lang, self.params) or str(self)


class UnknownLedger(LedgerError):
    """A ledger name that is not defined."""


class DefinitionError(LedgerError):
    """A ledger definitions file that is malformed."""


class UnmaskedRefused(LedgerError):
    """Full ID numbers and phones were asked for by someone who is not the grid leader."""


class ExportFormatError(LedgerError):
    """An output file whose extension is neither .xlsx nor .csv."""


class ExportWriteError(LedgerError):
    """An export that cannot be written: the folder is missing or not writable, the disk is full."""


class RosterFileError(LedgerError):
    """A roster file that cannot be read at all (format, encoding, merged headers, no recognisable columns, no
    such sheet), or a words file that is malformed: a message key of ``roster_messages`` and its parameters.

    ``str()`` is the English text; ``describe(language)`` says it in Chinese (the default) or English. A ``where``
    in the message is the file, and its sheet when there is one.
    """

    def __init__(self, key: str, /, **params: Any) -> None:
        super().__init__(_roster_text(key, "en", params), code=key, **params)
        self.key = key

    def describe(self, lang: str | None = None) -> str:
        return _roster_text(self.key, lang, self.params)


def _roster_text(key: str, language: str | None, params: dict[str, Any]) -> str:
    """A roster file error's message (``roster_messages``), its ``where`` the file and, when there is one, the sheet."""
    params = dict(params)
    file, sheet = params.pop("file", ""), params.pop("sheet", "")
    where = say("where.file_sheet", language, file=file, sheet=sheet) if sheet else file
    return say(key, language, file=file, sheet=sheet, where=where, **params)


class CampaignSheetError(LedgerError):
    """A campaign file (the office's campaign sheet, or JSON) that cannot define a campaign: every problem at once,
    each at its cell (``表单!C4``; for a JSON file the definition's path, ``form[2].type``).

    ``problems`` are ``campaign_sheet_messages.CellProblem``; ``cells(language)`` gives them as (cell, message)
    pairs, ``describe(language)`` one per line, in Chinese by default or English. No message quotes a cell.
    """

    def __init__(self, problems: Sequence[CellProblem]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(p.line("en") for p in self.problems), code="campaign_sheet")

    def cells(self, language: str | None = None) -> list[tuple[str, str]]:
        return [(p.cell, p.text(language)) for p in self.problems]

    def describe(self, lang: str | None = None) -> str:
        return "\n".join(p.line(lang) for p in self.problems)
