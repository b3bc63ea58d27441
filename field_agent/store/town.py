"""The town configuration on the tablet: the versions the last pull delivered, and the one in force on a day.

The sync agent saves the versions (checked with the domain's parser, ``TownHistory.from_list``) in ``meta`` under
``TOWN_CONFIG_KEY``, sealed like every other setting; a tablet that is offline keeps using them, switching to a
future-dated version on its day by itself. Everything that follows the town's configuration asks here: the
validation of local writes (roles and groups), Today's count and the sampling list (eligibility), the ledgers,
the retention window and the time zone of the screens.

Before any version arrived, the tablet has the built-in defaults, with the two settings it had before town
configuration existed: the retention window the pull delivered (``meta[RETENTION_KEY]``; none, so keep everything,
until a server sends one) and the store's ``time_zone`` setting (``ZONE_SETTING``, Beijing time by default).

Parsed once per saved value: the accessor keeps the parsed history beside the saved bytes it came from and parses
again only when they differ.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from field_agent.domain.errors import ConfigError
from field_agent.domain.roles import DEFAULT_ROLE_CONFIG, RoleConfig
from field_agent.domain.town import DEFAULT_TIME_ZONE, TownConfig, TownHistory
from field_agent.store.core import StoreCore

TOWN_CONFIG_KEY = "town_config"
"""meta: the town configuration's versions as the last pull delivered them (``TownHistory.to_list``)."""
RETENTION_KEY = "tablet_retention_days"
"""meta: the town's window in days (an int; None = keep everything), as the last pull delivered it."""
ZONE_SETTING = "time_zone"  # the same setting the terminal app reads (field_agent/tui/timefmt.py)

_EMPTY = TownHistory()


def town_history(core: StoreCore) -> TownHistory:
    """The versions this tablet holds (empty before the first pull that brought one)."""
    blob = core.meta.documents().blob(TOWN_CONFIG_KEY)  # the saved bytes: compared, not unpacked, on every write
    cached = core.town_cache
    if cached is not None and cached[0] == blob:
        return cached[1]
    found = _EMPTY
    entry = core.meta.raw(TOWN_CONFIG_KEY)
    if entry is not None:
        try:
            found = TownHistory.from_list(entry["v"])
        except ConfigError:  # saved only after the same check: not expected; the defaults then
            found = _EMPTY
    core.town_cache = (blob, found)
    return found


def fallback(core: StoreCore) -> TownConfig:
    """The defaults with the retention window and time zone the tablet had before any version: the window the pull
    delivered (None, keep everything, until a server sends one) and the store's ``time_zone`` setting."""
    days = core.meta_get(RETENTION_KEY)
    zone = core.meta_get(ZONE_SETTING)
    return TownConfig(
        tablet_retention_days=days if isinstance(days, int) and not isinstance(days, bool) else None,
        time_zone=zone if isinstance(zone, str) and zone else DEFAULT_TIME_ZONE,
    )


def town_config(core: StoreCore, day: date | None = None) -> TownConfig:
    """The configuration in force on ``day`` (today in the town when None)."""
    history, base = town_history(core), fallback(core)
    if not history.versions:
        return base
    return history.in_force(day or _today(history, base, datetime.now(UTC)), base)


def town_roles(core: StoreCore) -> RoleConfig:
    """The roles and groups in force today: what every local write is validated with, so without working out
    the day while the town has set no version (the common case; a roster import writes thousands)."""
    history = town_history(core)
    if not history.versions:
        return DEFAULT_ROLE_CONFIG
    if all(version.roles == history.versions[0].roles for version in history.versions):
        return history.versions[0].roles  # the same whatever the day
    return town_config(core).roles


def town_today(core: StoreCore, now: datetime | None = None) -> date:
    """Today's date in the town: in the zone of the version in force on the date in the zone before it."""
    return _today(town_history(core), fallback(core), now or datetime.now(UTC))


def _today(history: TownHistory, base: TownConfig, moment: datetime) -> date:
    first = moment.astimezone(_zone(base.time_zone)).date()
    if not history.versions:
        return first
    return moment.astimezone(_zone(history.in_force(first, base).time_zone)).date()


def save_delivered(core: StoreCore, delivered: Any) -> bool:
    """Keep the versions a pull delivered, once checked with the domain's parser; True when they changed.

    ConfigError when they do not hold together: nothing is saved and the tablet keeps what it had."""
    TownHistory.from_list(delivered)
    if core.meta_get(TOWN_CONFIG_KEY) == delivered:
        return False
    core.meta_put(TOWN_CONFIG_KEY, delivered)
    return True


def _zone(name: str) -> Any:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo(DEFAULT_TIME_ZONE)
