"""Town configuration end to end against a real town server on 127.0.0.1: the office sets a version with
``field-server town config set``, a sync delivers it, and the tablet's Today count, sampling list, ledgers and the
validation of its writes follow it; a role the new version removes leaves the existing grid and tasks editable; a
future-dated version switches on its day without a sync; a tablet offline keeps what it has."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import orjson
import pytest
from click.testing import CliRunner, Result

from field_agent.domain.errors import ConfigError, ValidationError
from field_agent.domain.idnumber import make_id_number
from field_agent.ledgers.builder import build_ledger
from field_agent.store import Store
from field_agent.sync.agent import enroll
from field_agent.tui.queries.sampling import coverage
from field_agent.tui.session import Session
from server_stub.cli import cli as server_cli
from server_stub.records import Edit, write_records
from server_stub.town_time import configured_zone

from .harness import Town, enrolled, open_store, sync

CHINA = ZoneInfo("Asia/Shanghai")
# the town drops the patrol officer and samples everyone 60 or over at home, but no longer the chronically ill
NEW_RULES = {
    "roles": [
        {"key": "information", "zh_CN": "信息员", "en": "Information officer"},
        {"key": "service", "zh_CN": "服务员", "en": "Service officer"},
    ],
    "role_to_group": {"information": "tracing", "service": "supplies"},
    "group_to_role": {"sampling": "service", "tracing": "information"},
    "eligibility": {"groups": ["elderly", "bedridden"]},
    "time_zone": "Asia/Shanghai",
}
PATROL = {"task_kind": "patrol", "role": "patrol", "status": "open"}


@pytest.fixture
def own_town(tmp_path: Path) -> Iterator[Town]:
    town = Town(tmp_path / "town").start()  # its own: the configuration is the whole town's
    yield town
    town.stop()
    configured_zone(None)  # the zone a configuration set is per process: leave none behind


def office(town: Town, tmp_path: Path, *args: str) -> Result:
    result = CliRunner().invoke(server_cli, ["--data-dir", str(tmp_path), *args, "--db", town.db.url])
    assert result.exit_code == 0, result.output
    return result


def today() -> date:
    return datetime.now(CHINA).date()


def resident(store: Store, household: str, name: str, born: date, sequence: int, **extra: object) -> str:
    number = make_id_number("350181", born, sequence, "female")
    values = {"household": household, "name": name, "id_number": number, "residency": "resident", **extra}
    return str(store.put("resident", values)["id"])


def years_ago(day: date, years: int) -> date:
    return date(day.year - years, day.month, 28 if day.day > 28 else day.day)


def seed(store: Store) -> dict[str, str]:
    household = str(store.put("household", {"address": "东门社区3栋1单元301"})["id"])
    day = today()
    return {
        "chronic": resident(store, household, "陈大海", years_ago(day, 40), 11, special_groups=["chronic"]),
        "sixties": resident(store, household, "林秀英", years_ago(day, 65), 12),
        "bedridden": resident(store, household, "郑阿婆", years_ago(day, 50), 14, special_groups=["bedridden"]),
        "task": str(store.put("task", {**PATROL, "title": "夜间巡查"})["id"]),
    }


def eligible_names(store: Store) -> set[str]:
    session = Session(store, now=lambda: datetime.now(CHINA).replace(microsecond=0))
    with session.reading() as model:
        listed = {row.resident["name"] for row in coverage(model, session.today, session.eligibility).rows}
    assert session.today_numbers().sampling_eligible == len(listed)  # Today counts whom the list shows
    # the special-groups ledger marks the same residents for home sampling
    ledger = build_ledger("special_groups", store.reader, today=session.today, rule=session.eligibility)
    fields = [column.field for column in ledger.columns]
    name, home = fields.index("name"), fields.index("home_sampling_zh")
    assert {row[name] for row in ledger.rows if row[home] == "是"} == listed
    return listed


async def test_a_tablet_that_syncs_follows_the_towns_configuration(own_town: Town, tmp_path: Path) -> None:
    grid = own_town.new_grid("东门")
    members = [{"name": "王丽", "role": "patrol"}, {"name": "李强", "role": "information"}]
    write_records(own_town.db, grid, [Edit("grid", grid, {"members": members, "leader": "王丽"})])
    store = open_store(tmp_path, "王丽")  # the grid leader: she may place members
    await enroll(store, own_town.url, own_town.code(grid, worker="王丽", role="leader"), "王丽")
    offline = await enrolled(own_town, grid, tmp_path / "offline", "李强")
    ids = seed(store)
    await sync(store)
    await sync(offline)
    assert eligible_names(store) == {"陈大海", "郑阿婆"}  # the built-in rule: chronic, bedridden, 80+
    assert store.town_config().version == 0

    rules = tmp_path / "rules.json"
    rules.write_bytes(orjson.dumps(NEW_RULES))
    office(own_town, tmp_path, "town", "config", "set", "--from", str(rules))
    later = tmp_path / "later.json"
    later.write_bytes(orjson.dumps({"tablet_retention_days": 2}))
    tomorrow = today() + timedelta(days=1)
    office(own_town, tmp_path, "town", "config", "set", "--from", str(later), "--effective", tomorrow.isoformat())
    await sync(store)

    assert [v.version for v in store.town_history().versions] == [1, 2]
    assert store.town_config().version == 1 and store.town_config(tomorrow).tablet_retention_days == 2
    assert store.town_config().tablet_retention_days == 14  # today's window; tomorrow's needs no sync
    assert eligible_names(store) == {"林秀英", "郑阿婆"}  # 60 or over now, the chronic no longer

    # writes follow the roles in force: a new patrol task is refused, an existing one stays editable
    with pytest.raises(ValidationError):
        store.put("task", {**PATROL, "title": "巡查"})
    store.put("task", {"status": "in_progress"}, record_id=ids["task"])
    with pytest.raises(ValidationError):  # a member placed anew in a removed role is refused
        store.put("grid", {"members": [*members, {"name": "张三", "role": "patrol"}]}, record_id=grid)
    store.put("grid", {"members": [*members, {"name": "张三", "role": "service"}]}, record_id=grid)
    result = await sync(store)
    assert not store.refused_changes(), store.refused_changes()
    assert result.refused == 0 and result.pushed == 2  # the server accepts both: nothing written anew is unknown

    # the tablet that stayed offline keeps what it had: the built-in roles and rule
    assert offline.town_config().version == 0
    assert eligible_names(offline) == {"陈大海", "郑阿婆"}
    offline.put("task", {**PATROL, "title": "巡查"})
    store.close()
    offline.close()


def test_a_delivered_configuration_that_does_not_hold_together_is_not_kept(tmp_path: Path) -> None:
    from field_agent.domain.town import DEFAULT_TOWN_CONFIG, TownHistory

    store = open_store(tmp_path, "王丽")
    good, _ = TownHistory().add(DEFAULT_TOWN_CONFIG, today())
    assert store.save_town_config(good.to_list()) and not store.save_town_config(good.to_list())
    bad = [{**good.to_list()[0], "leader_group": "nowhere"}]
    with pytest.raises(ConfigError):  # the tablet keeps what it had
        store.save_town_config(bad)
    assert store.town_history() == good
    store.close()
    reopened = Store.open(store.path, "correct horse battery staple 42")
    assert reopened.town_config().version == 1  # sealed in the store, there after a restart
    reopened.close()
