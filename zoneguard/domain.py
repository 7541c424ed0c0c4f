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
    """Case workflow state of a finding (排查 → 上报 → 交办 → 整改 → 验收 → 销号)."""

    OPEN = "open"
    ASSIGNED = "assigned"
    RECTIFYING = "rectifying"
    RECTIFIED = "rectified"
    VERIFIED_CLOSED = "verified_closed"
    EXEMPTED = "exempted"
    RESOLVED = "resolved"


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
