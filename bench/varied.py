"""Resident records with varied, realistic text for the benchmarks: names, addresses and visit notes that do not
repeat (no sentence three times over), so compression and file sizes are not flattered.

Each note is two to four clauses drawn from templates with their own names, dates, numbers and places filled in;
a record is ~450–800 bytes as JSON (the household's address opens the note).
"""

from __future__ import annotations

import random
from datetime import date
from typing import Any

from field_agent.domain.idnumber import make_id_number

SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
    "姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
)
GIVEN = (
    "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超兰霞平刚桂华建国志红玉春梅海燕"
    "德福文斌宇浩鑫欣怡佳琪子涵梓轩雨桐晨阳思远嘉豪宏亮淑珍凤琴翠云金凤雪梅"
)
ROADS = [
    "幸福",
    "建设",
    "人民",
    "解放",
    "中山",
    "和平",
    "新华",
    "胜利",
    "友谊",
    "光明",
    "长安",
    "东风",
    "朝阳",
    "红旗",
    "青年",
    "文化",
    "育才",
    "健康",
    "安居",
    "江滨",
    "滨河",
    "北环",
    "南环",
    "工业",
    "花园",
    "紫荆",
    "凤凰",
    "榕城",
    "福兴",
    "龙腾",
]
SUFFIXES = ["路", "街", "大道", "巷", "里"]
ESTATES = [
    "锦绣家园",
    "阳光小区",
    "金桥花苑",
    "翠湖苑",
    "康居新村",
    "福馨园",
    "丽景湾",
    "书香门第",
    "悦华庭",
    "东湖名邸",
    "南山公寓",
    "瑞祥里",
]
RELATIONS = ["儿子", "女儿", "老伴", "儿媳", "女婿", "孙子", "外孙女", "邻居", "楼长", "侄子"]
CLAUSES = [
    "{m}月{d}日上门走访，{rel}{name2}在家，已核对户籍信息",
    "本人行动不便，需安排上门采样，联系人为{rel}（电话尾号{tail}）",
    "患有高血压{y}年，每日服药，血压控制在{bp}左右",
    "{m}月{d}日已完成第{n}针疫苗接种，无不良反应",
    "独居老人，{rel}每周{wd}来探望一次，楼下{estate}超市可代购",
    "居家隔离至{m}月{d}日，门磁已安装，每日体温{t}℃",
    "{m}月{d}日电话回访未接通，{h}点后再联系",
    "租住{room}室，房东{name2}，合同到期{y2}年{m}月",
    "外出务工返乡，{m}月{d}日自{city}回，已报备",
    "家中有{n}岁儿童，需协调社区医生入户",
    "低保户，{m}月补助已发放，下次核查在{m2}月",
    "对社区团购配送时间有意见，建议改在{h}点前",
    "楼道杂物已清理，消防通道畅通，{estate}物业已确认",
    "需要轮椅一台，已向街道残联申请（编号{code}）",
    "核酸采样点改到{estate}东门，已告知本人",
    "上次采样结果阴性，{m}月{d}日复采",
]
CITIES = ["上海", "广州", "深圳", "杭州", "武汉", "成都", "厦门", "泉州", "南昌", "长沙", "温州", "苏州"]
WEEKDAYS = "一二三四五六日"


def person_name(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2, 2))))


def address(rng: random.Random) -> str:
    return (
        f"{rng.choice(ROADS)}{rng.choice(SUFFIXES)} {rng.randrange(1, 400)} 号 {rng.choice(ESTATES)} "
        f"{rng.randrange(1, 30)} 栋 {rng.randrange(1, 7)} 单元 {rng.randrange(1, 33)}{rng.randrange(1, 9):02d}"
    )


def note(rng: random.Random) -> str:
    clauses = rng.sample(CLAUSES, rng.randrange(2, 5))
    filled = []
    for clause in clauses:
        filled.append(
            clause.format(
                m=rng.randrange(1, 13),
                m2=rng.randrange(1, 13),
                d=rng.randrange(1, 29),
                y=rng.randrange(2, 30),
                y2=rng.randrange(2025, 2030),
                n=rng.randrange(1, 12),
                h=rng.randrange(8, 21),
                t=f"{rng.uniform(36.0, 37.4):.1f}",
                bp=f"{rng.randrange(120, 160)}/{rng.randrange(70, 100)}",
                tail=f"{rng.randrange(10000):04d}",
                rel=rng.choice(RELATIONS),
                name2=person_name(rng),
                wd=rng.choice(WEEKDAYS),
                estate=rng.choice(ESTATES),
                room=f"{rng.randrange(1, 33)}{rng.randrange(1, 9):02d}",
                city=rng.choice(CITIES),
                code=f"{rng.randrange(10**6):06d}",
            )
        )
    return "；".join(filled) + "。"


def varied_records(count: int, seed: int = 7) -> list[dict[str, Any]]:
    """Resident records, three per household, with their own names, addresses, phones, ID numbers and notes."""
    rng = random.Random(seed)
    records = []
    home = address(rng)
    for number in range(count):
        if number % 3 == 0:
            home = address(rng)
        born = date(1930 + rng.randrange(90), rng.randrange(1, 13), rng.randrange(1, 29))
        records.append(
            {
                "household": f"00000000-0000-7000-8000-{number // 3:012d}",
                "name": person_name(rng),
                "id_number": make_id_number("350181", born, rng.randrange(500), rng.choice(("male", "female"))),
                "phone": f"1{rng.choice('3578')}{rng.randrange(10**9):09d}",
                "residency": rng.choice(("resident", "resident", "resident", "floating", "away")),
                "isolation_status": "none",
                "notes": f"现住{home}；{note(rng)}",
            }
        )
    return records
