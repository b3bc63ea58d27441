"""Opening a store leaves the interpreter as it found it: the cyclic GC's switch, its frozen objects and the GIL
switch interval are process-wide, and a library must not change them behind its caller's back."""

from __future__ import annotations

import gc
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from field_agent.store import Store, StoreCorrupted, WrongPassphrase
from field_agent.store import log as log_module
from field_agent.store import store as store_module

from .conftest import PASSPHRASE


def interpreter_state() -> tuple[bool, int, float]:
    return gc.isenabled(), gc.get_freeze_count(), sys.getswitchinterval()


@pytest.fixture
def every_open_is_big(monkeypatch: pytest.MonkeyPatch) -> None:
    """Small test stores take the code path of a big one (the size thresholds at which loading pauses the GC)."""
    monkeypatch.setattr(store_module, "FREEZE_AT", 0)
    monkeypatch.setattr(log_module, "FREEZE_AT_BYTES", 0)


@pytest.fixture(params=["gc enabled", "gc disabled"])
def caller_gc(request: pytest.FixtureRequest) -> Iterator[None]:
    """The caller's own choice of GC switch, which the store must hand back unchanged."""
    was = gc.isenabled()
    if request.param == "gc disabled":
        gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


@pytest.fixture
def closed_store(store_dir: Path) -> Path:
    with Store.create(store_dir, PASSPHRASE, grid="grid-1") as store:
        for n in range(5):
            store.put("household", {"address": f"幸福路 {n} 号"})
    return store_dir


@pytest.mark.usefixtures("every_open_is_big", "caller_gc")
def test_open_and_close_leave_gc_and_switch_interval_as_they_were(closed_store: Path) -> None:
    before = interpreter_state()
    with Store.open(closed_store, PASSPHRASE) as store:
        assert store.get(store.index.ids("household")[0])
        assert interpreter_state() == before
    assert interpreter_state() == before


@pytest.mark.usefixtures("every_open_is_big", "caller_gc")
def test_create_leaves_the_interpreter_as_it_was(store_dir: Path) -> None:
    before = interpreter_state()
    Store.create(store_dir, PASSPHRASE, grid="grid-1").close()
    assert interpreter_state() == before


@pytest.mark.usefixtures("every_open_is_big", "caller_gc", "slept")
def test_wrong_passphrase_leaves_the_interpreter_as_it_was(closed_store: Path) -> None:
    before = interpreter_state()
    with pytest.raises(WrongPassphrase):
        Store.open(closed_store, "not the passphrase")
    assert interpreter_state() == before


@pytest.mark.usefixtures("every_open_is_big", "caller_gc")
def test_damaged_store_leaves_the_interpreter_as_it_was(closed_store: Path) -> None:
    log = closed_store / "store.log"
    data = bytearray(log.read_bytes())
    data[-3] ^= 0x01  # inside the last frame: it fails authentication
    log.write_bytes(bytes(data))
    before = interpreter_state()
    with pytest.raises(StoreCorrupted):
        Store.open(closed_store, PASSPHRASE)
    assert interpreter_state() == before


@pytest.mark.usefixtures("every_open_is_big", "caller_gc")
def test_failure_while_loading_leaves_the_interpreter_as_it_was(
    closed_store: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An error in the middle of the load (here the index build) still hands back the GC as it was."""

    def broken_rebuild(self: object, records: object) -> None:
        raise MemoryError("no room for the index")

    monkeypatch.setattr(store_module.RecordIndex, "rebuild", broken_rebuild)
    before = interpreter_state()
    with pytest.raises(MemoryError):
        Store.open(closed_store, PASSPHRASE)
    assert interpreter_state() == before
    monkeypatch.undo()
    Store.open(closed_store, PASSPHRASE).close()  # the failed open released its lock


def test_objects_frozen_by_the_caller_stay_frozen(closed_store: Path) -> None:
    """A caller that froze its own objects (e.g. before forking) keeps them frozen through an open and a close."""
    gc.freeze()
    try:
        frozen = gc.get_freeze_count()
        with Store.open(closed_store, PASSPHRASE):
            pass
        assert gc.get_freeze_count() >= frozen - 100  # refcounting may free a few of them meanwhile, never all
        assert gc.isenabled()
    finally:
        gc.unfreeze()
