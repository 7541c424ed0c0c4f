"""Map vocabulary: Chinese labels and colours of categories, verdicts, finding states, levels."""

from __future__ import annotations

CATEGORY_LABELS: dict[str, str] = {
    "internet_cafe": "网吧",
    "entertainment": "歌舞游艺场所",
    "lottery": "彩票销售点",
    "tobacco": "烟草（含电子烟）零售点",
    "gas_station": "加油站",
    "fireworks": "烟花爆竹经营点",
}
CATEGORY_COLOURS: dict[str, str] = {
    "internet_cafe": "#1f77b4",
    "entertainment": "#9467bd",
    "lottery": "#2ca02c",
    "tobacco": "#8c564b",
    "gas_station": "#17becf",
    "fireworks": "#e377c2",
}
_SPARE_COLOURS = ("#bcbd22", "#7f7f7f", "#ff7f0e", "#aec7e8", "#98df8a")

VERDICT_LABELS: dict[str, str] = {
    "prohibited": "禁止",
    "review": "需复核",
    "allowed": "允许",
    "none": "未发现冲突",
}
VERDICT_COLOURS: dict[str, str] = {
    "prohibited": "#d62728",
    "review": "#ff7f0e",
    "allowed": "#2ca02c",
    "none": "#555555",
}
VERDICT_ORDER = ("prohibited", "review", "none")

STATE_LABELS: dict[str, str] = {
    "open": "待处理（排查）",
    "assigned": "已交办",
    "rectifying": "整改中",
    "rectified": "已整改待验收",
    "verified_closed": "已验收销号",
    "exempted": "已豁免",
    "resolved": "已消除",
}
CLOSED_STATES = frozenset({"verified_closed", "exempted", "resolved"})

LEVEL_LABELS: dict[str, str] = {
    "kindergarten": "幼儿园",
    "primary": "小学",
    "secondary": "中学",
    "vocational": "中职",
    "special": "特殊教育",
    "higher": "高等院校",
}
METRIC_LABELS: dict[str, str] = {
    "boundary": "至校园边界直线距离（椭球面测地线）",
    "gate": "至最近校门直线距离（椭球面测地线）",
    "walking": "至最近校门步行距离（路网）",
}
STATUS_LABELS: dict[str, str] = {
    "applicant": "申请中",
    "active": "在营",
    "suspended": "暂停",
    "revoked": "已吊销",
    "closed": "已关闭",
}

SCHOOL_COLOUR = "#0b3d91"
ZONE_COLOURS = ("#d62728", "#ff7f0e", "#bcbd22", "#9467bd")
LINE_COLOUR = "#d62728"
PERMITTED_COLOUR = "#2ca02c"
BLOCKED_COLOUR = "#d62728"


def category_label(category: str) -> str:
    """Chinese name of a premises category (the code itself when unknown)."""
    return CATEGORY_LABELS.get(category, category)


def category_colour(category: str) -> str:
    """Display colour of a premises category; stable for categories outside the list."""
    if category in CATEGORY_COLOURS:
        return CATEGORY_COLOURS[category]
    return _SPARE_COLOURS[sum(map(ord, category)) % len(_SPARE_COLOURS)]


def verdict_label(verdict: str | None) -> str:
    """Chinese name of a verdict (None: no conflict found)."""
    return VERDICT_LABELS.get(verdict or "none", verdict or "")


def state_label(state: str | None) -> str:
    """Chinese name of a finding state ('' when there is no finding)."""
    return "" if state is None else STATE_LABELS.get(state, state)


def levels_label(levels: list[str] | tuple[str, ...]) -> str:
    """Chinese names of school levels, joined."""
    return "、".join(LEVEL_LABELS.get(level, level) for level in levels)


def metric_label(metric: str | None) -> str:
    """Chinese description of a measurement metric."""
    return "" if metric is None else METRIC_LABELS.get(metric, metric)


def zone_colour(index: int) -> str:
    """Colour of the index-th distinct zone distance (nearest first)."""
    return ZONE_COLOURS[index % len(ZONE_COLOURS)]


def distance_text(distance_m: float | None) -> str:
    """A distance for display: one decimal and the unit ('—' when unknown)."""
    return "—" if distance_m is None else f"{distance_m:.1f} 米"
