"""The ledger package's errors, each with a message a grid worker or the town office can act on."""

from __future__ import annotations

from typing import Any

from field_agent.ledgers.roster_messages import say


class LedgerError(Exception):
    """Base of every ledger, export and roster-import error."""


class UnknownLedger(LedgerError):
    """A ledger name that is not defined."""


class DefinitionError(LedgerError):
    """A ledger definitions file that is malformed."""


class UnmaskedRefused(LedgerError):
    """Full ID numbers and phones were asked for by someone who is not the grid leader."""


class ExportFormatError(LedgerError):
    """An output file whose extension is neither .xlsx nor .csv."""


class RosterFileError(LedgerError):
    """A roster file that cannot be read at all (format, encoding, merged headers, no recognisable columns, no
    such sheet), or a words file that is malformed: a message key of ``roster_messages`` and its parameters.

    ``str()`` is the English text; ``describe(language)`` says it in Chinese (the default) or English. A ``where``
    in the message is the file, and its sheet when there is one.
    """

    def __init__(self, key: str, /, **params: Any) -> None:
        self.key = key
        self.params = params
        super().__init__(self.describe("en"))

    def describe(self, language: str | None = None) -> str:
        params = dict(self.params)
        file, sheet = params.pop("file", ""), params.pop("sheet", "")
        where = say("where.file_sheet", language, file=file, sheet=sheet) if sheet else file
        return say(self.key, language, file=file, sheet=sheet, where=where, **params)
