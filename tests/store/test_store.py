"""Store basics: records round-trip through close/open, edits stamp only what changed, errors say what to do."""

from __future__ import annotations

from pathlib import Path

import pytest

from field_agent.domain.envelope import view
from field_agent.domain.errors import ValidationError
from field_agent.store import RecordNotFound, Store, StoreClosed, StoreError, StoreExists, StoreLocked, StoreNotFound

from .conftest import PASSPHRASE, resident_values


def test_put_get_survive_reopen(store: Store, store_dir: Path) -> None:
    created = store.put("household", {"address": "幸福路 3栋 301", "head": "张三", "tags": ["elderly-home"]})
    store.close()
    with Store.open(store_dir, PASSPHRASE) as reopened:
        again = reopened.get(created["id"])
        assert again == created
        assert view(again)["tags"] == ["elderly-home"]
        assert reopened.node_id == store.node_id
        assert reopened.open_report is None


def test_update_stamps_only_changed_fields(store: Store) -> None:
    first = store.put("household", {"address": "幸福路 1号", "head": "李四", "phone": "13800001111"})
    second = store.put("household", {"head": "李四", "phone": "13900002222"}, record_id=first["id"])
    assert second["stamps"]["head"] == first["stamps"]["head"]
    assert second["stamps"]["phone"] > first["stamps"]["phone"]
    assert second["fields"] == {"address": "幸福路 1号", "head": "李四", "phone": "13900002222"}


def test_unchanged_put_writes_nothing(store: Store) -> None:
    record = store.put("household", {"address": "王五家"})
    size = store.storage.writer.size
    store.put("household", {"address": "王五家"}, record_id=record["id"])
    assert store.storage.writer.size == size


def test_set_field_list_replaces_members(store: Store) -> None:
    household = store.put("household", {"address": "赵家"})["id"]
    record = store.put("resident", resident_values(household, "赵六", special_groups=["chronic", "disabled"]))
    record = store.put("resident", {"special_groups": ["disabled", "bedridden"]}, record_id=record["id"])
    assert view(record)["special_groups"] == ["bedridden", "disabled"]


def test_clock_stays_monotonic_across_restarts(store: Store, store_dir: Path) -> None:
    last = store.put("household", {"address": "a"})["stamps"]["address"]
    store.close()
    with Store.open(store_dir, PASSPHRASE) as reopened:
        reopened.clock._now_ms = lambda: 0  # the wall clock stepped back to 1970
        assert reopened.put("household", {"address": "b"})["stamps"]["address"] > last


def test_delete_is_a_tombstone(store: Store) -> None:
    record = store.put("household", {"address": "x"})
    store.delete(record["id"])
    assert store.records("household") == []
    assert store.records("household", include_deleted=True)[0]["fields"]["_deleted"] is True
    with pytest.raises(RecordNotFound):
        store.delete("no-such-id")


def test_reserved_fields_and_kind_mismatch_are_refused(store: Store) -> None:
    with pytest.raises(StoreError, match="cannot be set directly"):
        store.put("household", {"_deleted": True})
    record = store.put("household", {"address": "x"})
    with pytest.raises(StoreError, match="is a household, not a resident"):
        store.put("resident", resident_values(record["id"], "n"), record_id=record["id"])


def test_invalid_values_are_refused_and_nothing_is_written(store: Store) -> None:
    frames = store.storage.writer.frames
    with pytest.raises(ValidationError, match="id_number"):
        store.put("resident", {**resident_values("h", "钱七"), "id_number": "110101199003070000"})
    assert store.storage.writer.frames == frames
    assert store.records() == []


def test_record_without_grid_is_refused(tmp_path: Path) -> None:
    with Store.create(tmp_path / "s", PASSPHRASE) as store, pytest.raises(StoreError, match="no grid"):
        store.put("household", {"address": "x"})


def test_meta_is_sealed_and_durable(store: Store, store_dir: Path) -> None:
    store.meta_set("device_token", {"token": "secret-token-value"})
    store.close()
    with Store.open(store_dir, PASSPHRASE) as reopened:
        assert reopened.meta_get("device_token") == {"token": "secret-token-value"}
        assert reopened.meta_get("missing", 7) == 7


def test_second_writer_is_refused(store: Store, store_dir: Path) -> None:
    with pytest.raises(StoreLocked, match="open in another program"):
        Store.open(store_dir, PASSPHRASE)


def test_create_refuses_existing_and_open_refuses_missing(store: Store, store_dir: Path, tmp_path: Path) -> None:
    with pytest.raises(StoreExists):
        Store.create(store_dir, PASSPHRASE)
    with pytest.raises(StoreNotFound, match="field-agent init"):
        Store.open(tmp_path / "nowhere", PASSPHRASE)


def test_closed_store_refuses_writes(store: Store) -> None:
    store.close()
    with pytest.raises(StoreClosed):
        store.put("household", {"address": "x"})


def test_batch_is_one_frame_and_rolls_back(store: Store) -> None:
    frames = store.storage.writer.frames
    with store.batch():
        for number in range(50):
            store.put("household", {"address": f"building {number}"})
    assert store.storage.writer.frames == frames + 1
    assert len(store.records("household")) == 50
    with pytest.raises(RuntimeError), store.batch():
        store.put("household", {"address": "never kept"})
        raise RuntimeError("import failed half-way")
    assert len(store.records("household")) == 50
    assert store.storage.writer.frames == frames + 1


def test_compaction_keeps_data_and_shrinks_log(store: Store, store_dir: Path) -> None:
    record = store.put("household", {"address": "a"})
    for number in range(200):
        store.put("household", {"address": f"a{number}"}, record_id=record["id"])
    before = (store_dir / "store.log").stat().st_size
    store.compact()
    after = (store_dir / "store.log").stat().st_size
    assert after < before / 5
    store.put("household", {"notes": "after compaction"}, record_id=record["id"])
    store.close()
    with Store.open(store_dir, PASSPHRASE) as reopened:
        assert reopened.get(record["id"])["fields"] == {"address": "a199", "notes": "after compaction"}
        assert reopened.pending_count() == 1


def test_automatic_compaction_when_log_outgrows_data(store: Store, store_dir: Path) -> None:
    store.storage.min_compact_bytes = 4096
    generation = store.storage.writer.generation
    record = store.put("household", {"address": "a"})
    for number in range(100):
        store.put("household", {"notes": "n" * 100 + str(number)}, record_id=record["id"])
    store.close()  # a compaction still running in the background is finished by close
    assert store.storage.writer.generation > generation
    with Store.open(store_dir, PASSPHRASE) as reopened:
        assert reopened.get(record["id"])["fields"]["notes"].endswith("99")


def test_threads_share_one_store_safely(store: Store, store_dir: Path) -> None:
    import threading

    errors: list[BaseException] = []

    def writer(prefix: str) -> None:
        try:
            for number in range(30):
                with store.batch():
                    store.put("household", {"address": f"{prefix}{number}"})
                store.search_households(prefix)
        except BaseException as error:  # pragma: no cover - reported below
            errors.append(error)

    threads = [threading.Thread(target=writer, args=(p,)) for p in ("东区", "西区", "北区")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    store.close()
    with Store.open(store_dir, PASSPHRASE) as reopened:
        assert len(reopened.records("household")) == 90
        assert len(reopened.repos.households.search("东区")) == 30
