"""The domain's exceptions: every rule a record, ID number, phone or role set-up can break."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from field_agent.domain.messages import Message


class DomainError(ValueError):
    """A value or operation the domain rules refuse; the message says what to fix.

    A message names the field and the rule, never the value refused nor any part of it (positions stand in for
    entries of a list or map): messages reach the refusal reasons the server returns and stores, reports and logs.
    Raised with a ``Message`` (``domain.messages``), ``str()`` is its English text and ``key`` and ``params`` let a
    user interface say it in the worker's language; raised with a plain text, ``key`` is None.
    """

    def __init__(self, message: str | Message = "") -> None:
        super().__init__(str(message))
        self.detail: Message | None = message if isinstance(message, Message) else None

    @property
    def key(self) -> str | None:
        return self.detail.key if self.detail else None

    @property
    def params(self) -> Mapping[str, Any]:
        return self.detail.params if self.detail else {}


@dataclass(frozen=True, slots=True)
class FieldError:
    """One problem with one field, in words a grid worker can act on.

    ``message`` is the English text; ``key`` and ``params`` (``domain.messages``) say the same for a catalog. Two
    errors are equal when field and message are.
    """

    field: str
    message: str
    key: str = dataclasses.field(default="", compare=False)
    params: Mapping[str, Any] = dataclasses.field(default_factory=dict, compare=False, hash=False)

    @classmethod
    def of(cls, field_name: str, message: Message) -> FieldError:
        """The error for ``field_name`` with a keyed message."""
        return cls(field_name, str(message), message.key, message.params)

    @property
    def detail(self) -> Message | None:
        """The keyed message, when the error has one."""
        return Message(self.key, self.params) if self.key else None

    def __str__(self) -> str:
        return f"{self.field}: {self.message}"


class ValidationError(DomainError):
    """A record write that breaks one or more field rules; ``errors`` lists every one of them."""

    def __init__(self, errors: Iterable[FieldError], kind: str | None = None) -> None:
        self.errors: list[FieldError] = list(errors)
        self.kind = kind
        what = f"{kind} record" if kind else "record"
        details = "; ".join(str(error) for error in self.errors)
        super().__init__(f"{what} is not valid: {details}")

    def for_field(self, field: str) -> list[str]:
        """The messages about one field."""
        return [error.message for error in self.errors if error.field == field]


class IdNumberError(DomainError):
    """A resident ID number that is malformed; ``reason`` is a short code (length, characters, region, date,
    check_digit)."""

    def __init__(self, message: str | Message, reason: str) -> None:
        super().__init__(message)
        self.reason = reason


class PhoneError(DomainError):
    """A phone number that is neither a valid mobile nor a valid landline."""


class ConfigError(DomainError):
    """A town's role/group or eligibility configuration that does not hold together."""


class ModeSwitchError(DomainError):
    """A grid mode switch that cannot be made as asked."""
