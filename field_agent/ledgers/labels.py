"""Chinese labels for the coded values records hold, as the ledgers print them."""

from __future__ import annotations

from field_agent.domain.groups import in_ledger_order

RESIDENCY = {"resident": "常住", "floating": "流动", "away": "外出"}
ISOLATION = {"none": "无", "home": "居家隔离中", "ended": "已解除"}
SEX = {"M": "男", "F": "女", "male": "男", "female": "女"}
GROUPS = {  # keyed by the domain's special groups (enums.SPECIAL_GROUPS); a test holds them together
    "very_old": "80岁以上高龄",
    "elderly": "60岁以上老人",
    "chronic": "慢性病",
    "disabled": "残疾",
    "bedridden": "卧床/行动不便",
    "pregnant": "孕产妇",
    "infant": "婴幼儿",
}
SAMPLING = {
    "scheduled": "已预约",
    "sampled": "已采样",
    "missed": "未采到",
    "refused": "拒绝",
    "exempt": "免检",
    "left_out": "遗漏",
}
ROUND_STATUS = {"open": "进行中", "closed": "已结束"}
OUTCOME = {"met": "已见面", "nobody_home": "无人在家", "refused": "拒绝", "vacant": "空置"}
YES_NO = {True: "是", False: "否"}
SYMPTOMS = {
    "fever": "发热",
    "cough": "咳嗽",
    "sore_throat": "咽痛",
    "fatigue": "乏力",
    "loss_of_smell": "嗅觉减退",
    "shortness_of_breath": "气促",
    "diarrhoea": "腹泻",
    "other": "其他",
}
SYMPTOMS_JOIN = "、"


def label(table: dict, value: object) -> str:
    """The label of a coded value, or the value itself when it has none."""
    if value is None:
        return ""
    return table.get(value, str(value))


def group_labels(groups: list[str]) -> str:
    """Special groups in the order the ledgers print them (the domain's ``LEDGER_ORDER``)."""
    return SYMPTOMS_JOIN.join(GROUPS.get(key, key) for key in in_ledger_order(groups))


MODE = {"normal": "平时", "wartime": "战时"}
# why a resident is sampled at home (``EligibilityRule.reasons``): a special group, or home isolation
HOME_SAMPLING_REASONS = {**GROUPS, "home_isolation": "居家隔离"}


def reason_labels(reasons: list[str]) -> str:
    """Home-sampling reasons, groups in ledger order and home isolation last."""
    return SYMPTOMS_JOIN.join(HOME_SAMPLING_REASONS.get(key, key) for key in in_ledger_order(reasons))


# a record's tags are the town's own words; the demo's and the app's English ones get their Chinese here
TAGS = {"rented": "出租", "lives_alone": "独居", "vacant": "空置"}
TASK_KIND = {  # keyed by enums.TASK_KINDS, as the terminal app says them
    "publicity": "宣传",
    "patrol": "巡查",
    "disinfection": "消杀",
    "delivery": "配送",
    "sampling": "采样",
    "visit": "入户",
    "other": "其他",
}
TASK_STATUS = {"open": "待办", "in_progress": "进行中", "done": "已完成", "cancelled": "已取消"}
# a campaign result's status; a campaign may use others, printed as recorded
RESULT_STATUS = {"received": "已领取", "refused": "拒领", "absent": "不在家"}


def tag_labels(tags: list[str]) -> str:
    """Tags as the ledgers print them, each label once (``rented`` and ``出租`` are both 出租)."""
    shown = dict.fromkeys(TAGS.get(tag, tag) for tag in tags)
    return SYMPTOMS_JOIN.join(shown)
