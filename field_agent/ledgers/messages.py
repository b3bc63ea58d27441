"""What the ledger commands say, in Chinese (the default) and English: export results and the errors that carry a
code (``errors.LedgerError.describe``). The ledgers never import the terminal app, so they keep their own small
catalog; messages name fields and rules, never a resident's data.
"""

from __future__ import annotations

import errno
from collections.abc import Mapping, Sized
from pathlib import Path
from typing import Protocol

from field_agent.domain.i18n import language_or_default


class Exported(Protocol):
    """What a message says of an exported ledger (``builder.Ledger``, which imports this catalog's errors)."""

    @property
    def title(self) -> str: ...

    @property
    def title_en(self) -> str: ...

    @property
    def scope(self) -> str: ...

    @property
    def masked(self) -> bool: ...

    @property
    def rows(self) -> Sized: ...


MESSAGES: dict[str, dict[str, str]] = {
    # export results
    "exported": {
        "zh_CN": "已导出 {title}（{rows} 行；{note}）到 {out}",
        "en": "wrote {title} ({rows} rows; {note}) to {out}",
    },
    "exported_scope": {
        "zh_CN": "已导出 {title}　{scope}（{rows} 行；{note}）到 {out}",
        "en": "wrote {title}, {scope} ({rows} rows; {note}) to {out}",
    },
    "note_masked": {"zh_CN": "身份证号、电话已脱敏", "en": "ID numbers and phones masked"},
    "note_unmasked": {
        "zh_CN": "含完整身份证号、电话，请妥善保管；本次导出已记入审计",
        "en": "full ID numbers and phones: keep this file safe (audited)",
    },
    # errors (LedgerError codes)
    "unknown_ledger": {
        "zh_CN": "没有名为“{name}”的台账；可导出的台账：{known}",
        "en": "no ledger named {name!r}; the ledgers are: {known}",
    },
    "name_a_ledger": {
        "zh_CN": "请指定要导出的台账，例如 export residents；可导出的台账：{known}",
        "en": "name a ledger, e.g. 'export residents'; the ledgers are: {known}",
    },
    "export_format": {
        "zh_CN": "无法导出为 {file}：文件名须以 .xlsx 或 .csv 结尾",
        "en": "cannot export to {file}: name the file .xlsx or .csv",
    },
    "format_mismatch": {
        "zh_CN": "--format {format} 与文件名 {file} 不符：去掉 --format，或把文件改名为 .{format}",
        "en": "--format {format} does not match {file}: leave out --format or name the file .{format}",
    },
    "folder_missing": {
        "zh_CN": "无法写入：文件夹 {folder} 不存在",
        "en": "cannot write there: folder {folder} does not exist",
    },
    "folder_unwritable": {
        "zh_CN": "无法在文件夹 {folder} 中写入：{reason}",
        "en": "cannot write in folder {folder}: {reason}",
    },
    "file_unwritable": {"zh_CN": "无法写入 {file}：{reason}", "en": "cannot write {file}: {reason}"},
    "unmasked_refused": {
        "zh_CN": "只有网格长可以{action}完整身份证号和电话（--unmasked）；本设备登记的角色是{role}：请去掉 --unmasked",
        "en": "only the grid leader may {action} full ID numbers and phones (--unmasked); "
        "this device is enrolled as {role}: {action} without --unmasked",
    },
    "definitions_unreadable": {
        "zh_CN": "无法读取台账定义文件 {file}：{reason}",
        "en": "cannot read ledger definitions {file}: {reason}",
    },
    "definitions_json": {
        "zh_CN": "台账定义文件 {file} 不是有效的 JSON（第 {line} 行）",
        "en": "ledger definitions {file} are not valid JSON (line {line})",
    },
    "definitions_invalid": {"zh_CN": "台账定义文件有误：{detail}", "en": "{detail}"},
    "scope_one_of": {"zh_CN": "请指定 --grid G 或 --town T 中的一个", "en": "name exactly one of --grid G or --town T"},
    "no_grid": {
        "zh_CN": "没有网格 {grid}：可用 field-server grid list 查看",
        "en": "no grid {grid!r}: see 'field-server grid list'",
    },
    "no_town": {
        "zh_CN": "镇（街道）{town} 下没有网格；现有：{towns}",
        "en": "no grids in town {town!r}; towns: {towns}",
    },
}

# words filled into messages, by language
WORDS: dict[str, dict[str, str]] = {
    "export": {"zh_CN": "导出", "en": "export"},
    "print": {"zh_CN": "显示", "en": "print"},
    "leader": {"zh_CN": "网格长", "en": "leader"},
    "worker": {"zh_CN": "网格员", "en": "worker"},
    "no role": {"zh_CN": "未设定", "en": "no role"},
    "none yet": {"zh_CN": "暂无", "en": "none yet"},
}

# what an operating-system error means, for the reason in a write error (others keep the system's own words)
_OS_REASONS: dict[int, dict[str, str]] = {
    errno.EACCES: {"zh_CN": "没有写入权限", "en": "permission denied"},
    errno.EPERM: {"zh_CN": "没有写入权限", "en": "operation not permitted"},
    errno.EROFS: {"zh_CN": "只读的存储设备", "en": "read-only file system"},
    errno.ENOSPC: {"zh_CN": "磁盘空间已满", "en": "no space left on the disk"},
    errno.EDQUOT: {"zh_CN": "超出磁盘配额", "en": "disk quota exceeded"},
    errno.ENAMETOOLONG: {"zh_CN": "文件名太长", "en": "file name too long"},
    errno.EISDIR: {"zh_CN": "这是一个文件夹", "en": "it is a folder"},
}


def language(lang: str | None) -> str:
    return language_or_default(lang)


def text(key: str, lang: str | None, **params: object) -> str:
    """A message of the catalog in ``lang`` (Chinese when not given or unknown)."""
    return MESSAGES[key][language(lang)].format(**params)


def word(key: str, lang: str | None) -> str:
    """A word the messages fill in (``export``, ``leader`` ...), or the key itself."""
    return WORDS.get(key, {}).get(language(lang), key)


def os_reason(error: OSError, lang: str | None) -> str:
    found = _OS_REASONS.get(error.errno or 0)
    return found[language(lang)] if found else str(error.strerror or error)


def exported_message(ledger: Exported, out: Path, lang: str | None, *, with_scope: bool = False) -> str:
    """``已导出 常住人口台账（318 行；身份证号、电话已脱敏）到 FILE`` (the ledger's English title in English)."""
    english = language(lang) == "en"
    return text(
        "exported_scope" if with_scope else "exported",
        lang,
        title=(ledger.title_en or ledger.title) if english else ledger.title,
        scope=ledger.scope,
        rows=len(ledger.rows),
        note=text("note_masked" if ledger.masked else "note_unmasked", lang),
        out=out,
    )


def error_text(code: str, lang: str | None, params: Mapping[str, object]) -> str | None:
    """An error's message in ``lang``, or None when its code is not in the catalog (the caller keeps its own)."""
    if code not in MESSAGES:
        return None
    filled = {key: _fill(key, value, lang) for key, value in params.items()}
    try:
        return text(code, lang, **filled)
    except (KeyError, IndexError, ValueError):
        return None


_TRANSLATED = frozenset({"action", "role", "towns"})


def _fill(key: str, value: object, lang: str | None) -> object:
    if isinstance(value, OSError):
        return os_reason(value, lang)
    return word(value, lang) if key in _TRANSLATED and isinstance(value, str) else value
