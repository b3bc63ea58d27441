"""Errors from the store, the domain and sync, in words of the active language."""

from __future__ import annotations

from field_agent.domain.errors import DomainError, FieldError, IdNumberError, ValidationError
from field_agent.domain.printable import inert
from field_agent.store import errors as store_errors
from field_agent.sync.errors import CertificateMismatch, EnrollError, Offline, SyncError
from field_agent.tui.i18n import Translator

_STORE_KEYS: tuple[tuple[type[Exception], str], ...] = (
    (store_errors.WrongPassphrase, "error.wrong_passphrase"),
    (store_errors.WeakPassphrase, "error.weak_passphrase"),
    (store_errors.StoreLocked, "error.store_locked"),
    (store_errors.StoreCorrupted, "error.store_corrupted"),
    (store_errors.StoreNotFound, "error.store_not_found"),
    (store_errors.StoreExists, "error.store_exists"),
    (store_errors.StoreWriteFailed, "error.write_failed"),
    (store_errors.StoreClosed, "error.store_closed"),
)


def describe_error(t: Translator, error: BaseException) -> str:
    """A one-line message a grid worker can act on; the original English detail follows when it adds facts.

    Control characters in it (from a value or a server's answer) are shown as escapes, never sent to the terminal.
    """
    return inert(_describe(t, error))


def _describe(t: Translator, error: BaseException) -> str:
    if isinstance(error, store_errors.WeakPassphrase):
        return t("error.weak_passphrase", detail=weak_passphrase_reason(t, error))
    if isinstance(error, store_errors.HouseholdNotEmpty):
        return t("error.household_not_empty", count=error.residents)
    for error_type, key in _STORE_KEYS:
        if isinstance(error, error_type):
            return t(key, detail=str(error))
    if isinstance(error, SyncError):
        return _sync_error(t, error)
    if isinstance(error, ValidationError):
        return t("error.invalid", detail="; ".join(field_message(t, e.field, e.message) for e in error.errors))
    if isinstance(error, IdNumberError):
        return t(f"idcheck.{error.reason}")
    if isinstance(error, DomainError):
        return t("error.domain", detail=str(error))
    return t("error.unexpected", detail=f"{type(error).__name__}: {error}")


def weak_passphrase_reason(t: Translator, error: store_errors.WeakPassphrase) -> str:
    """Why a passphrase was refused, from the store's reason code and parameters (the CLI uses it too)."""
    params = dict(error.params)
    if "parts" in params:
        parts = params["parts"] or ["guessable"]
        params["parts"] = t("passphrase.part_separator").join(t(f"passphrase.part.{part}") for part in parts)
    key = f"passphrase.{error.code}"
    return t(key, **params) if t.has(key) else t("passphrase.weak")


def _sync_error(t: Translator, error: SyncError) -> str:
    """Enrolment and sync failures: wrong code, offline, certificate mismatch, each with what to do."""
    detail = str(error)
    if error.code and t.has(f"enrol.error.{error.code}"):
        return t(f"enrol.error.{error.code}")
    if isinstance(error, CertificateMismatch):
        return t("enrol.error.certificate", detail=detail)
    if isinstance(error, Offline):
        return t("enrol.error.offline", detail=detail)
    if isinstance(error, EnrollError):
        return t("enrol.error.refused" if error.code else "enrol.error.invalid", detail=detail)
    return t("enrol.error.sync", detail=detail)


def field_message(t: Translator, field: str, message: str) -> str:
    return f"{t.label('field', field)}: {message}"


def field_error_text(t: Translator, error: FieldError) -> str:
    """What is wrong with one field, shown beside it (the field's label is already there)."""
    return inert(error.message)
