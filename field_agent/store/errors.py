"""The store's exceptions, each with a message a grid worker (or the town's IT staff) can act on.

Messages never carry record values: names, ID numbers and phones must not reach logs or tracebacks.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any


class StoreError(Exception):
    """Something the local store cannot do; the message says what to do about it."""


class StoreNotFound(StoreError):
    """No store at the given path."""

    def __init__(self, path: Path) -> None:
        super().__init__(f"no store at {path}: create one with 'field-agent init'")
        self.path = path


class StoreExists(StoreError):
    """A store already exists where a new one was asked for."""

    def __init__(self, path: Path, what: str | None = None) -> None:
        super().__init__(f"{what or f'a store already exists at {path}'}; it was left untouched")
        self.path = path


class WrongPassphrase(StoreError):
    """The passphrase does not unlock this store (the store itself is intact)."""

    def __init__(self, failures: int) -> None:
        more = f" ({failures} failed tries in a row; each new try waits longer)" if failures >= 3 else ""
        super().__init__(f"wrong passphrase{more}")
        self.failures = failures


class StoreCorrupted(StoreError):
    """Bytes on disk fail authentication or parsing: damage or tampering. Nothing was changed."""

    SALVAGE = "run 'field-agent verify --salvage OUT' to copy every intact record into a new store"
    # salvage needs the header too: it holds the wrapped data key
    RESTORE_HEADER = "restore store.header from a backup of this store (salvage needs it too)"

    def __init__(self, file: Path, offset: int | None, problem: str, hint: str | None = None) -> None:
        where = f"{file} at byte {offset}" if offset is not None else str(file)
        hint = hint or (self.RESTORE_HEADER if Path(file).name == "store.header" else self.SALVAGE)
        super().__init__(f"store damaged: {problem} ({where}); nothing was changed — {hint}")
        self.file = file
        self.offset = offset
        self.problem = problem


class StoreLocked(StoreError):
    """Another process has the store open for writing."""

    def __init__(self, path: Path, holder: str | None) -> None:
        who = f" (process {holder})" if holder else ""
        super().__init__(
            f"the store at {path} is open in another program{who}: close it (the terminal app or a running "
            "'field-agent sync --watch') and try again"
        )
        self.path = path


class StoreClosed(StoreError):
    """The store was used after close()."""

    def __init__(self) -> None:
        super().__init__("the store is closed; open it again")


class StoreWriteFailed(StoreError):
    """A save could not be made durable (disk full, I/O error); nothing of it was kept."""

    def __init__(self, path: Path, reason: str) -> None:
        super().__init__(f"could not save to {path}: {reason}; the change was not kept")
        self.path = path


class StoreCreateFailed(StoreWriteFailed):
    """A new store (``init``, or the copy ``verify --salvage`` writes) could not be written; nothing was left."""

    def __init__(self, path: Path, reason: str) -> None:
        StoreError.__init__(self, f"could not create a store at {path}: {reason}; nothing was left behind")
        self.path = path


class PassphraseNotChanged(StoreWriteFailed):
    """The new header could not be written (disk full, I/O error); the old passphrase still opens the store."""

    def __init__(self, path: Path, reason: str) -> None:
        StoreError.__init__(
            self, f"could not change the passphrase of the store at {path}: {reason}; the old passphrase still opens it"
        )
        self.path = path


class WeakPassphrase(StoreError):
    """A passphrase the strength policy refuses; ``reason`` says why in English, ``code`` and ``params`` let a
    user interface say it in the user's language (catalog key ``passphrase.<code>``)."""

    def __init__(self, reason: str, *, code: str = "weak", params: dict[str, Any] | None = None) -> None:
        super().__init__(f"passphrase refused: {reason}")
        self.reason = reason
        self.code = code
        self.params = dict(params or {})


class RecordNotFound(StoreError):
    """No record with this id."""

    def __init__(self, record_id: str) -> None:
        super().__init__(f"no record with id {record_id}")
        self.record_id = record_id


class OutboxError(StoreError):
    """An outbox call that does not match the outbox state (e.g. acking an unknown batch)."""


class HouseholdNotEmpty(StoreError):
    """A household cannot be deleted while residents still live in it (docs/DOMAIN.md, "Deleting a household")."""

    def __init__(self, record_id: str, residents: int) -> None:
        super().__init__(
            f"household {record_id} still has {residents} resident(s): move them to another household or delete "
            "them first"
        )
        self.record_id = record_id
        self.residents = residents
