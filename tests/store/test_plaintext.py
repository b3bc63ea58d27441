"""No personal data in plaintext in any file the store created or touched, in any common encoding."""

from __future__ import annotations

import contextlib
import json
from pathlib import Path

import pytest

from field_agent.store import Store
from field_agent.store.salvage import salvage

from .conftest import PASSPHRASE, resident_values

NAMES = ["张秀英", "欧阳建国"]
PHONES = ["13912345678", "059187654321"]
SECRET = "tok_live_4f9a8b7c6d5e"


def encodings(text: str) -> list[bytes]:
    forms = [text.encode("utf-8"), text.encode("utf-16-le"), text.encode("utf-16-be")]
    with contextlib.suppress(UnicodeEncodeError):
        forms.append(text.encode("gbk"))
    escaped = json.dumps(text)[1:-1]  # \uXXXX escapes, as ensure_ascii JSON writes them
    forms += [escaped.encode("ascii"), escaped.lower().encode("ascii"), escaped.upper().encode("ascii")]
    return [form for form in forms if len(form) >= 4]


def scan(directory: Path, needles: list[str]) -> list[tuple[str, str]]:
    found = []
    for path in directory.rglob("*"):
        if path.is_file():
            content = path.read_bytes()
            found += [(path.name, needle) for needle in needles for form in encodings(needle) if form in content]
    return found


@pytest.fixture
def needles(store: Store) -> list[str]:
    household = store.put("household", {"address": "福清市音西街道 8号楼", "head": NAMES[0], "phone": PHONES[0]})
    ids = []
    for number, name in enumerate(NAMES):
        values = resident_values(household["id"], name, number + 3, phone=PHONES[number])
        ids.append(values["id_number"])
        store.put("resident", values)
    store.meta_set("device_token", SECRET)
    return [*NAMES, *PHONES, *ids, SECRET, "音西街道"]


def test_store_files_hold_no_plaintext(store: Store, store_dir: Path, needles: list[str], tmp_path: Path) -> None:
    assert scan(store_dir, needles) == []
    store.compact()
    store.put("household", {"notes": "再次登记"}, record_id=store.records("household")[0]["id"])
    store.passwd(PASSPHRASE, "a different long passphrase")
    store.close()
    assert scan(store_dir, [*needles, "再次登记"]) == []
    salvage(store_dir, "a different long passphrase", tmp_path / "rescued")
    assert scan(tmp_path / "rescued", needles) == []


def test_the_scan_itself_finds_plaintext(tmp_path: Path) -> None:
    (tmp_path / "leak.json").write_text(json.dumps({"name": NAMES[1]}))
    (tmp_path / "leak.txt").write_bytes(PHONES[1].encode("utf-16-le"))
    assert {needle for _, needle in scan(tmp_path, [*NAMES, *PHONES])} == {NAMES[1], PHONES[1]}


def test_errors_do_not_carry_record_values(store: Store, needles: list[str]) -> None:
    with pytest.raises(Exception) as caught:
        store.put("household", {"address": NAMES[0]}, record_id=store.records("resident")[0]["id"])
    assert not any(needle in str(caught.value) for needle in needles)
