"""The town's time zone, and every time the server shows: CLI output, the office page and JSON, audit and access logs.

The town configuration's ``time_zone`` names the zone once a version is set (``server_stub/town_config.py``
reads it when a command opens the database, when the server starts and on each pull's last page); before that,
``$FIELD_SERVER_TZ`` names the zone (an IANA name: ``Asia/Shanghai``, ``Asia/Urumqi``); the default is
``Asia/Shanghai``. A name that is not a time zone is refused with one clear line (``SettingInvalid``) by the first
command that runs (``field-server`` checks it before any command). Times are shown with their offset, so a
reader never has to guess the zone: ``2026-12-05 14:03:00+08:00`` in the command line's text, ISO 8601
(``2026-12-05T14:03:00+08:00``) in JSON.
"""

from __future__ import annotations

import datetime as dt
import os
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from server_stub.errors import SettingInvalid

TZ_ENV = "FIELD_SERVER_TZ"
DEFAULT_TZ = "Asia/Shanghai"
# China has kept one offset all year since 1991: the default stands in when a system has no time zone database
_CHINA_STANDARD_TIME = dt.timezone(dt.timedelta(hours=8), "CST")


_configured: list[str] = []  # the zone of the town configuration in force, once read (``configured_zone``)


def env_zone_name() -> str:
    """``$FIELD_SERVER_TZ``, else Asia/Shanghai: the zone when the town has set no configuration."""
    return (os.environ.get(TZ_ENV) or "").strip() or DEFAULT_TZ


def configured_zone(name: str | None) -> None:
    """Make ``name`` (the time zone of the town configuration in force, ``server_stub/town_config.py``) the
    town's zone in this process; None: back to ``$FIELD_SERVER_TZ``."""
    _configured[:] = [name] if name else []


def town_zone() -> dt.tzinfo:
    """The town's time zone: the town configuration's (once read), else ``$FIELD_SERVER_TZ``, else Asia/Shanghai."""
    return _zone(_configured[0] if _configured else env_zone_name())


@lru_cache(maxsize=8)
def _zone(name: str) -> dt.tzinfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        if name == DEFAULT_TZ:
            return _CHINA_STANDARD_TIME
        raise SettingInvalid(
            f"{TZ_ENV}={name!r} is not a time zone name (时区名无效): use an IANA name such as "
            f"{DEFAULT_TZ} or Asia/Urumqi, or unset it for {DEFAULT_TZ}"
        ) from None


def town_now() -> dt.datetime:
    return dt.datetime.now(town_zone())


def town_today() -> dt.date:
    """Today's date in the town."""
    return town_now().date()


def from_ms(ms: float) -> dt.datetime:
    """Milliseconds since the epoch as the town's local time."""
    return dt.datetime.fromtimestamp(ms / 1000, town_zone())


def town_time(ms: object) -> dt.datetime | None:
    """A stored time (milliseconds since the epoch, or None) in the town's zone; None when there is none."""
    if not isinstance(ms, int | float) or isinstance(ms, bool):
        return None
    return from_ms(ms)


def iso_ms(ms: object) -> str | None:
    """A stored time as ISO 8601 with the town's offset (for JSON), or None."""
    when = town_time(ms)
    return when.isoformat(timespec="seconds") if when else None


def shown_ms(ms: object) -> str:
    """A stored time as the command line prints it (``2026-12-05 14:03:00+08:00``), or ``-``."""
    when = town_time(ms)
    return when.isoformat(sep=" ", timespec="seconds") if when else "-"
