"""Chinese names of the domain's codes: what people read wherever a code would be shown.

Machines keep the stable English codes (API fields, GeoJSON keys); every page, record, map,
sheet and message for people goes through these names.
"""

from __future__ import annotations

from collections.abc import Iterable

CATEGORY_LABELS: dict[str, str] = {
    "internet_cafe": "互联网上网服务营业场所",
    "entertainment": "娱乐场所（歌舞、游艺）",
    "lottery": "彩票销售网点",
    "tobacco": "烟草制品（含电子烟）零售点",
    "alcohol": "酒类销售网点",
    "bar": "酒吧",
    "adult_shop": "成人用品店",
    "gas_station": "加油加气站",
    "fireworks": "烟花爆竹零售经营场所",
}
# Everyday short names (map legends, counters' forms).
CATEGORY_SHORT: dict[str, str] = {
    "internet_cafe": "网吧",
    "entertainment": "歌舞游艺场所",
    "lottery": "彩票销售点",
    "tobacco": "烟草（含电子烟）零售点",
    "alcohol": "酒类销售点",
    "bar": "酒吧",
    "adult_shop": "成人用品店",
    "gas_station": "加油站",
    "fireworks": "烟花爆竹零售点",
}

# A screening answers only the distance question: never "允许", which reads as a licence.
VERDICT_LABELS: dict[str, str] = {
    "prohibited": "不符合距离要求",
    "review": "需复核",
    "allowed": "未发现距离冲突（仅距离初筛）",
    "none": "未发现距离冲突",
}

# Printed with every screening answer and record.
DISCLAIMER = ("本结论仅为距离初筛，依据登记的坐标测算，不是行政许可决定；"
              "是否准予许可由许可机关依法审查决定。")

# Case states (zoneguard.domain.FindingState) as the source policies name them.
STATE_LABELS: dict[str, str] = {
    "found": "发现（排查）",
    "reported": "已上报",
    "assigned": "已交办",
    "rectifying": "整改中",
    "to_accept": "待验收",
    "accepted": "已验收",
    "closed": "已销号",
    "proposed": "拟办结待审批",
    "unfounded": "核查不属实",
    "retained": "依法保留（存量，到期处理）",
    "special": "经批准的特殊情形",
    "resolved": "自动解除（场所注销、迁移或规则变更）",
}

LEVEL_LABELS: dict[str, str] = {
    "kindergarten": "幼儿园",
    "primary": "小学",
    "secondary": "中学",
    "vocational": "中等职业学校",
    "special": "特殊教育学校",
    "higher": "高等学校",
}

#: A premises' licence status, as maps, sheets, exports and messages name it.
PREMISES_STATUS_LABELS: dict[str, str] = {
    "applicant": "申请中", "active": "在营", "suspended": "暂停", "revoked": "已吊销",
    "closed": "已关闭",
}

METRIC_LABELS: dict[str, str] = {
    "boundary": "至校园边界直线距离（椭球面测地线）",
    "gate": "至最近校门直线距离（椭球面测地线）",
    "walking": "至最近校门步行距离（路网）",
}
METRIC_SHORT: dict[str, str] = {"boundary": "至校园边界", "gate": "至校门", "walking": "步行至校门"}


def choices(pairs: Iterable[tuple[str, str]]) -> str:
    """The options of a message: `code（name）、…`, the code to type beside the name to read."""
    return "、".join(f"{code}（{name}）" for code, name in pairs)


def category_label(category: str) -> str:
    """Chinese name of a premises category (the code itself when unknown)."""
    return CATEGORY_LABELS.get(category, category)


def verdict_label(verdict: str | None) -> str:
    """Chinese name of a verdict (None: no conflict found)."""
    return VERDICT_LABELS.get(verdict or "none", verdict or "")


def levels_label(levels: list[str] | tuple[str, ...]) -> str:
    """Chinese names of school levels, joined."""
    return "、".join(LEVEL_LABELS.get(level, level) for level in levels)


def metric_label(metric: str | None) -> str:
    """Chinese description of a measurement metric."""
    return "" if metric is None else METRIC_LABELS.get(metric, metric)


def metres(distance_m: float | None) -> str:
    """A distance for people: two decimals and the unit ('—' when unknown)."""
    return "—" if distance_m is None else f"{distance_m:.2f} 米"


def limit(distance_m: float) -> str:
    """A rule distance for people (no needless decimals)."""
    return f"{distance_m:g} 米"

# Evidence file types accepted (decided by content), in Chinese.
EVIDENCE_TYPE_LABELS: dict[str, str] = {
    "image/jpeg": "JPEG 图片", "image/png": "PNG 图片", "image/webp": "WebP 图片",
    "application/pdf": "PDF 文件"}
