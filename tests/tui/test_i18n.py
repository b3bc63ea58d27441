"""Catalogs: both languages have the same keys, every key the code asks for exists, the language is chosen right."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from string import Formatter

import pytest

from field_agent.domain import enums
from field_agent.domain.roles import DEFAULT_GROUPS, DEFAULT_ROLES
from field_agent.tui.i18n import LANGUAGES, Translator, load_catalog, resolve_language
from field_agent.tui.widgets.nav import NAV_ITEMS

TUI = Path(__file__).resolve().parents[2] / "field_agent" / "tui"
LITERAL_KEY = re.compile(
    r"""\bt(?:\.n)?\(\s*"([a-z_]+(?:\.[a-z_]+)+)"|Binding\([^)]*?"((?:key|nav|outcome|sampling)\.[a-z_]+)"\s*[,)]"""
)
# Keys the code builds at run time, and the values they are built from.
DYNAMIC = {
    "outcome": enums.VISIT_OUTCOMES,
    "sampling": enums.SAMPLING_STATUSES,
    "group": (*enums.SPECIAL_GROUPS, "home_isolation"),
    "isolation": enums.ISOLATION_STATUSES,
    "residency": enums.RESIDENCY_TYPES,
    "symptom": enums.SYMPTOMS,
    "task_kind": enums.TASK_KINDS,
    "task_status": enums.TASK_STATUSES,
    "kind": enums.RECORD_KINDS,
    "sex": enums.SEXES,
    "nav": NAV_ITEMS,
    "filter": ("all", "unchecked", "special", "isolation"),
    "idcheck": ("length", "characters", "region", "date", "check_digit"),
    "today.banner": enums.GRID_MODES,
    "tasks.mode": enums.GRID_MODES,
    "tasks.switch_to": enums.GRID_MODES,
    "tasks.switched": enums.GRID_MODES,
    "language": LANGUAGES,
    "campaign.col": ("name", "id_number", "status", "address"),
    "campaign": ("bad_number", "bad_date", "bad_datetime"),
    "sync.error": (
        "offline",
        "auth",
        "not_enrolled",
        "server",
        "protocol",
        "certificate",
        "rate_limited",
        "store",
        "sync",
    ),
    "phase": ("connect", "push", "pull", "retry", "done"),
    "sync.progress": ("conflicts", "refused", "erased"),
    "enrol.error": (
        "code_invalid",
        "code_used",
        "code_expired",
        "code_empty",
        "code_fingerprint",
        "server_address",
        "https_needed",
        "other_grid",
        "grid_not_found",
        "node_in_use",
        "rate_limited",
    ),
}


def test_both_catalogs_have_the_same_keys() -> None:
    zh, en = load_catalog("zh_CN"), load_catalog("en")
    assert sorted(set(zh) - set(en)) == []
    assert sorted(set(en) - set(zh)) == []


def test_placeholders_match_between_languages() -> None:
    zh, en = load_catalog("zh_CN"), load_catalog("en")
    for key in zh:
        names_zh = {name for _, name, _, _ in Formatter().parse(zh[key]) if name}
        names_en = {name for _, name, _, _ in Formatter().parse(en[key]) if name}
        assert names_zh == names_en, key


def test_every_key_the_code_uses_is_in_the_catalogs() -> None:
    used: set[str] = set()
    for path in TUI.rglob("*.py"):
        for match in LITERAL_KEY.finditer(path.read_text(encoding="utf-8")):
            used.add(match.group(1) or match.group(2))
    for prefix, values in DYNAMIC.items():
        used.update(f"{prefix}.{value}" for value in values)
    assert len(used) > 150
    catalog = load_catalog("en")
    assert sorted(used - set(catalog)) == []


def test_role_and_group_names_exist_in_both_languages() -> None:
    for label in (*DEFAULT_ROLES, *DEFAULT_GROUPS):
        assert label.name("zh_CN") and label.name("en") and label.name("zh_CN") != label.name("en")


@pytest.mark.parametrize(
    ("explicit", "setting", "environ", "expected"),
    [
        (None, None, {}, "zh_CN"),
        (None, None, {"LANG": "en_US.UTF-8"}, "en"),
        (None, None, {"LANG": "zh_TW.UTF-8"}, "zh_CN"),
        (None, "en", {"LANG": "zh_CN.UTF-8"}, "en"),
        ("zh_CN", "en", {"LANG": "en_US.UTF-8"}, "zh_CN"),
        (None, None, {"LANG": "fr_FR.UTF-8"}, "zh_CN"),
        (None, None, {"LC_ALL": "en_GB.UTF-8", "LANG": "zh_CN.UTF-8"}, "en"),
    ],
)
def test_language_choice_order(explicit, setting, environ, expected) -> None:
    assert resolve_language(explicit, setting, environ) == expected


def test_a_missing_key_shows_itself() -> None:
    assert Translator("en")("no.such.key") == "<no.such.key>"


def test_a_message_may_take_a_value_named_key() -> None:
    assert Translator("en")("palette.key", key="ctrl+f") == "Key ctrl+f"
    assert Translator("zh_CN")("palette.key", key="v") == "按键 v"


def test_the_cli_only_imports_textual_for_the_tui_command() -> None:
    code = "import sys, field_agent.cli.main; print('textual' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True)
    assert result.stdout.strip() == "False"


def test_the_app_does_not_import_an_http_client_itself() -> None:
    for path in TUI.rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        assert "import httpx" not in text and "server_stub" not in text, path


def _every_reason_and_group_the_domain_produces() -> set[str]:
    """Run the domain's own rules over residents covering every age limit, recorded group and status."""
    from datetime import date, timedelta

    from field_agent.domain.groups import DEFAULT_ELIGIBILITY, EligibilityRule, special_groups
    from field_agent.domain.idnumber import make_id_number

    today = date(2026, 11, 30)
    every_group = EligibilityRule(groups=frozenset(enums.SPECIAL_GROUPS))
    produced: set[str] = set()
    for years in (0, 2, 30, 60, 79, 80, 95):
        number = make_id_number("350181", today - timedelta(days=years * 366 + 1), 3, "male")
        for recorded in ([], *([group] for group in enums.RECORDED_GROUPS)):
            for isolation in enums.ISOLATION_STATUSES:
                resident = {"id_number": number, "special_groups": recorded, "isolation_status": isolation}
                produced |= special_groups(resident, today)
                for rule in (DEFAULT_ELIGIBILITY, every_group):
                    produced.update(rule.reasons(resident, today))
    return produced


def test_every_eligibility_reason_and_group_has_a_label_in_both_catalogs() -> None:
    produced = _every_reason_and_group_the_domain_produces()
    assert {"home_isolation", "very_old", "infant", "elderly", *enums.RECORDED_GROUPS} <= produced
    for language in LANGUAGES:
        t = Translator(language)
        missing = sorted(key for key in produced if not t.has(f"group.{key}"))
        assert missing == [], (language, missing)
        assert all(t.label("group", key) != key for key in produced)


def test_a_refused_household_deletion_reads_in_the_workers_language() -> None:
    from field_agent.store import HouseholdNotEmpty
    from field_agent.tui.errors import describe_error

    error = HouseholdNotEmpty("h1", 3)
    assert (
        describe_error(Translator("zh_CN"), error)
        == "此户还有 3 位居民，不能删除：请先把他们迁到其他户或删除后再删此户。"
    )
    assert "3 resident(s)" in describe_error(Translator("en"), error)


def test_domain_messages_come_from_the_domains_catalog_and_are_not_repeated_here() -> None:
    """The app says a domain rule's message (``domain.<key>``) from ``field_agent/domain/i18n``; its own catalogs
    hold none of them."""
    from field_agent.domain.i18n import domain_catalog

    for language in LANGUAGES:
        assert [key for key in load_catalog(language) if key.startswith("domain.")] == []
        t = Translator(language)
        assert t.has("domain.phone.mobile_digits")
        assert t("domain.phone.mobile_digits", count=9) == domain_catalog(language)["phone.mobile_digits"].format(
            count=9
        )
    assert Translator("zh_CN")("domain.phone.mobile_digits", count=9) == "手机号应为 11 位数字，现在是 9 位"


@pytest.mark.parametrize(
    ("values", "zh", "en"),
    [
        (
            {"phone": "138123456"},
            "电话：手机号应为 11 位数字，现在是 9 位",
            "Phone: mobile number must have 11 digits, not 9",
        ),
        ({"isolation_days": 99}, "隔离天数：必须在 1 到 60 之间", "Isolation days: must be between 1 and 60"),
    ],
)
def test_validation_messages_are_said_in_the_workers_language(values, zh, en) -> None:
    from field_agent.domain.errors import ValidationError
    from field_agent.domain.validation import validate_record
    from field_agent.tui.errors import describe_error

    with pytest.raises(ValidationError) as caught:
        validate_record(
            "resident",
            values,
            {
                "household": "0193a1b2-0000-7000-8000-000000000001",
                "name": "甲",
                "id_number": "350181199001011234",
                "residency": "resident",
            },
        )
    chinese = describe_error(Translator("zh_CN"), caught.value)
    assert zh in chinese and not re.search(r"[A-Za-z]{3,}", chinese), chinese
    assert en in describe_error(Translator("en"), caught.value)


def test_a_wrong_passphrase_is_said_in_chinese_only() -> None:
    from field_agent.store.errors import StoreLocked, WrongPassphrase
    from field_agent.tui.errors import describe_error

    zh = Translator("zh_CN")
    assert describe_error(zh, WrongPassphrase(1)) == "密码错误。"
    assert describe_error(zh, WrongPassphrase(4)) == "密码错误。已连续输错 4 次，每次重试都要多等一会儿。"
    assert describe_error(Translator("en"), WrongPassphrase(1)) == "Wrong passphrase."
    locked = describe_error(zh, StoreLocked(Path("/data/store"), "1234"))
    assert locked == "数据正被其他程序使用（终端程序或 'field-agent sync --watch'），请关闭后重试。（/data/store）"


def test_every_singular_form_has_its_plural_and_the_translator_picks_by_count() -> None:
    for language in LANGUAGES:
        catalog = load_catalog(language)
        assert sorted(k for k in catalog if k.endswith(".one") and k.removesuffix(".one") not in catalog) == []
    en = Translator("en")
    assert en.n("sync.refused", 1) == "⚠ 1 change refused by the server."
    assert en.n("sync.refused", 5) == "⚠ 5 changes refused by the server."
    assert en.n("sync.refused", 0) == "⚠ 0 changes refused by the server."
    assert Translator("zh_CN").n("sync.refused", 1) == "⚠ 服务器拒收 1 条修改。"
