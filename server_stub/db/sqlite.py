"""SQLite backend (the default): one file in WAL mode, one writer at a time, readers in parallel.

Writers queue twice: threads of one process on a ``FairLock`` (in arrival order), and processes (several server
workers, an admin command) on an exclusive ``flock`` of a lock file beside the database, taken for the whole
commit group. SQLite's own busy handler would also keep writers apart, but it polls with sleeps of up to 100 ms,
so a waiting worker could sit idle long after the lock was free; the kernel wakes a ``flock`` waiter at once.
"""

from __future__ import annotations

import contextlib
import errno
import os
import sqlite3
import sys
import threading
import time
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from server_stub.db.sql import SqlDatabase
from server_stub.errors import DatabaseError, StorageFailed
from server_stub.sealing import Sealer, sealer_for

if sys.platform == "win32":  # pragma: no cover - not POSIX: processes are kept apart by SQLite's busy timeout alone
    fcntl = None
else:
    import fcntl

GROUP_MAX_UNITS = 64
GROUP_MAX_AGE_S = 0.05
LOW_SPACE_BYTES = 256 * 1024
# SQLite's result codes of a storage that will not take a write (the extended codes start with these)
STORAGE_CODES = ("SQLITE_FULL", "SQLITE_READONLY", "SQLITE_IOERR", "SQLITE_CANTOPEN")
READ_ONLY_ERRNOS = (errno.EROFS, errno.EACCES, errno.EPERM)


class FairLock:
    """A lock handed to waiters in arrival order, so no request starves behind luckier threads."""

    def __init__(self) -> None:
        self._guard = threading.Lock()
        self._queue: deque[threading.Event] = deque()
        self._held = False

    def acquire(self) -> None:
        with self._guard:
            if not self._held:
                self._held = True
                return
            turn = threading.Event()
            self._queue.append(turn)
        turn.wait()  # release() handed the lock over: it is ours now

    def release(self) -> None:
        with self._guard:
            if self._queue:
                self._queue.popleft().set()
            else:
                self._held = False

    def waiting(self) -> int:
        return len(self._queue)

    def __enter__(self) -> FairLock:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


class _CommitGroup:
    """Units of work sharing one transaction; ``done`` is set once it committed (or failed, see ``error``)."""

    def __init__(self) -> None:
        self.done = threading.Event()
        self.error: BaseException | None = None  # what failed the group: a unit's error (even an interrupt) or COMMIT's
        self.units = 0
        self.opened = time.monotonic()


class SqliteDatabase(SqlDatabase):
    """A server database in one SQLite file.

    Every write runs under one process-wide lock inside ``BEGIN IMMEDIATE`` (which also excludes other processes,
    e.g. an admin command while the server runs), so sequence numbers commit in order.
    """

    driver_errors = (sqlite3.Error,)

    def __init__(self, path: Path, sealer: Sealer | None = None) -> None:
        self.path = Path(path)
        self.url = f"sqlite:///{self.path}"
        self.sealer = sealer or sealer_for(self.url)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            if not self.path.exists():
                self.path.touch(mode=0o600)
            self._write_lock = FairLock()
            self._group: _CommitGroup | None = None
            self._process_lock = os.open(f"{self.path}.writer-lock", os.O_RDWR | os.O_CREAT, 0o600)
            self._writer_connection = self._connect()
        except OSError as error:
            if error.errno in READ_ONLY_ERRNOS or error.errno == errno.ENOSPC:
                raise StorageFailed(self._storage_message(error, opening=True)) from error
            raise DatabaseError(f"cannot open the server database {self.path}: {error}") from error
        except sqlite3.Error as error:
            if str(getattr(error, "sqlite_errorname", "")).startswith(STORAGE_CODES):
                raise StorageFailed(self._storage_message(error, opening=True)) from error
            raise DatabaseError(f"cannot open the server database {self.path}: {error}") from error
        self._local = threading.local()
        self._readers: list[sqlite3.Connection] = []
        self._readers_lock = threading.Lock()
        try:
            self.create_schema()
        except BaseException:
            self.close()
            raise

    def _connect(self) -> sqlite3.Connection:
        connection = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False, timeout=30)
        connection.execute("PRAGMA journal_mode=WAL")
        # FULL: a commit the server acknowledged survives a power cut, not just a crash of the process.
        connection.execute("PRAGMA synchronous=FULL")
        connection.execute("PRAGMA busy_timeout=30000")
        return connection

    @contextmanager
    def _writer(self) -> Iterator[sqlite3.Connection]:
        """A unit of work inside the current commit group; returns only once the group is durably committed.

        Group commit: units that queue up while one runs share one transaction and one fsync (each unit in its
        own savepoint, so a failing unit rolls back alone). With ``synchronous=FULL`` every acknowledged write
        survives a power cut, without paying one fsync per request.
        """
        self._write_lock.acquire()
        connection = self._writer_connection
        try:
            if self._group is None:
                self._lock_processes()
                try:
                    connection.execute("BEGIN IMMEDIATE")
                except BaseException as error:
                    self._unlock_processes()
                    self._raise_storage_failure(error)
                    raise
                self._group = _CommitGroup()
            group = self._group
            connection.execute("SAVEPOINT unit")
            try:
                yield connection
            except BaseException as error:
                try:
                    connection.execute("ROLLBACK TO unit")
                    connection.execute("RELEASE unit")
                except sqlite3.Error:
                    pass  # SQLite rolled the whole transaction back itself (disk full, I/O error)
                if not connection.in_transaction:  # so the group's other units are gone too: it fails
                    group.error = error
                self._raise_storage_failure(error)
                raise
            connection.execute("RELEASE unit")
            group.units += 1
        finally:
            self._commit_when_idle()
            self._write_lock.release()
        group.done.wait()
        if group.error is not None:
            self._raise_storage_failure(group.error)
            raise DatabaseError(f"the server database could not commit: {group.error}") from group.error

    def _raise_storage_failure(self, error: BaseException) -> None:
        """Raise StorageFailed naming the cause when ``error`` is the storage refusing a write (disk full, read-only
        file or file system, I/O error), logged once per failure (not once per request); else return."""
        if not isinstance(error, sqlite3.Error) or not str(getattr(error, "sqlite_errorname", "")).startswith(
            STORAGE_CODES
        ):
            return
        message = self._storage_message(error)
        self.faults.note(message)
        raise StorageFailed(message) from error

    def _storage_message(self, error: BaseException, opening: bool = False) -> str:
        """Why the database cannot be written, found by looking at the disk: SQLite reports a file made
        immutable or a read-only mount as an I/O error, and a full disk sometimes as one too."""
        name = str(getattr(error, "sqlite_errorname", ""))
        where = self.path.parent
        then = "the server cannot start on it" if opening else "a running server then goes on by itself"
        try:
            space = os.statvfs(where)
            full = space.f_bavail * space.f_frsize < LOW_SPACE_BYTES
        except OSError:
            full = False
        files = [self.path, *(self.path.with_name(self.path.name + tail) for tail in ("-wal", "-shm"))]
        read_only = not os.access(where, os.W_OK) or any(
            file.exists() and not os.access(file, os.W_OK) for file in files
        )
        if name.startswith("SQLITE_FULL") or (full and not read_only) or getattr(error, "errno", None) == errno.ENOSPC:
            return (
                f"the disk holding the server database {self.path} is full: nothing was written; free space "
                f"in {where} ({then})"
            )
        if name.startswith("SQLITE_READONLY") or read_only or getattr(error, "errno", None) in READ_ONLY_ERRNOS:
            return (
                f"the server database {self.path} is read-only (its file or its file system does not allow "
                f"writing): nothing was written; make it writable again ({then})"
            )
        return f"the server database {self.path} could not be written ({error}): nothing was written; check the disk"

    def _commit_when_idle(self) -> None:
        """Commit the open group unless more units are queued (within limits of size and age)."""
        group = self._group
        if group is None:
            return
        if (
            self._write_lock.waiting()
            and group.units < GROUP_MAX_UNITS
            and time.monotonic() - group.opened < GROUP_MAX_AGE_S
        ):
            return
        self._group = None
        try:
            if group.error is None:  # else a unit found the transaction rolled back under it: nothing to commit
                self._writer_connection.execute("COMMIT")
        except sqlite3.Error as error:
            group.error = error
        finally:
            if group.error is not None:
                with contextlib.suppress(sqlite3.Error):
                    self._writer_connection.execute("ROLLBACK")
            self._unlock_processes()
            group.done.set()

    def _lock_processes(self) -> None:
        """Wait for the other processes' writers (their whole commit group) to finish."""
        if self._process_lock < 0:
            raise sqlite3.ProgrammingError("Cannot operate on a closed database.")
        if fcntl is not None:
            fcntl.flock(self._process_lock, fcntl.LOCK_EX)

    def _unlock_processes(self) -> None:
        if fcntl is not None and self._process_lock >= 0:
            fcntl.flock(self._process_lock, fcntl.LOCK_UN)

    def backup_to(self, target: Path) -> None:
        """A consistent copy of the whole database in a new file ``target`` (0600), made while the server runs:
        SQLite's online backup reads one snapshot, so writers go on meanwhile. Record bodies stay sealed."""
        descriptor = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)  # never overwrite a backup
        os.close(descriptor)
        try:
            copy = sqlite3.connect(target, isolation_level=None)
            try:
                with self._reader() as source:
                    source.backup(copy)
                copy.execute("PRAGMA journal_mode=DELETE")  # one self-contained file, no -wal beside it
            finally:
                copy.close()
            descriptor = os.open(target, os.O_RDONLY)
            try:
                os.fsync(descriptor)
            finally:
                os.close(descriptor)
        except (OSError, sqlite3.Error) as error:
            Path(target).unlink(missing_ok=True)
            Path(f"{target}-journal").unlink(missing_ok=True)
            raise StorageFailed(f"the backup {target} could not be written ({_why(error)}): it was removed") from error
        except BaseException:
            Path(target).unlink(missing_ok=True)
            raise

    def _after_sealing(self) -> None:
        """Rewrite the file so that no page of the former plaintext bodies survives among its free pages, and empty
        the write-ahead log, which held the old pages too."""
        with self._write_lock:
            self._lock_processes()
            try:
                self._writer_connection.execute("VACUUM")
                self._writer_connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            finally:
                self._unlock_processes()

    def reclaim_space(self) -> bool:
        """After an erasure: empty the write-ahead log, rewrite the file (VACUUM, so no free page keeps a deleted
        row) and empty the log again, which VACUUM filled with the new pages. False if readers kept the log from
        being emptied for 5 s (the next purge or checkpoint empties it)."""
        with self._write_lock:
            self._lock_processes()
            try:
                self._writer_connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
                self._writer_connection.execute("VACUUM")
                for _attempt in range(50):  # a reader in the middle of a query keeps the WAL for a moment
                    busy = self._writer_connection.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()[0]
                    if not busy:
                        return True
                    time.sleep(0.1)
                return False
            finally:
                self._unlock_processes()

    @contextmanager
    def _reader(self) -> Iterator[sqlite3.Connection]:
        connection = getattr(self._local, "connection", None)
        if connection is None:
            connection = self._connect()
            self._local.connection = connection
            with self._readers_lock:
                self._readers.append(connection)
        yield connection

    def close(self) -> None:
        with self._readers_lock:
            for connection in self._readers:
                connection.close()
            self._readers.clear()
        with self._write_lock:
            self._writer_connection.close()
            if self._process_lock >= 0:
                os.close(self._process_lock)
                self._process_lock = -1


def _why(error: BaseException) -> str:
    """The cause of a failed write in a few words: the disk is full, the place is read-only, or the error's text."""
    code = getattr(error, "errno", None)
    name = str(getattr(error, "sqlite_errorname", ""))
    if code == errno.ENOSPC or name.startswith("SQLITE_FULL"):
        return "the disk is full"
    if code in READ_ONLY_ERRNOS or name.startswith("SQLITE_READONLY"):
        return "the place is read-only"
    return getattr(error, "strerror", None) or str(error)
