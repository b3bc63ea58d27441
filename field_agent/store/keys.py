"""Key derivation and the store header: a random data key wrapped by an Argon2id key from the passphrase.

The header is plaintext JSON holding nothing personal: the store id, the KDF parameters (so they can be raised
later without breaking old stores) and the wrapped data key. A SHA-256 checksum over the body tells damage
(corrupted header) apart from a wrong passphrase (intact header, key does not unwrap).
"""

from __future__ import annotations

import base64
import hashlib
import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.argon2 import Argon2id

from field_agent.store.errors import StoreCorrupted
from field_agent.store.fsutil import atomic_write

HEADER_FORMAT = "field-agent-store"
HEADER_VERSION = 1
KDF_PROFILE_ENV = "FIELD_AGENT_KDF_PROFILE"
WRAP_AAD_PREFIX = b"field-agent/wrap/v1|"

# RFC 9106's second recommended Argon2id setting (64 MiB, 3 passes, 4 lanes): ~0.3 s on the reference machine.
KDF_PROFILES: dict[str, dict[str, int]] = {
    "default": {"memory_kib": 65536, "iterations": 3, "lanes": 4},
    "strong": {"memory_kib": 262144, "iterations": 3, "lanes": 4},
    "test": {"memory_kib": 64, "iterations": 1, "lanes": 1},
}


def kdf_profile_name(requested: str | None) -> str:
    """The KDF profile to use for a new key: the one asked for, else FIELD_AGENT_KDF_PROFILE, else default."""
    name = requested or os.environ.get(KDF_PROFILE_ENV) or "default"
    if name not in KDF_PROFILES:
        raise ValueError(f"unknown key-derivation profile {name!r}; choose one of {', '.join(sorted(KDF_PROFILES))}")
    return name


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.b64decode(text.encode("ascii"), validate=True)


def derive_key(passphrase: str, kdf: dict[str, Any]) -> bytes:
    """The 32-byte key-encryption key for a passphrase under the header's KDF parameters."""
    return Argon2id(
        salt=_unb64(kdf["salt"]),
        length=32,
        iterations=int(kdf["iterations"]),
        lanes=int(kdf["lanes"]),
        memory_cost=int(kdf["memory_kib"]),
    ).derive(passphrase.encode("utf-8"))


@dataclass
class Header:
    """The parsed header file."""

    store_id: bytes
    kdf: dict[str, Any]
    wrapped_key: bytes
    created_ms: int

    def _wrap_aad(self) -> bytes:
        public = {"store_id": self.store_id.hex(), "kdf": self.kdf}
        return WRAP_AAD_PREFIX + orjson.dumps(public, option=orjson.OPT_SORT_KEYS)

    def body(self) -> dict[str, Any]:
        return {
            "format": HEADER_FORMAT,
            "version": HEADER_VERSION,
            "store_id": self.store_id.hex(),
            "created_ms": self.created_ms,
            "kdf": self.kdf,
            "wrapped_key": _b64(self.wrapped_key),
        }

    def unwrap(self, passphrase: str) -> bytes | None:
        """The data key, or None when the passphrase is wrong."""
        kek = derive_key(passphrase, self.kdf)
        nonce, sealed = self.wrapped_key[:12], self.wrapped_key[12:]
        try:
            return AESGCM(kek).decrypt(nonce, sealed, self._wrap_aad())
        except InvalidTag:
            return None

    def rewrapped(self, data_key: bytes, passphrase: str, profile: str | None = None) -> Header:
        """A new header wrapping the same data key under a new passphrase (fresh salt; maybe a new profile)."""
        kdf = new_kdf_params(profile or self.kdf.get("profile"))
        header = Header(self.store_id, kdf, b"", self.created_ms)
        header.wrapped_key = _wrap(data_key, derive_key(passphrase, kdf), header._wrap_aad())
        return header


def new_kdf_params(profile: str | None) -> dict[str, Any]:
    name = kdf_profile_name(profile)
    return {"name": "argon2id", "profile": name, **KDF_PROFILES[name], "salt": _b64(secrets.token_bytes(16))}


def _wrap(data_key: bytes, kek: bytes, aad: bytes) -> bytes:
    nonce = secrets.token_bytes(12)
    return nonce + AESGCM(kek).encrypt(nonce, data_key, aad)


def new_header(passphrase: str, profile: str | None, created_ms: int) -> tuple[Header, bytes]:
    """A header for a new store and its fresh random data key."""
    data_key = AESGCM.generate_key(bit_length=256)
    header = Header(secrets.token_bytes(16), new_kdf_params(profile), b"", created_ms)
    header.wrapped_key = _wrap(data_key, derive_key(passphrase, header.kdf), header._wrap_aad())
    return header, data_key


def encode_header(header: Header) -> bytes:
    """Two lines: the JSON body, then its SHA-256 (so damage is told apart from a wrong passphrase)."""
    body = orjson.dumps(header.body(), option=orjson.OPT_SORT_KEYS)
    return body + b"\n" + hashlib.sha256(body).hexdigest().encode("ascii") + b"\n"


def write_header(path: Path, header: Header) -> None:
    """Replace the header atomically (temp file, fsync, rename, fsync of the directory)."""
    atomic_write(path, encode_header(header))


def read_header(path: Path) -> Header:
    """Parse and check the header; StoreCorrupted (naming the file) if it is damaged."""
    raw = path.read_bytes()
    lines = raw.split(b"\n")
    try:
        if len(lines) != 3 or lines[2] != b"":
            raise ValueError("unexpected layout")
        body_bytes, checksum = lines[0], lines[1]
        if hashlib.sha256(body_bytes).hexdigest().encode("ascii") != checksum:
            raise ValueError("checksum mismatch")
        body = orjson.loads(body_bytes)
        if body.get("format") != HEADER_FORMAT:
            raise ValueError("not a Field Agent store header")
        if body.get("version") != HEADER_VERSION:
            raise ValueError(f"header version {body.get('version')} is not supported by this version")
        kdf = body["kdf"]
        if kdf.get("name") != "argon2id":
            raise ValueError("unknown key derivation")
        return Header(bytes.fromhex(body["store_id"]), kdf, _unb64(body["wrapped_key"]), int(body["created_ms"]))
    except (ValueError, KeyError, TypeError, AttributeError) as error:
        raise StoreCorrupted(path, None, f"the header is damaged ({error})") from None
