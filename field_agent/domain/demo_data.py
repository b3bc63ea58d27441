"""Word lists the demo town is made from: Fuqing's towns and streets, names, places, task titles."""

from __future__ import annotations

# Fuqing's 24 towns and streets (镇街): 7 streets, then 17 towns.
TOWNS = (
    "玉屏街道",
    "龙江街道",
    "宏路街道",
    "石竹街道",
    "音西街道",
    "阳下街道",
    "龙山街道",
    "海口镇",
    "城头镇",
    "龙田镇",
    "江阴镇",
    "东张镇",
    "渔溪镇",
    "上迳镇",
    "新厝镇",
    "高山镇",
    "沙埔镇",
    "三山镇",
    "东瀚镇",
    "港头镇",
    "南岭镇",
    "一都镇",
    "镜洋镇",
    "江镜镇",
)

FUQING_REGION = "350181"

# Region codes for residents registered elsewhere (floating population): Fujian first, then inland provinces.
OTHER_REGIONS = (
    "350102",
    "350128",
    "350322",
    "350521",
    "350623",
    "350922",
    "360121",
    "362330",
    "420117",
    "430124",
    "511381",
    "513030",
    "522401",
    "532128",
)

# Surname weights: the national order (王李张刘陈杨黄赵吴周 …) with 林, 陈, 郑 and 黄 as common as they are in Fujian.
SURNAMES = (
    ("林", 13),
    ("陈", 12),
    ("郑", 6),
    ("黄", 6),
    ("王", 5),
    ("李", 5),
    ("张", 4),
    ("刘", 4),
    ("吴", 3),
    ("何", 2.5),
    ("杨", 2),
    ("周", 2),
    ("翁", 2),
    ("薛", 1.5),
    ("俞", 1.5),
    ("施", 1.2),
    ("赵", 1),
    ("徐", 1),
    ("朱", 1),
    ("许", 1),
    ("郭", 1),
    ("蔡", 1),
    ("游", 1),
    ("高", 0.8),
    ("魏", 0.8),
    ("江", 0.8),
    ("叶", 0.8),
    ("曾", 0.7),
    ("严", 0.6),
    ("潘", 0.6),
)

# Given-name characters by sex and generation (names follow fashions: 建国 for the old, 梓轩 for the young).
GIVEN_CHARS = {
    ("male", "old"): "国建华明德忠文福荣金水发清顺祥春生志平根财贵兴义光",
    ("male", "middle"): "伟强军勇杰涛斌辉鹏峰磊超亮刚健锋宏晓东海林波俊鑫",
    ("male", "young"): "轩浩宇泽睿晨博然梓子航一铭豪瑞奕辰俊逸宸安嘉佑皓阳",
    ("female", "old"): "秀英兰珍玉凤桂芳梅花琴莲香菊金美素月娥妹清娇云翠容",
    ("female", "middle"): "丽敏静燕艳娟霞玲婷芳红丹颖雪琳晶慧萍倩洁媛蓉莉娜琼",
    ("female", "young"): "涵欣怡萱梓诗雨思语可馨琪佳悦彤一若依晴心妍瑶汐沐",
}

COMMUNITY_STEMS = (
    "东门",
    "西门",
    "南门",
    "北门",
    "城中",
    "利桥",
    "后埔",
    "瑞亭",
    "福塘",
    "清荣",
    "海滨",
    "新华",
    "光明",
    "龙首",
    "元载",
    "新塘",
    "前林",
    "后溪",
    "上郑",
    "下薛",
    "江兜",
    "东山",
    "凤岭",
    "石门",
)

ESTATES = ("融侨", "江滨", "玉融", "锦江", "阳光", "世纪", "龙湖", "融城", "福荣", "清华", "滨海", "书香")
ESTATE_SUFFIXES = ("花园", "新村", "家园", "小区", "公寓")

_MOBILE_PREFIXES = "133 135 136 137 138 139 150 151 152 155 157 158 159 176 177 180 181 182 186 187 188 189 191 199"
MOBILE_PREFIXES = tuple(_MOBILE_PREFIXES.split())

SAMPLING_TEAMS = ("流动采样一队", "流动采样二队", "流动采样三队")

TASK_TEMPLATES = {
    "information": (("visit", "入户排查：{building}住户信息核对"), ("visit", "六本台账更新：新增流动人口登记")),
    "publicity": (("publicity", "张贴防疫告知书：{building}"), ("publicity", "微信群转发核酸检测通知")),
    "patrol": (("patrol", "巡查居家隔离户门磁与健康码"), ("patrol", "夜间巡查网格出入口")),
    "service": (("delivery", "为居家隔离户配送生活物资"), ("delivery", "为独居老人代购药品")),
    "safety": (("disinfection", "楼道及电梯环境消杀：{building}"), ("patrol", "检查消防通道与电动车充电")),
    "mediation": (("other", "调解邻里噪音纠纷"), ("visit", "走访拒绝采样住户，做好解释")),
}

REFUSAL_REASONS = ("本人不愿在家采样，称已在单位检测", "家属拒绝开门")
EXEMPT_REASONS = ("近三日已在医院完成检测", "住院治疗中，由医院采样")
VISIT_NOTES = ("", "", "", "提醒按时参加核酸检测", "老人独居，已留联系电话", "需复访")
