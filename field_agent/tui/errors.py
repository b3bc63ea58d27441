"""Errors from the store, the domain and sync, in words of the active language."""

from __future__ import annotations

from field_agent.domain.errors import DomainError, FieldError, IdNumberError, ValidationError
from field_agent.domain.messages import Message
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
    """A one-line message a grid worker can act on, wholly in the active language.

    Domain errors are said from their message key and parameters (``domain.<key>``, from the domain's catalog);
    store errors from their type and attributes (the path, the number of failed tries), never with the store's
    English text.

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
            return t(key, **_store_params(t, error))
    if isinstance(error, SyncError):
        return _sync_error(t, error)
    if isinstance(error, ValidationError):
        return t("error.invalid", detail=t("error.separator").join(field_error_message(t, e) for e in error.errors))
    if isinstance(error, IdNumberError):
        return t(f"idcheck.{error.reason}")
    if isinstance(error, DomainError):
        return t("error.domain", detail=domain_message(t, error.detail) if error.detail else str(error))
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
    """Enrolment and sync failures: wrong code, offline, certificate mismatch, each with what to do. The agent's
    own words (English, for IT) follow only on an English screen."""
    if error.code and t.has(f"enrol.error.{error.code}"):
        return t(f"enrol.error.{error.code}")
    if isinstance(error, CertificateMismatch):
        key = "enrol.error.certificate"
    elif isinstance(error, Offline):
        key = "enrol.error.offline"
    elif isinstance(error, EnrollError):
        key = "enrol.error.refused" if error.code else "enrol.error.invalid"
    else:
        key = "enrol.error.sync"
    return t(key) + (f" ({error})" if t.language == "en" else "")


def _store_params(t: Translator, error: BaseException) -> dict[str, object]:
    """What a store error's catalog message may name: where (path, file and byte), how many failed tries."""
    params: dict[str, object] = {"detail": str(error), "path": getattr(error, "path", "")}
    if isinstance(error, store_errors.WrongPassphrase):
        failures = error.failures
        params["retries"] = t("error.wrong_passphrase_retries", failures=failures) if failures >= 3 else ""
    if isinstance(error, store_errors.StoreCorrupted):
        file, offset = error.file, error.offset
        params["where"] = t("error.where_offset", file=file, offset=offset) if offset is not None else str(file)
    return params


def domain_message(t: Translator, message: Message) -> str:
    """A domain message (``domain.messages``) in the active language; its English text if the catalog lacks it."""
    key = f"domain.{message.key}"
    if not t.has(key):
        return str(message)
    params = {
        name: domain_message(t, value) if isinstance(value, Message) else value
        for name, value in message.params.items()
    }
    return t(key, **params)


def field_error_message(t: Translator, error: FieldError) -> str:
    """``电话：手机号应为11位数字，不是9位``: the field's label and the problem, both in the active language."""
    detail = error.detail
    return field_message(t, error.field, domain_message(t, detail) if detail else error.message)


def field_message(t: Translator, field: str, message: str) -> str:
    return t("error.field", field=t.label("field", field), message=message)


def field_error_text(t: Translator, error: FieldError) -> str:
    """What is wrong with one field, shown beside it (the field's label is already there), in the active language."""
    detail = error.detail
    return inert(domain_message(t, detail) if detail else error.message)
