"""Records sealed at rest in the server database: AES-256-GCM per record body, bound to the record's id.

The residents' records (names, ID numbers, addresses, health flags) are stored in the ``records`` table as
``fa1:`` + hex(nonce ‖ ciphertext), never as plaintext JSON, on SQLite and on PostgreSQL alike. The record id is
the associated data, so a body moved onto another row does not open. The stored push answers (``batches``, kept
for a tablet that retries a batch) are sealed the same way, bound to their device and batch id: a refusal reason
names fields, not values, but an answer is sealed whatever it holds. The key (32 random bytes) lives in a file
outside the database: ``$FIELD_SERVER_KEY_FILE`` when set, else beside a SQLite file (``server.db.key``), else in
the server's data directory (PostgreSQL). It is made on first use with mode 0600. A database and its key belong
together: back them up separately (a stolen backup of the database alone reveals nothing but ids and sizes).
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from server_stub.config import data_dir, sqlite_path_from_url
from server_stub.errors import DatabaseError, KeyMismatch

KEY_FILE_ENV = "FIELD_SERVER_KEY_FILE"
PREFIX = "fa1:"
PREFIX_LENGTH = len(PREFIX)
KEY_BYTES = 32
NONCE_BYTES = 12


class SealError(DatabaseError):
    """A stored body that does not open with this server's key (wrong key file, or the row was tampered with)."""


class Sealer:
    """Seals and opens record bodies with one key."""

    def __init__(
        self, key: bytes, source: str = "the server key", new_key: Path | None = None, path: Path | None = None
    ) -> None:
        if len(key) != KEY_BYTES:
            raise DatabaseError(f"{source} must hold {KEY_BYTES} bytes, not {len(key)}")
        self._aead = AESGCM(key)
        self._key = key
        self.source = source
        self.new_key = new_key  # the key file made just now for this database (None: it existed)
        self.path = path  # the key file this key was read from (None: given in memory)
        self._seen = _identity(path) if path is not None else None

    def check_key_file(self) -> None:
        """Raise KeyMismatch when the key file no longer holds the key in use (replaced or removed while the
        server runs). The key is read once; a write sealed with it after its file changed could not be opened
        after a restart, so writes stop until the right file is back. Costs one ``stat`` when nothing changed."""
        if self.path is None:
            return
        seen = _identity(self.path)
        if seen == self._seen and seen is not None:
            return
        try:
            same = self.path.read_bytes() == self._key
        except OSError:
            same = False
        if not same:
            raise KeyMismatch(
                f"the key file {self.path} no longer holds the key this server's database is sealed with (it was "
                "replaced or removed while the server ran): nothing was written; put the database's own key file "
                "back"
            )
        self._seen = seen

    def seal_answer(self, device_id: str, batch_id: str, text: str | bytes) -> str:
        """The stored form of a push answer, bound to its device and batch."""
        return self.seal(_answer_data(device_id, batch_id), text)

    def open_answer(self, device_id: str, batch_id: str, stored: str) -> bytes:
        """The JSON of a stored push answer; SealError when it is not sealed or does not open."""
        if not stored.startswith(PREFIX):
            raise SealError(f"the stored answer to batch {batch_id} is not sealed; it was not written by this server")
        try:
            raw = bytes.fromhex(stored[PREFIX_LENGTH:])
            return self._aead.decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], _answer_data(device_id, batch_id).encode())
        except (InvalidTag, ValueError) as error:
            raise SealError(
                f"the stored answer to batch {batch_id} does not open with {self.source}: wrong key file for this "
                "database, or the row was altered"
            ) from error

    def seal(self, record_id: str, text: str | bytes) -> str:
        """The stored form of a body. Hex, not base64: it takes a third of the time to decode (0.36 vs 1.0 µs for
        a typical record here), and every pulled record is decoded; it costs 50 % more space."""
        nonce = secrets.token_bytes(NONCE_BYTES)
        plain = text.encode() if isinstance(text, str) else text
        return PREFIX + (nonce + self._aead.encrypt(nonce, plain, record_id.encode())).hex()

    def open(self, record_id: str, stored: str) -> bytes:
        """The plaintext JSON (bytes) of a sealed body; SealError when it is not sealed or does not open."""
        if not stored.startswith(PREFIX):
            raise SealError(f"record {record_id} is stored unsealed in the database; it was not written by this server")
        try:
            raw = bytes.fromhex(stored[PREFIX_LENGTH:])
            return self._aead.decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], record_id.encode())
        except (InvalidTag, ValueError) as error:
            raise SealError(
                f"record {record_id} does not open with {self.source}: wrong key file for this database, "
                "or the row was altered"
            ) from error


def _answer_data(device_id: str, batch_id: str) -> str:
    """The associated data of a stored answer: NUL-separated, so no record id (a UUID) can equal it."""
    return f"answer\x00{device_id}\x00{batch_id}"


def _identity(path: Path) -> tuple[int, int, int, int] | None:
    try:
        status = path.stat()
    except OSError:
        return None
    return (status.st_dev, status.st_ino, status.st_size, status.st_mtime_ns)


def key_path(url: str) -> Path:
    """Where the key of the database at ``url`` lives (see the module docstring)."""
    chosen = os.environ.get(KEY_FILE_ENV)
    if chosen:
        return Path(os.path.expanduser(chosen))
    if url.startswith("sqlite:///"):
        database = sqlite_path_from_url(url)
        return database.with_name(database.name + ".key")
    return data_dir() / "server.key"


def load_or_create_key(path: Path, create: bool = True) -> tuple[bytes, bool]:
    """The key in ``path`` and whether it was made just now: a new random key is written there (0600, fsynced)
    when the file does not exist."""
    try:
        key = path.read_bytes()
    except FileNotFoundError:
        if not create:
            raise DatabaseError(f"the server key {path} is missing: restore it from your backup") from None
        return _create_key(path)
    except OSError as error:
        raise DatabaseError(f"cannot read the server key {path}: {error.strerror or error}") from error
    if len(key) != KEY_BYTES:
        raise DatabaseError(f"the server key {path} is damaged ({len(key)} bytes, expected {KEY_BYTES})")
    return key, False


def _create_key(path: Path) -> tuple[bytes, bool]:
    """Write a new key to a temporary file, fsync it, then link it into place: another process opening the same
    new database at the same moment sees either no key or the whole key, and then uses that one."""
    key = secrets.token_bytes(KEY_BYTES)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            os.write(descriptor, key)
            os.fsync(descriptor)
        finally:
            os.close(descriptor)
        try:
            os.link(temporary, path)
        except FileExistsError:  # another process made it a moment ago: use theirs
            return load_or_create_key(path, create=False)
        directory = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(directory)
        finally:
            os.close(directory)
    except OSError as error:
        raise DatabaseError(f"cannot create the server key {path}: {error.strerror or error}") from error
    finally:
        temporary.unlink(missing_ok=True)
    return key, True


def sealer_from_file(path: Path, create: bool = True) -> Sealer:
    """The sealer of a given key file (made on first use unless ``create`` is False)."""
    key, created = load_or_create_key(path, create)
    return Sealer(key, source=f"the key file {path}", new_key=path if created else None, path=path)


def sealer_for(url: str) -> Sealer:
    """The sealer of the database at ``url``, with its key file made on first use."""
    return sealer_from_file(key_path(url))
