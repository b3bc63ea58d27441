"""The words rosters use for their columns and addresses: column headers, address parts, 是/否, 男/女, dates.
(What category cells hold, 高血压 or 独居老人, is in the words table: ``roster_words.json``.)"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping

HEADER_ALIASES: dict[str, tuple[str, ...]] = {
    "name": ("姓名", "居民姓名", "人员姓名", "名字", "name"),
    "id_number": (
        "身份证号",
        "身份证号码",
        "公民身份号码",
        "公民身份证号码",
        "身份证",
        "证件号码",
        "证件号",
        "id_number",
    ),
    "phone": ("联系电话", "手机号", "手机号码", "电话", "电话号码", "联系方式", "手机", "phone"),
    "phone2": ("联系电话2", "电话2", "手机号2", "备用电话", "备用联系电话", "第二联系电话", "其他联系电话", "phone2"),
    "address": ("住址", "地址", "家庭住址", "现住址", "居住地址", "现居住地址", "详细地址", "address"),
    "building": ("楼栋", "楼号", "栋", "楼栋号", "幢", "楼", "building"),
    "unit": ("单元", "单元号", "unit"),
    "room": ("房号", "房间号", "门牌号", "室", "户号", "room"),
    "residency": ("人员类别", "居住类型", "人口类型", "人口类别", "居住状态", "residency"),
    "special_groups": ("特殊人群", "人群类别", "特殊人群类别", "重点人群", "special_groups"),
    "tags": ("标签", "人员标签", "特殊标签", "tags"),
    "disability": ("残疾类别", "残疾等级", "残疾类型", "残疾情况", "残疾类别及等级", "残疾类别等级"),
    "head_name": ("户主", "户主姓名", "head"),
    "is_head": ("是否户主",),
    "relation": ("与户主关系", "与户主的关系"),
    "notes": ("备注", "说明", "notes"),
    # read only to check the ID number (never stored: the ID number is the record of both)
    "sex": ("性别", "sex"),
    "birth_date": ("出生日期", "出生年月", "出生年月日", "出生时间", "birth_date"),
}
_BY_ALIAS = {alias.lower(): name for name, aliases in HEADER_ALIASES.items() for alias in aliases}
_DECORATION = re.compile(r"[\s*＊:：]|[（(][^）)]*[）)]")

_SUFFIXES = {"building": ("号楼", "栋", "幢", "座", "楼"), "unit": ("单元",), "room": ("室", "号")}
_ADDRESS = re.compile(
    r"(?P<building>[0-9A-Za-z一-龥]+?)(?:号楼|栋|幢|座)"
    r"(?:(?P<unit>[0-9A-Za-z一-龥]+?)单元)?"
    r"(?P<room>[0-9A-Za-z]+?)(?:室|号)?$"
)


def normalize_header(text: str) -> str:
    """A header without spaces, asterisks, colons or notes in brackets (``身份证号（必填）`` -> ``身份证号``)."""
    return _DECORATION.sub("", unicodedata.normalize("NFKC", text)).lower()


def field_for_header(text: str) -> str | None:
    """The roster field a column header names, or None when it is not one we read."""
    return _BY_ALIAS.get(normalize_header(text)) if text else None


def describe_known_headers() -> str:
    return ", ".join("/".join(aliases[:2]) for aliases in HEADER_ALIASES.values())


def strip_suffix(part: str, text: str) -> str:
    """``3号楼`` -> ``3``, ``2单元`` -> ``2``, ``501室`` -> ``501``; text without a known suffix stays as it is."""
    value = text.strip()
    for suffix in _SUFFIXES[part]:
        if value.endswith(suffix) and len(value) > len(suffix):
            return value[: -len(suffix)]
    return value


def split_address(address: str) -> dict[str, str]:
    """Building, unit and room from the end of an address like ``东门小区3栋2单元501室``, when it has them."""
    match = _ADDRESS.search(re.sub(r"\s+", "", address))
    if not match:
        return {}
    parts = {k: v for k, v in match.groupdict().items() if v}
    building = parts.get("building", "")
    # keep only the trailing digits/letters of the building (the estate's name comes before it)
    tail = re.search(r"[0-9A-Za-z]+$", building)
    if tail:
        parts["building"] = tail.group()
    return parts


def compose_address(household: Mapping[str, object]) -> str:
    """``3栋2单元501室`` from a household's parts, for records without a full address (a part that already ends
    in its word keeps it: ``12号`` stays ``12号``)."""
    parts = (("building", "栋"), ("unit", "单元"), ("room", "室"))
    return "".join(
        f"{household[key]}" + ("" if str(household[key]).endswith((*_SUFFIXES[key], "号")) else suffix)
        for key, suffix in parts
        if household.get(key)
    )


def _norm(text: object) -> str:
    """For matching: NFKC (full-width ８栋 is 8栋), no spaces of any width, one case."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", str(text or ""))).upper()


def household_key(household: Mapping[str, object]) -> tuple[str, ...]:
    """How households match: building/unit/room when given, else the whole address."""
    parts = tuple(_norm(strip_suffix(k, str(household.get(k) or ""))) for k in ("building", "unit", "room"))
    if any(parts):
        return ("room", *parts)
    return ("address", _norm(household.get("address")))


def truthy(text: str) -> bool:
    return text.strip().lower() in ("是", "y", "yes", "true", "1", "√", "✓")


def falsy(text: str) -> bool:
    return text.strip().lower() in ("否", "n", "no", "false", "0", "×", "✗")


SEX_WORDS: dict[str, str] = {
    **dict.fromkeys(("男", "男性", "m", "male"), "male"),
    **dict.fromkeys(("女", "女性", "f", "female"), "female"),
}
_DATE = re.compile(r"(\d{4})\s*[-/.年]?\s*(\d{1,2})(?:\s*[-/.月]?\s*(\d{1,2})\s*日?)?\s*(?:月)?")


def written_birth(text: str) -> tuple[int, int, int | None] | None:
    """Year, month and day (None for 出生年月) of a birth date as rosters write it: 1980-09-01, 1980/9/1, 19800901,
    1980年9月1日, 1980.09, 1980-09-01T00:00:00; None when it is not one."""
    compact = text.strip()
    if re.fullmatch(r"\d{8}", compact):
        return int(compact[:4]), int(compact[4:6]), int(compact[6:])
    if re.fullmatch(r"\d{6}", compact):
        return int(compact[:4]), int(compact[4:6]), None
    found = _DATE.match(compact.split("T")[0].split(" ")[0])
    if found is None or found.end() != len(compact.split("T")[0].split(" ")[0]):
        return None
    year, month, day = int(found.group(1)), int(found.group(2)), found.group(3)
    return year, month, int(day) if day else None
