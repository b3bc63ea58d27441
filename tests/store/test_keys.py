"""Passphrases: the strength policy, wrong-passphrase back-off (never a wipe), and passwd re-wrapping the key."""

from __future__ import annotations

from pathlib import Path

import pytest

from field_agent.store import Store, WeakPassphrase, WrongPassphrase
from field_agent.store.keys import KDF_PROFILES, read_header
from field_agent.store.passphrase import check_passphrase
from field_agent.store.throttle import delay_for

from .conftest import PASSPHRASE


@pytest.mark.parametrize(
    ("passphrase", "reason"),
    [
        ("123456", "PIN"),
        ("20261130123456", "PIN"),
        ("138-0013-8000", "PIN"),
        ("short pass", "too short"),
        ("张三李四", "too short"),
        ("aaaaaaaaaaaaaaaa", "repetitive"),
        ("Password2024!", "common password"),
        ("woaini1314woaini", "common password"),
        ("qwertyuiopas", "sequence"),
        (" leading space phrase", "space"),
        ("!!!!-----????", "no letters or digits"),
        ("１２３４５６７８９０１２", "PIN"),
    ],
)
def test_weak_passphrases_are_refused_with_the_reason(passphrase: str, reason: str, tmp_path: Path) -> None:
    with pytest.raises(WeakPassphrase, match=reason):
        check_passphrase(passphrase)
    with pytest.raises(WeakPassphrase):
        Store.create(tmp_path / "s", passphrase)
    assert not (tmp_path / "s" / "store.header").exists()


@pytest.mark.parametrize("passphrase", ["correct horse battery staple", "网格员入户排查", "tea-kettle orbit 47 lamp"])
def test_strong_passphrases_pass(passphrase: str) -> None:
    check_passphrase(passphrase)


def test_kdf_profile_is_recorded_in_the_header(store: Store, store_dir: Path, tmp_path: Path) -> None:
    kdf = read_header(store_dir / "store.header").kdf
    assert kdf["profile"] == "test"
    assert {k: kdf[k] for k in KDF_PROFILES["test"]} == KDF_PROFILES["test"]
    with Store.create(tmp_path / "d", PASSPHRASE, kdf_profile="default"):
        assert read_header(tmp_path / "d" / "store.header").kdf["memory_kib"] == 65536


def test_wrong_passphrases_slow_down_and_never_wipe(store: Store, store_dir: Path, slept: list[float]) -> None:
    record = store.put("household", {"address": "a"})
    store.close()
    failures = []
    for _ in range(6):
        with pytest.raises(WrongPassphrase) as caught:
            Store.open(store_dir, "not the passphrase at all")
        failures.append(caught.value.failures)
    assert failures == [1, 2, 3, 4, 5, 6]
    assert slept == [1.0, 2.0, 4.0]
    assert "each new try waits longer" in str(caught.value)
    with Store.open(store_dir, PASSPHRASE) as reopened:
        assert reopened.get(record["id"]) is not None
    assert not (store_dir / "unlock.attempts").exists()
    with pytest.raises(WrongPassphrase) as caught:
        Store.open(store_dir, "not the passphrase at all")
    assert caught.value.failures == 1


def test_back_off_schedule() -> None:
    assert [delay_for(n) for n in range(8)] == [0, 0, 0, 1, 2, 4, 8, 16]
    assert delay_for(100) == 60


def test_passwd_rewraps_without_rewriting_data(store: Store, store_dir: Path) -> None:
    record = store.put("household", {"address": "a"})
    store.close()
    log_before = (store_dir / "store.log").read_bytes()
    new = "another strong passphrase"
    with pytest.raises(WeakPassphrase):
        Store.change_passphrase(store_dir, PASSPHRASE, "1234")
    with pytest.raises(WrongPassphrase):
        Store.change_passphrase(store_dir, "wrong old passphrase", new)
    Store.change_passphrase(store_dir, PASSPHRASE, new)
    assert (store_dir / "store.log").read_bytes() == log_before
    assert not (store_dir / "store.header.tmp").exists()
    with pytest.raises(WrongPassphrase):
        Store.open(store_dir, PASSPHRASE)
    with Store.open(store_dir, new) as reopened:
        assert reopened.get(record["id"])["fields"] == {"address": "a"}
        reopened.passwd(new, PASSPHRASE)
    Store.open(store_dir, PASSPHRASE).close()
