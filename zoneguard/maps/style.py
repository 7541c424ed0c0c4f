"""Map vocabulary: Chinese labels and colours of categories, verdicts, finding states, levels."""

from __future__ import annotations

from zoneguard import domain, labels

CATEGORY_LABELS = labels.CATEGORY_SHORT
CATEGORY_COLOURS: dict[str, str] = {
    "internet_cafe": "#1f77b4",
    "entertainment": "#9467bd",
    "lottery": "#2ca02c",
    "tobacco": "#8c564b",
    "gas_station": "#17becf",
    "fireworks": "#e377c2",
}
_SPARE_COLOURS = ("#bcbd22", "#7f7f7f", "#ff7f0e", "#aec7e8", "#98df8a")

VERDICT_LABELS = labels.VERDICT_LABELS
VERDICT_COLOURS: dict[str, str] = {
    "prohibited": "#d62728",
    "review": "#ff7f0e",
    "allowed": "#2ca02c",
    "none": "#555555",
}
VERDICT_ORDER = ("prohibited", "review", "none")

STATE_LABELS = labels.STATE_LABELS
CLOSED_STATES = frozenset(s.value for s in domain.CLOSED_STATES)

LEVEL_LABELS = labels.LEVEL_LABELS
METRIC_LABELS = labels.METRIC_LABELS
STATUS_LABELS = labels.PREMISES_STATUS_LABELS

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


def state_label(state: str | None) -> str:
    """Chinese name of a finding state ('' when there is no finding)."""
    return "" if state is None else STATE_LABELS.get(state, state)


def zone_colour(index: int) -> str:
    """Colour of the index-th distinct zone distance (nearest first)."""
    return ZONE_COLOURS[index % len(ZONE_COLOURS)]


def distance_text(distance_m: float | None) -> str:
    """A distance for display: one decimal and the unit ('—' when unknown)."""
    return "—" if distance_m is None else f"{distance_m:.1f} 米"


verdict_label = labels.verdict_label
levels_label = labels.levels_label
metric_label = labels.metric_label
