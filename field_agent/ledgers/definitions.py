"""Ledger definitions: which records each ledger lists, its columns, filters and sort order."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from field_agent.ledgers.cells import PERCENT
from field_agent.ledgers.errors import DefinitionError, UnknownLedger

SOURCES = ("resident", "sampling_round", "visit", "household", "member", "task", "campaign_result")
MASKS = ("id_number", "phone")
COLUMN_FORMATS = (PERCENT,)
FILTER_OPS = ("in", "not_in", "equals", "nonempty")


@dataclass(frozen=True, slots=True)
class Column:
    field: str
    zh: str
    en: str
    width: int = 12
    mask: str | None = None
    format: str | None = None


@dataclass(frozen=True, slots=True)
class LedgerDefinition:
    name: str
    title_zh: str
    title_en: str
    source: str
    columns: tuple[Column, ...]
    filters: tuple[Mapping[str, Any], ...] = ()
    sort: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    """The town's words this ledger looks for in a record's ``tags`` (重点人员 categories, 出租): rows get
    ``matched_tags`` (those found, in this order) and ``matched_tags_zh``."""


def _column(raw: Mapping[str, Any], where: str) -> Column:
    try:
        column = Column(
            field=str(raw["field"]),
            zh=str(raw["zh"]),
            en=str(raw["en"]),
            width=int(raw.get("width", 12)),
            mask=raw.get("mask"),
            format=raw.get("format"),
        )
    except (KeyError, TypeError, ValueError) as error:
        raise DefinitionError(f"{where}: a column needs 'field', 'zh' and 'en' ({error})") from None
    if column.mask is not None and column.mask not in MASKS:
        raise DefinitionError(f"{where}: column {column.field!r} has unknown mask {column.mask!r}")
    if column.format is not None and column.format not in COLUMN_FORMATS:
        raise DefinitionError(
            f"{where}: column {column.field!r} has unknown format {column.format!r}; formats: "
            + ", ".join(COLUMN_FORMATS)
        )
    return column


def _check_rule(rule: Any, where: str) -> None:
    """A filter rule is ``{"field": f, op: value}`` or ``{"any": [rules]}`` (kept when one of them holds)."""
    if isinstance(rule, Mapping) and isinstance(rule.get("any"), list) and rule["any"]:
        for inner in rule["any"]:
            _check_rule(inner, where)
        return
    ops = [op for op in FILTER_OPS if isinstance(rule, Mapping) and op in rule]
    if not isinstance(rule, Mapping) or "field" not in rule or len(ops) != 1:
        raise DefinitionError(f"{where}: a filter needs 'field' and one of {', '.join(FILTER_OPS)}, or 'any': {rule}")


def _definition(raw: Mapping[str, Any]) -> LedgerDefinition:
    name = raw.get("name")
    if not isinstance(name, str) or not name:
        raise DefinitionError("every ledger needs a 'name'")
    where = f"ledger {name!r}"
    source = raw.get("source")
    if source not in SOURCES:
        raise DefinitionError(f"{where}: source must be one of {', '.join(SOURCES)}, not {source!r}")
    filters = tuple(raw.get("filter", ()))
    for rule in filters:
        _check_rule(rule, where)
    tags = raw.get("tags", [])
    if not isinstance(tags, list) or not all(isinstance(t, str) and t.strip() for t in tags):
        raise DefinitionError(f"{where}: 'tags' must be a list of words, not {tags!r}")
    columns = tuple(_column(c, where) for c in raw.get("columns", ()))
    if not columns:
        raise DefinitionError(f"{where}: no columns")
    return LedgerDefinition(
        name=name,
        title_zh=str(raw.get("title_zh", name)),
        title_en=str(raw.get("title_en", name)),
        source=source,
        columns=columns,
        filters=filters,
        sort=tuple(raw.get("sort", ())),
        tags=tuple(t.strip() for t in tags),
    )


def parse_definitions(data: Mapping[str, Any]) -> dict[str, LedgerDefinition]:
    """Ledger definitions from their JSON form, keyed by name, in file order."""
    ledgers = data.get("ledgers") if isinstance(data, Mapping) else None
    if not isinstance(ledgers, Sequence) or not ledgers:
        raise DefinitionError("a definitions file needs a non-empty 'ledgers' list")
    result: dict[str, LedgerDefinition] = {}
    for raw in ledgers:
        definition = _definition(raw)
        if definition.name in result:
            raise DefinitionError(f"ledger {definition.name!r} is defined twice")
        result[definition.name] = definition
    return result


def load_definitions(path: Path | None = None) -> dict[str, LedgerDefinition]:
    """The shipped default ledgers, or those of a JSON file the town office wrote."""
    try:
        if path is None:
            text = resources.files("field_agent.ledgers").joinpath("ledgers.json").read_text("utf-8")
        else:
            text = Path(path).read_text("utf-8")
        data = json.loads(text)
    except OSError as error:
        raise DefinitionError(
            f"cannot read ledger definitions {path}: {error.strerror}",
            code="definitions_unreadable",
            file=str(path),
            reason=error,
        ) from None
    except json.JSONDecodeError as error:
        raise DefinitionError(
            f"ledger definitions {path or 'ledgers.json'} are not valid JSON: {error}",
            code="definitions_json",
            file=str(path or "ledgers.json"),
            line=error.lineno,
        ) from None
    try:
        return parse_definitions(data)
    except DefinitionError as error:
        if error.code:
            raise
        raise DefinitionError(str(error), code="definitions_invalid", detail=str(error)) from None


def get_definition(name: str, definitions: Mapping[str, LedgerDefinition] | None = None) -> LedgerDefinition:
    """One ledger's definition, or UnknownLedger naming the ones that exist."""
    known = definitions if definitions is not None else load_definitions()
    try:
        return known[name]
    except KeyError:
        raise UnknownLedger(
            f"no ledger named {name!r}; the ledgers are: {', '.join(known)}",
            code="unknown_ledger",
            name=name,
            known=", ".join(known),
        ) from None


def ledger_list(definitions: Mapping[str, LedgerDefinition]) -> list[dict[str, str]]:
    """Each ledger's name and titles, as ``export --list`` prints them (on the device and on the server)."""
    return [{"name": d.name, "title": d.title_zh, "title_en": d.title_en} for d in definitions.values()]


def ledger_list_line(item: Mapping[str, str]) -> str:
    return f"{item['name']:<16}{item['title']}  ({item['title_en']})"
