"""Rule sets as loaded from the YAML files, stored with their content hash."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import BigInteger, Date, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Mapped, mapped_column

from zoneguard.domain import ExistingPolicy, Metric
from zoneguard.models.base import Base, enum_check, utcnow_column


class RuleSetRecord(Base):
    """One loaded rule set (all jurisdictions' files), identified by its content hash."""

    __tablename__ = "rule_set"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    version: Mapped[str] = mapped_column(String(64), nullable=False, unique=True)
    jurisdictions: Mapped[list[str]] = mapped_column(ARRAY(Text), nullable=False)
    source: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False)
    loaded_at: Mapped[datetime] = utcnow_column()


class RuleRecord(Base):
    """One rule of a stored rule set."""

    __tablename__ = "rule"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    rule_set_id: Mapped[int] = mapped_column(
        ForeignKey("rule_set.id", ondelete="CASCADE"), nullable=False
    )
    rule_id: Mapped[str] = mapped_column(Text, nullable=False)
    jurisdiction: Mapped[str] = mapped_column(String(6), nullable=False)
    category: Mapped[str] = mapped_column(Text, nullable=False)
    protects: Mapped[list[str]] = mapped_column(ARRAY(Text), nullable=False)
    distance_m: Mapped[float | None] = mapped_column(Float)
    metric: Mapped[str] = mapped_column(String(8), nullable=False)
    existing: Mapped[str] = mapped_column(String(10), nullable=False)
    min_enrolment: Mapped[int | None] = mapped_column(Integer)
    basis: Mapped[str] = mapped_column(Text, nullable=False)
    effective_from: Mapped[date | None] = mapped_column(Date)
    effective_to: Mapped[date | None] = mapped_column(Date)
    definition: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False)

    __table_args__ = (
        enum_check("metric", Metric),
        enum_check("existing", ExistingPolicy),
        Index("ix_rule_rule_set_id_rule_id", "rule_set_id", "rule_id", unique=True),
    )
