"""Scans, findings (one premises × one school × one rule) and their workflow events."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from geoalchemy2 import Geometry
from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.sql import ColumnElement

from zoneguard.domain import FindingState, Metric, ScanStatus, ScanTrigger, Verdict
from zoneguard.models.base import Base, enum_check, utcnow_column


class Scan(Base):
    """One rescan of the registries against the rules."""

    __tablename__ = "scan"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    trigger: Mapped[str] = mapped_column(String(8), nullable=False)
    region: Mapped[str | None] = mapped_column(String(12))
    status: Mapped[str] = mapped_column(String(10), nullable=False, server_default="running")
    started_at: Mapped[datetime] = utcnow_column()
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    rule_set_version: Mapped[str | None] = mapped_column(String(64))
    data_versions: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False,
                                                          server_default="{}")
    new: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")
    still_open: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")
    resolved: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")
    reopened: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")
    pairs: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")
    error: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (enum_check("trigger", ScanTrigger), enum_check("status", ScanStatus))


class Finding(Base):
    """A premises in conflict (or needing review) with a school under one rule."""

    __tablename__ = "finding"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    school_id: Mapped[int] = mapped_column(
        ForeignKey("school.id", ondelete="CASCADE"), nullable=False
    )
    # None for a hand-registered problem (no licensed premises involved)
    premises_id: Mapped[int | None] = mapped_column(
        ForeignKey("premises.id", ondelete="CASCADE"), nullable=True
    )
    rule_id: Mapped[str] = mapped_column(Text, nullable=False)  # problem.<category> if reported
    kind: Mapped[str] = mapped_column(String(8), nullable=False, server_default="scan")
    metric: Mapped[str] = mapped_column(String(8), nullable=False)
    distance_m: Mapped[float | None] = mapped_column(Float)
    threshold_m: Mapped[float | None] = mapped_column(Float)
    verdict: Mapped[str] = mapped_column(String(10), nullable=False)
    reasons: Mapped[list[str]] = mapped_column(JSONB, nullable=False, server_default="[]")
    # 存量: licensed before the school opened or the rule took effect (kept until expiry)
    existing: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default="false")
    line: Mapped[Any] = mapped_column(
        Geometry("LINESTRING", srid=4326, spatial_index=False), nullable=True
    )
    state: Mapped[str] = mapped_column(String(16), nullable=False, server_default="found")
    resolution: Mapped[str | None] = mapped_column(Text)
    assignee: Mapped[str | None] = mapped_column(Text)  # the responsible unit (责任单位)
    deadline: Mapped[date | None] = mapped_column(Date)  # of the rectification
    step_due: Mapped[date | None] = mapped_column(Date)  # the current step's due day (督办)
    rebound: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default="false")
    review_on: Mapped[date | None] = mapped_column(Date)  # 回头看
    rectified_by: Mapped[str | None] = mapped_column(Text)  # who submitted the rectification
    proposed_by: Mapped[str | None] = mapped_column(Text)
    proposed_closing: Mapped[str | None] = mapped_column(String(16))
    proposed_from: Mapped[str | None] = mapped_column(String(16))
    field_distance_m: Mapped[float | None] = mapped_column(Float)  # the latest field measurement
    field_verdict: Mapped[str | None] = mapped_column(String(10))
    # A hand-registered problem: its category (data/problems.yaml), description and place.
    problem_category: Mapped[str | None] = mapped_column(Text)
    description: Mapped[str | None] = mapped_column(Text)
    reported_by: Mapped[str | None] = mapped_column(Text)
    location: Mapped[Any] = mapped_column(
        Geometry("POINT", srid=4326, spatial_index=False), nullable=True
    )
    rule_set_version: Mapped[str | None] = mapped_column(String(64))
    # Scan ids without foreign keys: scans are never deleted, and a first scan inserting a
    # city's findings would check three keys per finding and event.
    first_scan_id: Mapped[int | None] = mapped_column(BigInteger)
    last_scan_id: Mapped[int | None] = mapped_column(BigInteger)
    first_seen: Mapped[datetime] = utcnow_column()
    # When a scan last measured it; readers show `seen()` (also confirmed by later scans).
    last_seen: Mapped[datetime] = utcnow_column()
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        UniqueConstraint("school_id", "premises_id", "rule_id"),
        enum_check("metric", Metric),
        enum_check("verdict", Verdict),
        enum_check("state", FindingState),
        CheckConstraint("kind IN ('scan', 'report', 'facility')", name="kind_valid"),
        CheckConstraint("kind IN ('report', 'facility') OR premises_id IS NOT NULL",
                        name="premises_given"),
        CheckConstraint("field_verdict IS NULL OR field_verdict IN "
                        "('prohibited', 'review', 'allowed')", name="field_verdict_valid"),
        CheckConstraint("distance_m IS NULL OR distance_m >= 0", name="distance_valid"),
        Index("ix_finding_state", "state"),
        Index("ix_finding_premises_id", "premises_id"),
        Index("ix_finding_line", "line", postgresql_using="gist"),
        # one missing-facility finding per school and requirement (migration 0012)
        Index("ix_finding_facility", "school_id", "rule_id", unique=True,
              postgresql_where=text("kind = 'facility'")),
    )


def seen() -> ColumnElement[datetime]:
    """When a finding was last seen in conflict: measured, or confirmed by a later scan.

    Incremental scans leave unchanged findings untouched; `zg_finding_seen` (migration 0005)
    takes the finish of the latest succeeded scan covering an open finding's region.
    """
    return func.zg_finding_seen(Finding.state, Finding.last_seen, Finding.last_scan_id,
                                Finding.premises_id, type_=DateTime(timezone=True))


class FindingEvent(Base):
    """One workflow transition of a finding: who, when, from → to, comment, evidence."""

    __tablename__ = "finding_event"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    finding_id: Mapped[int] = mapped_column(
        ForeignKey("finding.id", ondelete="CASCADE"), nullable=False, index=True
    )
    actor: Mapped[str] = mapped_column(Text, nullable=False)
    at: Mapped[datetime] = utcnow_column()
    from_state: Mapped[str | None] = mapped_column(String(16))
    to_state: Mapped[str] = mapped_column(String(16), nullable=False)
    comment: Mapped[str | None] = mapped_column(Text)
    evidence: Mapped[str | None] = mapped_column(Text)
    assignee: Mapped[str | None] = mapped_column(Text)
    deadline: Mapped[date | None] = mapped_column(Date)
    scan_id: Mapped[int | None] = mapped_column(BigInteger)  # no foreign key, as in finding
    distance_m: Mapped[float | None] = mapped_column(Float)

    __table_args__ = (enum_check("to_state", FindingState),)


class Evidence(Base):
    """An uploaded piece of evidence of a case: a photo or a PDF, stored by its sha256."""

    __tablename__ = "evidence"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    finding_id: Mapped[int] = mapped_column(
        ForeignKey("finding.id", ondelete="CASCADE"), nullable=False, index=True
    )
    sha256: Mapped[str] = mapped_column(String(64), nullable=False)
    size_bytes: Mapped[int] = mapped_column(BigInteger, nullable=False)
    media_type: Mapped[str] = mapped_column(String(32), nullable=False)
    filename: Mapped[str] = mapped_column(Text, nullable=False)
    note: Mapped[str | None] = mapped_column(Text)
    uploaded_by: Mapped[str] = mapped_column(Text, nullable=False)
    uploaded_at: Mapped[datetime] = utcnow_column()

    __table_args__ = (CheckConstraint("size_bytes > 0", name="size_positive"),)


class FieldMeasurement(Base):
    """A distance measured on site by two officers; the case's verdict follows it."""

    __tablename__ = "field_measurement"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    finding_id: Mapped[int] = mapped_column(
        ForeignKey("finding.id", ondelete="CASCADE"), nullable=False, index=True
    )
    distance_m: Mapped[float] = mapped_column(Float, nullable=False)
    method: Mapped[str] = mapped_column(Text, nullable=False)
    instrument: Mapped[str] = mapped_column(Text, nullable=False)
    measurers: Mapped[list[str]] = mapped_column(JSONB, nullable=False)
    measured_on: Mapped[date] = mapped_column(Date, nullable=False)
    evidence_id: Mapped[int | None] = mapped_column(ForeignKey("evidence.id", ondelete="SET NULL"))
    verdict: Mapped[str] = mapped_column(String(10), nullable=False)
    recorded_by: Mapped[str] = mapped_column(Text, nullable=False)
    recorded_at: Mapped[datetime] = utcnow_column()

    __table_args__ = (CheckConstraint("distance_m >= 0", name="distance_valid"),
                      enum_check("verdict", Verdict))


class SupervisionOrder(Base):
    """挂牌督办: a 督办单 issued for a case (number, office, deadline, requirements)."""

    __tablename__ = "supervision_order"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    finding_id: Mapped[int] = mapped_column(
        ForeignKey("finding.id", ondelete="CASCADE"), nullable=False, index=True
    )
    number: Mapped[str] = mapped_column(Text, nullable=False, unique=True)
    office: Mapped[str] = mapped_column(Text, nullable=False)
    issued_on: Mapped[date] = mapped_column(Date, nullable=False)
    deadline: Mapped[date] = mapped_column(Date, nullable=False)
    requirements: Mapped[str] = mapped_column(Text, nullable=False)
    issued_by: Mapped[str] = mapped_column(Text, nullable=False)
    lifted_on: Mapped[date | None] = mapped_column(Date)
    lifted_by: Mapped[str | None] = mapped_column(Text)


class Interview(Base):
    """约谈: a talk with a responsible unit about its cases."""

    __tablename__ = "interview"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    finding_id: Mapped[int | None] = mapped_column(
        ForeignKey("finding.id", ondelete="SET NULL"), index=True
    )
    unit: Mapped[str] = mapped_column(Text, nullable=False)
    held_on: Mapped[date] = mapped_column(Date, nullable=False)
    participants: Mapped[str] = mapped_column(Text, nullable=False)
    summary: Mapped[str] = mapped_column(Text, nullable=False)
    recorded_by: Mapped[str] = mapped_column(Text, nullable=False)
    recorded_at: Mapped[datetime] = utcnow_column()
