"""The ledger package's errors, each with a message a grid worker or the town office can act on.

``str(error)`` is the English message. An error raised with a ``code`` (and the ``params`` its message needs) can
also be told in Chinese: ``error.describe("zh_CN")`` (the catalog is ``field_agent/ledgers/messages.py``); one raised
without a code describes itself in English in either language.
"""

from __future__ import annotations

from field_agent.ledgers.messages import error_text


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
    """A roster file that cannot be read at all (format, encoding, merged headers, no recognisable columns)."""
