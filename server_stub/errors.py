"""The town server's exceptions: each carries a stable code, an HTTP status and a message a person can act on."""

from __future__ import annotations

from typing import Any


class ServerError(Exception):
    """Base of every error the server reports; mapped to a JSON ErrorBody at the HTTP boundary."""

    status = 400
    code = "bad_request"

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        status: int | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        if status is not None:
            self.status = status
        self.headers = headers or {}


class AuthError(ServerError):
    """The request carries no valid device token (missing, unknown or revoked)."""

    status = 401
    code = "token_invalid"


class CodeRefused(ServerError):
    """An enrolment code that is unknown, already used or expired."""

    status = 401
    code = "code_invalid"


class Conflict(ServerError):
    """The request clashes with the server's state (e.g. a node id already enrolled)."""

    status = 409
    code = "conflict"


class NotFound(ServerError):
    """A grid, device or record that does not exist."""

    status = 404
    code = "not_found"


class RateLimited(ServerError):
    """Too many attempts from one address; the answer says when to try again."""

    status = 429
    code = "rate_limited"


class RequestInvalid(ServerError):
    """A request body whose content breaks a limit or a rule (names the offending field)."""

    status = 422
    code = "invalid_request"


class SettingInvalid(ServerError):
    """A server setting (an environment variable) that cannot be used; names the setting and what it takes."""

    status = 500
    code = "setting_invalid"


class DatabaseError(ServerError):
    """The database cannot be opened or used (bad URL, unreachable server); the tablet retries after a while."""

    status = 503
    code = "database_unavailable"

    def __init__(self, message: str, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.headers.setdefault("Retry-After", "60")


class KeyMismatch(DatabaseError):
    """The server key file no longer holds the key the database is sealed with: writes stop until it is back."""

    code = "key_mismatch"


class StorageFailed(DatabaseError):
    """The database cannot be written (disk full, read-only file or file system, I/O error); nothing was."""

    code = "storage_unavailable"
