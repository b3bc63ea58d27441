"""A town's configuration: roles, groups and their mapping, the home-sampling rule, the tablets' retention window
and the town's time zone, in dated versions.

The town office sets a version with an effective date (``field-server town config set --from FILE``); the server
keeps every version and sends them to the tablets with the pull. On any day the version in force is the latest
whose effective date is that day or before it (in the town's time zone); before the first version, the built-in
defaults (``TownConfig()``). A version dated in the future travels too, so a tablet that is offline on the day
switches by itself.

``TownConfig.from_dict`` reads one version (JSON-shaped, as the office writes it and as the wire carries it) and
reports every problem at once (``TownConfigError``), each with where it is (``roles[2].key``) and a keyed message
(``domain/messages.py``) that the catalogs say in Chinese and English. Left-out settings take the ``base``
version's values (the defaults, or on the server the version in force), so an office file may hold only what it
changes. A version's ``to_dict`` is complete: read back, it gives the same version whatever the base.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from field_agent.domain.enums import RESIDENCY_TYPES, SPECIAL_GROUPS
from field_agent.domain.errors import ConfigError
from field_agent.domain.groups import DEFAULT_ELIGIBILITY, EligibilityRule
from field_agent.domain.messages import Message, msg
from field_agent.domain.roles import DEFAULT_ROLE_CONFIG, Label, RoleConfig

DEFAULT_TIME_ZONE = "Asia/Shanghai"
DEFAULT_RETENTION_DAYS = 14
MAX_RETENTION_DAYS = 3650
ROLE_KEYS = ("roles", "groups", "role_to_group", "group_to_role", "leader_group")
TOP_KEYS = ("effective", "version", *ROLE_KEYS, "eligibility", "tablet_retention_days", "time_zone")
ELIGIBILITY_KEYS = ("groups", "home_isolation", "excluded_residency")
LABEL_KEYS = ("key", "zh_CN", "en")
_KEY = re.compile(r"[a-z][a-z0-9_]{0,39}")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
MAX_LABELS = 40
MAX_NAME = 40


@dataclass(frozen=True, slots=True)
class Problem:
    """One problem with a configuration: where it is (``roles[2].key``; empty for the whole) and what is wrong."""

    where: str
    detail: Message

    def __str__(self) -> str:
        return f"{self.where}: {self.detail}" if self.where else str(self.detail)


class TownConfigError(ConfigError):
    """A town configuration that cannot be used, with every problem found (``problems``)."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = list(problems)
        super().__init__("town configuration: " + "; ".join(str(problem) for problem in self.problems))


@dataclass(frozen=True)
class TownConfig:
    """One version of a town's configuration. ``effective`` None: the built-in defaults, in force before any
    version; ``version``: the server's number for it (0 for the defaults), the later one winning on the same day."""

    roles: RoleConfig = DEFAULT_ROLE_CONFIG
    eligibility: EligibilityRule = DEFAULT_ELIGIBILITY
    tablet_retention_days: int | None = DEFAULT_RETENTION_DAYS
    time_zone: str = DEFAULT_TIME_ZONE
    effective: date | None = None
    version: int = 0

    @classmethod
    def from_dict(cls, data: object, base: TownConfig | None = None) -> TownConfig:
        """Read one version; settings left out keep ``base``'s (the defaults when None). TownConfigError lists
        every problem."""
        base = base or DEFAULT_TOWN_CONFIG
        problems: list[Problem] = []
        if not isinstance(data, Mapping):
            raise TownConfigError([Problem("", msg("town.not_map"))])
        for key in data:
            if key not in TOP_KEYS:
                problems.append(Problem(_shown(key), msg("town.unknown_key", keys=", ".join(TOP_KEYS))))
        effective = _effective(data.get("effective"), problems) if "effective" in data else base.effective
        version = data.get("version", base.version)
        if not isinstance(version, int) or isinstance(version, bool) or version < 0:
            problems.append(Problem("version", msg("town.version")))
            version = 0
        roles = _roles(data, base.roles, problems)
        eligibility = _eligibility(data.get("eligibility", base.eligibility.to_dict()), problems)
        days = data.get("tablet_retention_days", base.tablet_retention_days)
        if days is not None and (
            not isinstance(days, int) or isinstance(days, bool) or not 0 <= days <= MAX_RETENTION_DAYS
        ):
            problems.append(Problem("tablet_retention_days", msg("town.retention", maximum=MAX_RETENTION_DAYS)))
        zone = data.get("time_zone", base.time_zone)
        if not valid_zone(zone):
            problems.append(Problem("time_zone", msg("town.time_zone")))
        if problems:
            raise TownConfigError(problems)
        assert roles is not None and eligibility is not None  # no problems: both were read
        return cls(roles, eligibility, days, zone, effective, version)

    def to_dict(self) -> dict[str, Any]:
        return {
            "effective": self.effective.isoformat() if self.effective else None,
            "version": self.version,
            **self.roles.to_dict(),
            "eligibility": self.eligibility.to_dict(),
            "tablet_retention_days": self.tablet_retention_days,
            "time_zone": self.time_zone,
        }

    def settings(self) -> dict[str, Any]:
        """``to_dict`` without the version's date and number: what a version sets."""
        data = self.to_dict()
        del data["effective"], data["version"]
        return data

    def dated(self, effective: date, version: int) -> TownConfig:
        return replace(self, effective=effective, version=version)


DEFAULT_TOWN_CONFIG = TownConfig()


@dataclass(frozen=True)
class TownHistory:
    """Every version of a town's configuration, oldest first (by effective date, then number)."""

    versions: tuple[TownConfig, ...] = field(default_factory=tuple)

    def __post_init__(self) -> None:
        ordered = tuple(sorted(self.versions, key=_order))
        object.__setattr__(self, "versions", ordered)

    def in_force(self, day: date, fallback: TownConfig = DEFAULT_TOWN_CONFIG) -> TownConfig:
        """The version in force on ``day``: the latest whose effective date is ``day`` or before; ``fallback``
        before the first."""
        found = fallback
        for version in self.versions:
            if version.effective is not None and version.effective <= day:
                found = version
            else:
                break
        return found

    def since(self, day: date) -> list[TownConfig]:
        """The version in force on ``day`` and every later one: what a tablet needs from ``day`` on."""
        current = self.in_force(day, fallback=DEFAULT_TOWN_CONFIG)
        return [v for v in self.versions if v is current or (v.effective is not None and v.effective > day)]

    def add(self, config: TownConfig, effective: date) -> tuple[TownHistory, TownConfig]:
        """This history with ``config`` as a new version from ``effective`` (numbered after the last)."""
        number = max((v.version for v in self.versions), default=0) + 1
        added = config.dated(effective, number)
        return TownHistory((*self.versions, added)), added

    def to_list(self) -> list[dict[str, Any]]:
        return [version.to_dict() for version in self.versions]

    @classmethod
    def from_list(cls, data: object) -> TownHistory:
        """Read versions as ``to_list`` wrote them (each complete and dated); TownConfigError lists the problems,
        each placed by its position (``[2].roles[1].key``)."""
        if not isinstance(data, list):
            raise TownConfigError([Problem("", msg("town.not_list"))])
        versions: list[TownConfig] = []
        problems: list[Problem] = []
        for position, item in enumerate(data):
            try:
                version = TownConfig.from_dict(item)
            except TownConfigError as error:
                problems.extend(Problem(f"[{position}].{p.where}".rstrip("."), p.detail) for p in error.problems)
                continue
            if version.effective is None:
                problems.append(Problem(f"[{position}].effective", msg("town.date")))
            versions.append(version)
        if problems:
            raise TownConfigError(problems)
        return cls(tuple(versions))


def describe(config: TownConfig) -> list[str]:
    """A version, a line per setting, as the office's terminal shows it (``field-server town config show``)."""
    roles, rule = config.roles, config.eligibility
    since = f"version {config.version} from {config.effective}" if config.effective else "the built-in defaults"
    days = config.tablet_retention_days
    return [
        f"in force: {since}",
        "roles: " + ", ".join(f"{r.key} {r.zh_CN}" for r in roles.roles),
        "groups: " + ", ".join(f"{g.key} {g.zh_CN}" for g in roles.groups),
        "role -> group: " + ", ".join(f"{r}->{g}" for r, g in roles.role_to_group.items()),
        f"leader group: {roles.leader_group}",
        "home sampling: " + ", ".join(sorted(rule.groups)) + (", home isolation" if rule.home_isolation else ""),
        "never eligible (residency): " + (", ".join(sorted(rule.excluded_residency)) or "-"),
        f"tablets keep finished work: {'everything (off)' if days is None else f'{days} days'}",
        f"time zone: {config.time_zone}",
    ]


def valid_zone(name: object) -> bool:
    """Whether ``name`` is an IANA time zone name this system knows (``Asia/Shanghai``)."""
    if not isinstance(name, str) or not name or len(name) > 64 or name.startswith(("/", ".")) or ".." in name:
        return False
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return name == DEFAULT_TIME_ZONE  # a system without a time zone database still has Beijing time
    return True


def parse_day(value: object) -> date | None:
    """``YYYY-MM-DD`` as a date; None when it is not a real date written so."""
    if not isinstance(value, str) or not _DATE.fullmatch(value):
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        return None


def _order(version: TownConfig) -> tuple[date, int]:
    return (version.effective or date.min, version.version)


def _shown(key: object) -> str:
    """A key as a problem's place: quoted only when it is a key's shape (anything else may be a typed value)."""
    return key if isinstance(key, str) and _KEY.fullmatch(key) else "(unknown key)"


def _effective(value: object, problems: list[Problem]) -> date | None:
    if value is None:
        return None
    day = parse_day(value)
    if day is None:
        problems.append(Problem("effective", msg("town.date")))
    return day


def _labels(data: object, what: str, problems: list[Problem]) -> tuple[Label, ...] | None:
    if not isinstance(data, list) or not data or len(data) > MAX_LABELS:
        problems.append(Problem(what, msg("town.labels", maximum=MAX_LABELS)))
        return None
    labels: list[Label] = []
    seen: set[str] = set()
    for position, item in enumerate(data, start=1):
        where = f"{what}[{position}]"
        if not isinstance(item, Mapping) or set(item) != set(LABEL_KEYS):
            problems.append(Problem(where, msg("town.label_keys")))
            continue
        bad = False
        if not isinstance(item["key"], str) or not _KEY.fullmatch(item["key"]):
            problems.append(Problem(f"{where}.key", msg("town.key")))
            bad = True
        elif item["key"] in seen:
            problems.append(Problem(f"{where}.key", msg("town.duplicate")))
            bad = True
        for language in ("zh_CN", "en"):
            name = item[language]
            if not isinstance(name, str) or not name.strip() or len(name) > MAX_NAME or not name.isprintable():
                problems.append(Problem(f"{where}.{language}", msg("town.name", maximum=MAX_NAME)))
                bad = True
        if not bad:
            seen.add(item["key"])
            labels.append(Label(item["key"], item["zh_CN"].strip(), item["en"].strip()))
    return tuple(labels) if len(labels) == len(data) else None


def _mapping(data: object, what: str, problems: list[Problem]) -> dict[str, str] | None:
    if not isinstance(data, Mapping) or not all(isinstance(k, str) and isinstance(v, str) for k, v in data.items()):
        problems.append(Problem(what, msg("town.mapping")))
        return None
    return dict(data)


def _roles(data: Mapping[str, Any], base: RoleConfig, problems: list[Problem]) -> RoleConfig | None:
    """The roles, groups and mappings: each left out is ``base``'s; every unknown key they name is a problem."""
    given = base.to_dict()
    given.update({key: data[key] for key in ROLE_KEYS if key in data})
    before = len(problems)
    roles = _labels(given["roles"], "roles", problems)
    groups = _labels(given["groups"], "groups", problems)
    to_group = _mapping(given["role_to_group"], "role_to_group", problems)
    to_role = _mapping(given["group_to_role"], "group_to_role", problems)
    leader = given["leader_group"]
    if roles is None or groups is None or to_group is None or to_role is None:
        return None
    role_keys, group_keys = {r.key for r in roles}, {g.key for g in groups}
    for role, group in to_group.items():
        if role not in role_keys:
            problems.append(Problem(f"role_to_group.{_shown(role)}", msg("town.unknown_role", roles=_list(role_keys))))
        if group not in group_keys:
            problems.append(
                Problem(f"role_to_group.{_shown(role)}", msg("town.unknown_group", groups=_list(group_keys)))
            )
    for role in sorted(role_keys - set(to_group)):
        problems.append(Problem(f"role_to_group.{role}", msg("town.role_unmapped")))
    for group, role in to_role.items():
        if group not in group_keys:
            problems.append(
                Problem(f"group_to_role.{_shown(group)}", msg("town.unknown_group", groups=_list(group_keys)))
            )
        if role not in role_keys:
            problems.append(Problem(f"group_to_role.{_shown(group)}", msg("town.unknown_role", roles=_list(role_keys))))
    if leader not in group_keys:
        problems.append(Problem("leader_group", msg("town.unknown_group", groups=_list(group_keys))))
    if len(problems) > before:
        return None
    return RoleConfig(roles, groups, to_group, to_role, leader)


def _eligibility(data: object, problems: list[Problem]) -> EligibilityRule | None:
    if not isinstance(data, Mapping):
        problems.append(Problem("eligibility", msg("town.not_map")))
        return None
    before = len(problems)
    for key in data:
        if key not in ELIGIBILITY_KEYS:
            problems.append(
                Problem(f"eligibility.{_shown(key)}", msg("town.unknown_key", keys=", ".join(ELIGIBILITY_KEYS)))
            )
    merged = {**DEFAULT_ELIGIBILITY.to_dict(), **data}
    groups = _choices(merged["groups"], SPECIAL_GROUPS, "eligibility.groups", problems)
    residency = _choices(merged["excluded_residency"], RESIDENCY_TYPES, "eligibility.excluded_residency", problems)
    if not isinstance(merged["home_isolation"], bool):
        problems.append(Problem("eligibility.home_isolation", msg("bool.bool")))
    if len(problems) > before or groups is None or residency is None:
        return None
    return EligibilityRule(groups, merged["home_isolation"], residency)


def _choices(value: object, choices: Iterable[str], where: str, problems: list[Problem]) -> frozenset[str] | None:
    allowed = tuple(choices)
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        problems.append(Problem(where, msg("value.not_list", type=type(value).__name__)))
        return None
    for position, item in enumerate(value, start=1):
        if item not in allowed:
            problems.append(Problem(where, msg("enum.entry", position=position, choices=", ".join(allowed))))
            return None
    return frozenset(value)


def _list(keys: Iterable[str]) -> str:
    return ", ".join(sorted(keys))
