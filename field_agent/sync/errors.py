"""The sync agent's exceptions: one hierarchy, each message something a grid worker can act on."""

from __future__ import annotations


class SyncError(Exception):
    """Base of every sync failure; ``kind`` names it for JSON output and logs, ``retryable`` says if later helps."""

    kind = "sync"
    retryable = False

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.code = code

    @property
    def message(self) -> str:
        return str(self)


class Offline(SyncError):
    """The server could not be reached, or the connection broke before the answer arrived."""

    kind = "offline"
    retryable = True


class RateLimited(SyncError):
    """The server asked us to slow down (HTTP 429)."""

    kind = "rate_limited"
    retryable = True

    def __init__(self, message: str, *, retry_after: float | None = None, code: str | None = None) -> None:
        super().__init__(message, code=code)
        self.retry_after = retry_after


class ServerError(SyncError):
    """The server answered with an error; 5xx are worth retrying, 4xx are not."""

    kind = "server"

    def __init__(self, message: str, *, status: int, code: str | None = None, retry_after: float | None = None) -> None:
        super().__init__(message, code=code)
        self.status = status
        self.retry_after = retry_after

    @property
    def retryable(self) -> bool:  # type: ignore[override]
        return self.status >= 500


class AuthRefused(SyncError):
    """The server refused this device's credentials (revoked, unknown token, or not allowed)."""

    kind = "auth"


class DeviceExpired(AuthRefused):
    """A temporary member's device is past its last day (``device_expired``): the server's message gives the date;
    what it recorded stays with the grid. The office extends it (``field-server device extend``)."""

    kind = "device_expired"


class ProtocolError(SyncError):
    """The server's answer did not follow the sync protocol."""

    kind = "protocol"


class NotEnrolled(SyncError):
    """The store has no server credentials yet."""

    kind = "not_enrolled"


class EnrollError(SyncError):
    """Enrolment failed: bad code, wrong server, or the store belongs elsewhere."""

    kind = "enroll"


class CertificateMismatch(SyncError):
    """The server's TLS certificate is not the one pinned (or named by the enrolment code)."""

    kind = "certificate"
