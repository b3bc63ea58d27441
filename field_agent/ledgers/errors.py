"""The ledger package's errors, each with a message a grid worker or the town office can act on."""

from __future__ import annotations


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
    """A roster file that cannot be read at all (format, encoding, merged headers, no recognisable columns)."""
