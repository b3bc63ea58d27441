"""Every message of the roster import, by key, in Chinese (the default) and English.

``say(key, language, **params)`` fills one in. Parameters are line numbers, counts, sheet and file names, the
words of a category cell (a town's vocabulary, quoted so it can be added to the words table) and lists (joined in
the language's way): never a name, an ID number or a phone number. Row reasons that come from the domain's rules
are said from the domain's catalog (``field_agent/domain/i18n``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from field_agent.domain.i18n import language_or_default

SAVE_AS_ZH = "请在 Excel 中另存为 .xlsx 或“CSV UTF-8”"
SAVE_AS_EN = "save it from Excel as .xlsx or as 'CSV UTF-8'"

MESSAGES: Mapping[str, tuple[str, str]] = {
    # a row's problem (RowError.code)
    "row.numeric_id": (
        "身份证号存成了数字，只保留了 15 位有效数字，即使看起来有效也不可信：请把这一列设为“文本”格式后重新输入，"
        "或从原始资料复制",
        "the ID number is stored as a number, which keeps only 15 digits, so it cannot be trusted even when it "
        "looks valid: format the column as text and type the number again, or copy it from the original source",
    ),
    "row.same_id": ("与第 {other_line} 行的身份证号相同", "same ID number as line {other_line}"),
    "row.same_id_sheet": (
        "与工作表「{other_sheet}」第 {other_line} 行的身份证号相同",
        "same ID number as sheet {other_sheet}, line {other_line}",
    ),
    "row.unknown_residency": (
        "不认识的人员类别“{word}”：请写 常住、流动 或 外出（或把这个词加入词表）",
        "unknown 人员类别 {word!r}; use 常住, 流动 or 外出 (or add the word to the words table)",
    ),
    "row.unknown_word": (
        "不认识的词“{word}”：请写 慢性病、残疾、卧床、孕产妇 或词表里的词（或把这个词加入词表）",
        "unknown word {word!r}; use 慢性病, 残疾, 卧床, 孕产妇 or a word of the words table (or add it there)",
    ),
    "row.no_address": ("没有住址", "no address"),
    "row.too_many_phones": (
        "一格里有 {count} 个电话号码，最多只能两个",
        "{count} phone numbers in one cell; at most two are kept",
    ),
    "row.sex_mismatch": ("性别与身份证号表明的性别不符", "性别 does not match the sex the ID number gives"),
    "row.birth_not_date": ("出生日期不是日期（请写成 1980-09-01）", "出生日期 is not a date (write 1980-09-01)"),
    "row.birth_mismatch": ("出生日期与身份证号中的不符", "出生日期 does not match the ID number's"),
    # where a row's problem is
    "where.line": ("第{line}行", "line {line}"),
    "where.sheet": ("工作表「{sheet}」", "sheet {sheet}"),
    "where.column": ("{column}列（{header}）", "column {column} ({header})"),
    "where.header": ("（{header}）", "({header})"),
    "where.join": (" ", ", "),
    "where.reason": ("{where}：{reason}", "{where}: {reason}"),
    "where.file_sheet": ("{file} 工作表「{sheet}」", "{file}, sheet {sheet}"),
    # a file that cannot be imported (RosterFileError)
    "file.missing": ("找不到文件：{file}", "no such file: {file}"),
    "file.unreadable": ("无法读取 {file}（{detail}）", "cannot read {file}: {detail}"),
    "file.old_format": (
        f"{{file}} 是旧版或其他软件的表格格式；{SAVE_AS_ZH}",
        f"{{file}} is in an old or foreign spreadsheet format; {SAVE_AS_EN}",
    ),
    "file.not_roster_format": (
        "不能导入 {file}：花名册须是 .xlsx 或 .csv 文件",
        "cannot import {file}: a roster must be an .xlsx or .csv file",
    ),
    "file.bad_xlsx": (
        f"{{file}} 不是可读取的 .xlsx 文件（{{detail}}）；{SAVE_AS_ZH}",
        f"{{file}} is not a readable .xlsx file ({{detail}}); {SAVE_AS_EN}",
    ),
    "file.encoding": (
        f"{{file}} 既不是 UTF-8 也不是 GBK 编码的文本；{SAVE_AS_ZH}",
        f"{{file}} is neither UTF-8 nor GBK text; {SAVE_AS_EN}",
    ),
    "file.bad_unicode": (
        f"{{file}} 有字节顺序标记，却不是有效的 Unicode 文本；{SAVE_AS_ZH}",
        f"{{file}} has a byte-order mark but is not valid Unicode; {SAVE_AS_EN}",
    ),
    "file.binary": (
        f"{{file}} 含有二进制数据，不是 CSV 文本；{SAVE_AS_ZH}",
        f"{{file}} holds binary data, not CSV text; {SAVE_AS_EN}",
    ),
    "file.bad_csv": ("{file} 不是格式正确的 CSV（{detail}）", "{file} is not well-formed CSV: {detail}"),
    "header.none": (
        "{where}：前 {rows} 行里没有含“姓名”和“身份证号”的表头行；能识别的表头有：{known}",
        "{where}: no header row with 姓名 and 身份证号 in the first {rows} rows; recognised headers are {known}",
    ),
    "header.merged_wide": (
        "{where}：表头“{header}”是跨 {span} 的一个合并单元格；请取消合并，让每一列有自己的表头（如 楼栋、单元、房号）",
        "{where}: header {header!r} is one merged cell over {span}; unmerge it and give each column its own header "
        "(e.g. 楼栋, 单元, 房号)",
    ),
    "header.too_deep": (
        "{where}：表头占了第 {first}–{last} 行；请只用一行表头（合并单元格下可用两行）",
        "{where}: the header spans rows {first}-{last}; use one header row (or two under merged cells)",
    ),
    "header.missing": (
        "{where}：没有“{missing}”列；能识别的表头有：{known}",
        "{where}: no {missing} column; recognised headers are {known}",
    ),
    "header.no_address": (
        "{where}：没有住址列；请给出“住址”，或“楼栋/单元/房号”",
        "{where}: no address columns; give 住址, or 楼栋/单元/房号",
    ),
    "sheet.unknown": (
        "{file} 里没有名为「{sheet}」的工作表；工作表有：{sheets}",
        "{file} has no sheet named {sheet!r}; its sheets are {sheets}",
    ),
    "sheet.csv": (
        "{file} 是 CSV 文件，只有一张表，不能选工作表",
        "{file} is a CSV file: it has one table and no sheets to choose",
    ),
    "sheet.none": (
        "{file} 的工作表（{sheets}）前 {rows} 行里都没有含“姓名”和“身份证号”的表头行；能识别的表头有：{known}",
        "no sheet of {file} ({sheets}) has a header row with 姓名 and 身份证号 in its first {rows} rows; "
        "recognised headers are {known}",
    ),
    "import.no_grid": (
        "此设备还不属于任何网格：请先注册（field-agent enroll）再导入",
        "this store belongs to no grid yet: enrol it (field-agent enroll) before importing",
    ),
    # a town's words file (--words)
    "words.unreadable": ("无法读取词表文件 {file}", "cannot read the words file {file}"),
    "words.not_json": (
        "词表文件 {file} 不是有效的 JSON（第 {line} 行附近）",
        "the words file {file} is not valid JSON (near line {line})",
    ),
    "words.not_object": (
        "词表文件 {file} 应是一个 JSON 对象（{{…}}）",
        "the words file {file} must be a JSON object ({{…}})",
    ),
    "words.section": (
        "词表文件 {file} 有不认识的部分“{section}”；可用的部分：{sections}",
        "the words file {file} has an unknown section {section!r}; the sections are {sections}",
    ),
    "words.not_mapping": (
        "词表文件 {file} 的“{section}”应是“词: 含义”的对象",
        "in the words file {file}, {section} must map words to meanings",
    ),
    "words.not_list": (
        "词表文件 {file} 的“{section}”应是词的列表",
        "in the words file {file}, {section} must be a list of words",
    ),
    "words.empty_word": (
        "词表文件 {file} 的“{section}”里有空词",
        "the words file {file} has an empty word in {section}",
    ),
    "words.value": (
        "词表文件 {file} 的“{section}”里，“{word}”的含义应是以下之一：{choices}",
        "in the words file {file}, {section} maps {word!r} to something that is none of {choices}",
    ),
    "words.tag": (
        "词表文件 {file} 的“{section}”里，“{word}”的标签应是 1 到 {length} 个字",
        "in the words file {file}, the tag for {word!r} in {section} must be 1 to {length} characters",
    ),
    "words.disability": (
        "词表文件 {file} 的“disability”只能有 kinds（类别列表）和 grades（等级对照）",
        "in the words file {file}, disability may hold only kinds (a list) and grades (a mapping)",
    ),
    # what an import did (ImportReport)
    "summary.imported": (
        "已导入 {rows} 行：新增居民 {residents_created} 人，更新 {residents_updated} 人，"
        "未变 {residents_unchanged} 人；新增住户 {households_created} 户，更新 {households_updated} 户",
        "imported {rows} rows: {residents_created} new residents, {residents_updated} updated, "
        "{residents_unchanged} unchanged; {households_created} new households, {households_updated} updated",
    ),
    "summary.preview": (
        "可导入 {rows} 行：将新增居民 {residents_created} 人，更新 {residents_updated} 人，"
        "未变 {residents_unchanged} 人；新增住户 {households_created} 户，更新 {households_updated} 户",
        "{rows} rows to import: {residents_created} new residents, {residents_updated} to update, "
        "{residents_unchanged} unchanged; {households_created} new households, {households_updated} to update",
    ),
    "summary.refused": ("未导入：{bad_rows} 行有误", "nothing imported: {bad_rows} bad rows"),
    "summary.bad_skipped": ("跳过 {bad_rows} 行有误的行", "skipped {bad_rows} bad rows"),
    "summary.bad_found": ("{bad_rows} 行有误", "{bad_rows} bad rows"),
    "summary.footer": ("跳过 {footer_lines} 条表尾行", "skipped {footer_lines} footer lines"),
    "summary.join": ("；", "; "),
    "summary.refused_hint": (
        "（见上）；请改正后重新导入，或加 --skip-invalid 只导入正确的行",
        " (listed above); fix them, or import the good rows with --skip-invalid",
    ),
    "summary.sheets": ("读取的工作表：{sheets}", "sheets read: {sheets}"),
    "summary.sheet": ("「{sheet}」{rows} 行", "{sheet} ({rows} rows)"),
    "summary.skipped_sheets": ("跳过的工作表：{sheets}", "sheets skipped: {sheets}"),
    "summary.skipped_sheet": ("「{sheet}」（{reason}）", "{sheet} ({reason})"),
    "summary.ignored": ("未导入的列：{headers}", "columns not imported: {headers}"),
    "skip.no_header": ("没有花名册表头", "no roster header"),
    "skip.hidden": ("隐藏的工作表", "hidden"),
    "skip.empty": ("空表", "empty"),
}


def join_list(items: list[Any] | tuple[Any, ...], language: str | None) -> str:
    """Items as a list reads: ``甲、乙、丙`` or ``a, b, c``."""
    return ("、" if language_or_default(language) == "zh_CN" else ", ").join(str(item) for item in items)


def say(key: str, language: str | None, /, **params: Any) -> str:
    """The message ``key`` in ``language`` (Chinese unless ``en``), lists among ``params`` joined."""
    zh, en = MESSAGES[key]
    lang = language_or_default(language)
    values = {name: join_list(v, lang) if isinstance(v, list | tuple) else v for name, v in params.items()}
    return (zh if lang == "zh_CN" else en).format(**values)
