"""ORM models of the ZoneGuard data model."""

from zoneguard.models.access import (
    ApiKey,
    AuditLog,
    LoginFailure,
    ScreeningRecord,
    User,
    WebSession,
)
from zoneguard.models.base import Base
from zoneguard.models.facilities import Facility, Inspection, InspectionDraw
from zoneguard.models.findings import (
    Evidence,
    FieldMeasurement,
    Finding,
    FindingEvent,
    Interview,
    Scan,
    SupervisionOrder,
    seen,
)
from zoneguard.models.network import NetworkEdge, NetworkVertex
from zoneguard.models.registry import ImportRecord, Premises, RegistryHistory, School, SchoolGate
from zoneguard.models.rules import RuleRecord, RuleSetRecord

__all__ = [
    "ApiKey", "AuditLog", "Base", "Evidence", "FieldMeasurement", "Finding", "FindingEvent",
    "ImportRecord", "Interview", "LoginFailure", "NetworkEdge", "NetworkVertex", "Premises",
    "Facility", "Inspection", "InspectionDraw",
    "SupervisionOrder",
    "RegistryHistory", "RuleRecord", "RuleSetRecord", "Scan", "School", "SchoolGate",
    "ScreeningRecord", "User", "WebSession", "seen",
]
