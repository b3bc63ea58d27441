"""Compaction in the background: no save waits for it (the way Redis rewrites its append-only file).

1. ``start`` (in the save that crossed the threshold, under the store's lock): a copy of each table's packed
   blobs, not of the documents (``PackedTable.frozen``, ~10 ms at 200,000 records). Documents are replaced on
   write, as packed bytes; so the frames saved from now on, replayed over whatever the snapshot caught, give the
   live data. A rolled-back batch could leave a change in the snapshot that no frame undoes: a rollback during the
   build abandons the compaction.
2. ``build`` (in a background thread, without the lock): the snapshot's JSON, compressed and sealed in small steps
   that hand the GIL over between them (``snapshot.py``), written and fsynced to ``store.log.next`` as frame 0 of the
   next generation. Saves go on appending to the live log, and each saved body is also kept here.
   The bodies saved meanwhile are sealed anew as frames 1… of the next generation, appended and fdatasynced, still
   without the lock.
3. ``settle`` (under the lock, by the thread, or by ``close`` or an explicit compaction, whichever comes first):
   the few bodies saved since are appended and fdatasynced the same way, the file is renamed over the log and the
   directory fsynced (``LogWriter.switch_to_next``). Until the rename the live log
   holds every acknowledged save; after it the new one does. A crash at any point leaves one of them whole
   (``store.log.next`` is removed at the next open).
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
from collections.abc import Callable
from typing import Any, Protocol

from field_agent.store.errors import StoreError
from field_agent.store.log import SNAPSHOT, Tables, pieces_text_bytes
from field_agent.store.snapshot import Cancelled, seal_pieces, snapshot_pieces
from field_agent.store.writer import LogWriter

NICER = 5


class Host(Protocol):
    """What a compaction needs of the storage it compacts (``storage.SealedStorage``)."""

    writer: LogWriter
    lock: threading.RLock
    rollbacks: int
    closed: bool
    compaction_error: StoreError | None

    def read(self) -> Tables: ...

    def hints(self) -> Callable[[Tables], dict[str, bytes]] | None: ...

    def finished(self, job: Compaction) -> None: ...

    def compacted(self, snapshot_bytes: int, appended_bytes: int) -> None: ...


class Compaction:
    """One background compaction of a store's log, from the snapshot taken at ``start`` to the switch."""

    def __init__(self, storage: Host) -> None:
        self.storage = storage
        self.writer = storage.writer
        self.generation = self.writer.generation + 1
        self.rollbacks = storage.rollbacks
        self.tables: Tables = {name: table.frozen() for name, table in storage.read().items()}
        self.hints = storage.hints()  # the index's hint as of the same moment, made in the background
        self.saved: list[tuple[int, bytes]] = []  # bodies saved since the snapshot was taken
        self.saved_bytes = 0  # their size before compression (for the next compaction's trigger)
        self.built = threading.Event()
        self._claim = threading.Lock()
        self._claimed = False
        self.cancelled = False
        self.done = False
        self.snapshot_bytes = 0
        self.size = 0  # of store.log.next once built
        self.appended = 0  # saved bodies already appended to it
        self.error: StoreError | None = None

    def run(self) -> None:
        """The background thread: build, then settle under the store's lock."""
        yield_cpu()
        self.build()
        with self.storage.lock:
            self.settle()

    def build(self) -> None:
        """Write the snapshot to ``store.log.next`` (once: the thread, or ``close``/``cancel`` if it never ran)."""
        with self._claim:
            if self._claimed:
                return
            self._claimed = True
        try:
            if not self.cancelled:
                pieces = []
                hints = self.hints(self.tables) if self.hints is not None else None
                for piece in snapshot_pieces(self.tables, lambda: self.cancelled, hints):
                    pieces.append(piece)
                    hand_over()
                self.tables = {}
                self.snapshot_bytes = pieces_text_bytes(pieces)
                writer = self.writer
                frame = seal_pieces(writer.data_key, writer.store_id, self.generation, 0, SNAPSHOT, pieces, hand_over)
                del pieces
                self.size = writer.write_next(self.generation, frame)
                del frame
                # what was saved while it was built goes in now, outside the lock, so that the switch has only
                # the few frames saved since to append
                for _round in range(3):
                    self.catch_up()
        except Cancelled:
            pass
        except StoreError as error:
            self.error = error
        except Exception as error:  # e.g. out of memory: dropped at the switch, the live log is untouched
            self.error = StoreError(f"compaction failed: {type(error).__name__}")
        finally:
            self.tables = {}
            self.built.set()

    def catch_up(self) -> None:
        """Append the bodies saved so far (and not yet appended) to ``store.log.next``, fsynced."""
        count = len(self.saved)  # saves append under the lock; a list's length and slice are read atomically
        bodies = self.saved[self.appended : count]
        self.size = self.writer.extend_next(self.generation, self.size, bodies, 1 + self.appended)
        self.appended = count

    def cancel(self) -> None:
        """Abandon it (the caller holds the lock): wait for the build to stop, then remove its file."""
        self.cancelled = True
        self.build()
        self.built.wait()
        self.settle()

    def settle(self) -> None:
        """Switch the log to the new generation if it is still current, else drop it (caller holds the lock)."""
        if self.done:
            return
        self.done = True
        storage, writer = self.storage, self.writer
        storage.finished(self)
        usable = (
            not self.cancelled
            and self.error is None
            and self.size
            and writer.generation + 1 == self.generation
            and storage.rollbacks == self.rollbacks
            and not writer.broken
            and not storage.closed
        )
        if not usable:
            writer.drop_next()
            if self.error is not None:
                storage.compaction_error = self.error
            return
        try:
            self.catch_up()
            writer.switch_to_next(self.generation, self.size, 1 + len(self.saved))
        except StoreError as error:  # the live log is untouched: the save it ran after is durable
            writer.drop_next()
            storage.compaction_error = error
            return
        storage.compacted(self.snapshot_bytes, self.saved_bytes)


def yield_cpu() -> None:
    """Lower this thread's CPU priority a little (Linux: per thread), so that on a busy device the saves' thread is
    scheduled first; not so far that ``close``, which may wait for the build, waits long."""
    with contextlib.suppress(OSError, AttributeError):
        thread = threading.get_native_id()
        os.setpriority(os.PRIO_PROCESS, thread, min(19, os.getpriority(os.PRIO_PROCESS, thread) + NICER))


def hand_over() -> None:
    """Let a waiting thread (a save) take the GIL now rather than after the switch interval."""
    time.sleep(0)


def in_thread(job: Compaction) -> None:
    """The default way to run a compaction: a daemon thread (a process that exits without closing the store leaves
    ``store.log.next`` behind, removed at the next open)."""
    threading.Thread(target=job.run, name="store-compaction", daemon=True).start()


Runner = Callable[[Compaction], Any]
