"""Vocabulary of the domain: school levels, premises categories, metrics, verdicts, states."""

from __future__ import annotations

from enum import StrEnum


class Level(StrEnum):
    """School level (学段)."""

    KINDERGARTEN = "kindergarten"
    PRIMARY = "primary"
    SECONDARY = "secondary"
    VOCATIONAL = "vocational"
    SPECIAL = "special"
    HIGHER = "higher"


class Category(StrEnum):
    """Canonical premises categories; rule files may name further ones."""

    INTERNET_CAFE = "internet_cafe"
    ENTERTAINMENT = "entertainment"
    LOTTERY = "lottery"
    TOBACCO = "tobacco"
    GAS_STATION = "gas_station"
    FIREWORKS = "fireworks"


class Metric(StrEnum):
    """How a distance is measured."""

    BOUNDARY = "boundary"
    GATE = "gate"
    WALKING = "walking"


class Verdict(StrEnum):
    """Outcome of measuring one premises against its rules."""

    PROHIBITED = "prohibited"
    REVIEW = "review"
    ALLOWED = "allowed"


class ExistingPolicy(StrEnum):
    """What a rule does with premises licensed before the school opened."""

    VIOLATION = "violation"
    REVIEW = "review"
    EXEMPT = "exempt"


class PremisesStatus(StrEnum):
    """Licence status of a premises."""

    APPLICANT = "applicant"
    ACTIVE = "active"
    SUSPENDED = "suspended"
    REVOKED = "revoked"
    CLOSED = "closed"


class FindingState(StrEnum):
    """Case state of a finding: 发现 → 上报 → 交办 → 整改 → 验收 → 销号, and other closings."""

    FOUND = "found"  # 发现
    REPORTED = "reported"  # 已上报
    ASSIGNED = "assigned"  # 已交办
    RECTIFYING = "rectifying"  # 整改中
    TO_ACCEPT = "to_accept"  # 待验收
    ACCEPTED = "accepted"  # 已验收
    CLOSED = "closed"  # 已销号
    PROPOSED = "proposed"  # 拟办结，待审批 (a closing other than 销号)
    UNFOUNDED = "unfounded"  # 核查不属实
    RETAINED = "retained"  # 依法保留（存量，到期处理）
    SPECIAL = "special"  # 经批准的特殊情形
    RESOLVED = "resolved"  # 自动解除 (a rescan: premises gone, moved, rules changed)


# The state groups, defined once (SQL builds its literals from these).
ACTIVE_STATES: tuple[FindingState, ...] = (
    FindingState.FOUND, FindingState.REPORTED, FindingState.ASSIGNED, FindingState.RECTIFYING,
    FindingState.TO_ACCEPT, FindingState.PROPOSED)
# Closed after rectification: a later conflict with the premises still active is 反弹.
REBOUND_STATES: tuple[FindingState, ...] = (FindingState.ACCEPTED, FindingState.CLOSED)
# Closed by an approved decision: reopened only when the conflict changes materially.
DECIDED_STATES: tuple[FindingState, ...] = (
    FindingState.UNFOUNDED, FindingState.RETAINED, FindingState.SPECIAL)
CLOSED_STATES: tuple[FindingState, ...] = (
    *REBOUND_STATES, *DECIDED_STATES, FindingState.RESOLVED)


# How many days each state may last before the case is overdue (督办); the rectification
# deadline itself is set when the case is assigned (default below).
STEP_DAYS: dict[FindingState, int] = {
    FindingState.FOUND: 3, FindingState.REPORTED: 5, FindingState.ASSIGNED: 5,
    FindingState.RECTIFYING: 30, FindingState.TO_ACCEPT: 7, FindingState.ACCEPTED: 5,
    FindingState.PROPOSED: 7,
}
RED_CARD_DAYS = 15  # overdue by more than this: 红牌督办 (yellow before)
# Premises statuses that maps, sheets and the workbench do not show (no longer licensed).
HIDDEN_STATUSES = ("closed", "revoked")


def sql_list(states: tuple[StrEnum, ...]) -> str:
    """The values as a SQL literal list, e.g. `('found', 'reported')` (fixed codes only)."""
    return "(" + ", ".join(f"'{s.value}'" for s in states) + ")"


class GeometryPrecision(StrEnum):
    """Whether a school is known by its campus polygon or only by a point."""

    BOUNDARY = "boundary"
    POINT = "point"


class Role(StrEnum):
    """API key roles."""

    ADMIN = "admin"
    GOVERNANCE = "governance"
    BUREAU = "bureau"
    VIEWER = "viewer"
    GRID = "grid"  # 网格员: reports problems in its region
    SCHOOL = "school"  # a school: reports problems around its own campus


class ScanTrigger(StrEnum):
    """What started a scan."""

    MANUAL = "manual"
    NIGHTLY = "nightly"
    IMPORT = "import"
    API = "api"


class ScanStatus(StrEnum):
    """Lifecycle of a scan record."""

    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


class GateKind(StrEnum):
    """Kind of school gate."""

    MAIN = "main"
    SIDE = "side"
    BACK = "back"
    OTHER = "other"


def values(enum: type[StrEnum]) -> list[str]:
    """Return the string values of an enum, in declaration order."""
    return [member.value for member in enum]
