"""What Chinese passwords are made of, for the strength estimate: surnames and given-name characters (in hanzi,
turned into pinyin with pypinyin), most common first, and the shapes of phone and ID numbers.

The pinyin goes to zxcvbn as its ``user_inputs`` dictionary, where a word's rank is its position: a name glued
from a common surname and one or two common given-name syllables then costs an attacker a few million guesses.
"""

from __future__ import annotations

import re
from functools import cache

# The 100 most common surnames, in order of frequency (about 85% of the population).
SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢"
    "姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
)
COMPOUND_SURNAMES = ("欧阳", "司马", "上官", "诸葛", "东方", "慕容", "令狐", "皇甫")
# Characters most often used in given names.
GIVEN_CHARS = (
    "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀英华慧巧美霞平刚桂兰玉萍红娥玲芬燕彩春菊凤洁梅琳素云莲真环雪荣爱妹"
    "香月莺媛瑞凡佳嘉琼勤珍贞莉桂娣叶璧璐娅琦晶妍茜秋珊莎锦黛青倩婷姣婉娴瑾颖露瑶怡婵雁蓓纨仪荷丹蓉眉君琴"
    "蕊薇菁梦岚苑婕馨瑗琰韵融园艺咏卿聪澜纯毓悦昭冰爽琬茗羽希宁欣飘育滢馥筠柔竹霭凝晓欢霄枫芸菲寒伊亚宜可"
    "姬舒影荔枝思丽峰辉建国文志宏斌波鹏飞鑫浩宇俊博晨阳林海亮成龙新世家德小东子少天金福生长永光祥利民"
    "一三二四五六"
)
# Mobile numbers: 1, then 3-9, then nine digits.
MOBILE = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)")
# Parts of an ID number an owner reuses: the whole number (18 or 15), region + birth date, the last 4-6 (with X).
ID_FRAGMENTS = (
    re.compile(r"\d{17}[\dXx]"),
    re.compile(r"(?<!\d)\d{15}(?!\d)"),
    re.compile(r"\d{6}(?:19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])"),
    re.compile(r"\d{3,5}[Xx](?![A-Za-z])"),
)


@cache
def name_syllables() -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(surnames, given-name syllables) in pinyin without tones, most common first, each once."""
    from pypinyin import lazy_pinyin

    def spelled(chars: list[str]) -> tuple[str, ...]:
        found: dict[str, None] = {}
        for text in chars:
            word = "".join(lazy_pinyin(text))
            for variant in (word, word.replace("v", "u"), word.replace("v", "yu")):
                found.setdefault(variant)
        return tuple(found)

    return spelled([*SURNAMES, *COMPOUND_SURNAMES]), spelled(list(GIVEN_CHARS))


KEYBOARD_ROWS = ("1234567890", "qwertyuiop", "asdfghjkl", "zxcvbnm")


@cache
def keyboard_walks() -> tuple[str, ...]:
    """Runs of 4 or more keys along a row, a column (``1qaz``) or a chain of columns (``1qaz2wsx``), both ways;
    shortest first. zxcvbn's own keyboard model prices a bent walk; these straight ones are an attacker's first
    tries, e.g. ``poiuyt`` and ``lkjhg`` glued to a year."""
    columns = ["".join(row[i] for row in KEYBOARD_ROWS if i < len(row)) for i in range(10)]
    lines = [*KEYBOARD_ROWS, "".join(columns[:7])]
    runs: dict[str, None] = {}
    for length in range(4, 11):
        for line in lines:
            for text in (line, line[::-1]):
                for start in range(len(text) - length + 1):
                    runs.setdefault(text[start : start + length])
    for column in columns:
        runs.setdefault(column)
        runs.setdefault(column[::-1])
    return tuple(runs)


@cache
def name_dictionary() -> tuple[str, ...]:
    """Pinyin a name is typed as, most likely first: surnames, given-name syllables, two-syllable given names and
    surname + one syllable (e.g. ``zhang``, ``wei``, ``xiuying``, ``liwei``), ranked by the product of ranks."""
    surnames, given = name_syllables()
    ranked: dict[str, int] = {}
    for rank, word in enumerate([*surnames, *given], start=1):
        ranked.setdefault(word, rank)
    for first_rank, first in enumerate(given, start=1):
        for second_rank, second in enumerate(given, start=1):
            ranked.setdefault(first + second, first_rank * second_rank)
    for first_rank, first in enumerate(surnames, start=1):
        for second_rank, second in enumerate(given, start=1):
            ranked.setdefault(first + second, first_rank * second_rank)
    return tuple(sorted(ranked, key=ranked.__getitem__))


@cache
def attack_dictionary() -> tuple[str, ...]:
    """Names and keyboard walks in one list, interleaved by how early an attacker tries each (the n-th walk
    about as early as the n-th name)."""
    ranked = [(rank, word) for rank, word in enumerate(name_dictionary())]
    ranked += [(rank, word) for rank, word in enumerate(keyboard_walks())]
    found: dict[str, None] = {}
    for _rank, word in sorted(ranked, key=lambda item: item[0]):
        found.setdefault(word)
    return tuple(found)


def number_fragments(text: str) -> dict[str, str]:
    """Phone numbers and ID-number parts in ``text``, each mapped to what it is ("phone" or "id_number")."""
    found: dict[str, str] = {}
    for match in MOBILE.finditer(text):
        found[match.group().lower()] = "phone"
    for pattern in ID_FRAGMENTS:
        for match in pattern.finditer(text):
            found.setdefault(match.group().lower(), "id_number")
    return found
