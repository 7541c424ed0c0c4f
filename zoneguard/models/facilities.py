"""Facilities near schools (护学岗, 警务室, cameras…) and 双随机 inspection draws."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from geoalchemy2 import Geometry
from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from zoneguard import regions
from zoneguard.models.base import Base, utcnow_column


class Facility(Base):
    """A facility of a kind (data/facility_kinds.yaml) at a point, optionally of a school."""

    __tablename__ = "facility"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    code: Mapped[str] = mapped_column(Text, nullable=False, unique=True)  # 设施编号
    kind: Mapped[str] = mapped_column(Text, nullable=False)
    name: Mapped[str] = mapped_column(Text, nullable=False)
    school_id: Mapped[int | None] = mapped_column(
        ForeignKey("school.id", ondelete="SET NULL"), nullable=True, index=True)
    region: Mapped[str | None] = mapped_column(String(12))
    location: Mapped[Any] = mapped_column(
        Geometry("POINT", srid=4326, spatial_index=False), nullable=False)
    # cameras: the bearing the camera looks at (degrees clockwise from true north), its
    # horizontal field of view (degrees)
    direction_deg: Mapped[float | None] = mapped_column(Float)
    fov_deg: Mapped[float | None] = mapped_column(Float)
    status: Mapped[str] = mapped_column(String(8), nullable=False, server_default="active")
    installed_on: Mapped[date | None] = mapped_column(Date)
    retired_on: Mapped[date | None] = mapped_column(Date)
    source: Mapped[str | None] = mapped_column(Text)
    attributes: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False, server_default="{}")
    import_id: Mapped[int | None] = mapped_column(BigInteger)
    updated_at: Mapped[datetime] = utcnow_column()

    __table_args__ = (
        CheckConstraint("kind ~ '^[a-z][a-z0-9_]*$'", name="kind_valid"),
        CheckConstraint("status IN ('active', 'retired')", name="status_valid"),
        CheckConstraint(f"region IS NULL OR {regions.SQL_CHECK}", name="region_valid"),
        CheckConstraint("direction_deg IS NULL OR (direction_deg >= 0 AND direction_deg < 360)",
                        name="direction_valid"),
        CheckConstraint("fov_deg IS NULL OR (fov_deg > 0 AND fov_deg <= 360)",
                        name="fov_valid"),
        Index("ix_facility_geog", text("(geography(location))"), postgresql_using="gist"),
        Index("ix_facility_region", "region"),
    )


class InspectionDraw(Base):
    """One 双随机 draw: its seed, parameters and population, so anyone can draw it again."""

    __tablename__ = "inspection_draw"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    seed: Mapped[int] = mapped_column(BigInteger, nullable=False)
    parameters: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False)
    population_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    population_size: Mapped[int] = mapped_column(Integer, nullable=False)
    drawn_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    actor: Mapped[str] = mapped_column(Text, nullable=False)


class Inspection(Base):
    """One inspection of a draw: the premises, two inspectors, due day and the results."""

    __tablename__ = "inspection"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    draw_id: Mapped[int] = mapped_column(
        ForeignKey("inspection_draw.id", ondelete="CASCADE"), nullable=False, index=True)
    premises_id: Mapped[int] = mapped_column(
        ForeignKey("premises.id", ondelete="CASCADE"), nullable=False, index=True)
    school_id: Mapped[int | None] = mapped_column(ForeignKey("school.id", ondelete="SET NULL"))
    stratum: Mapped[str] = mapped_column(Text, nullable=False)  # category|district
    inspectors: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, nullable=False)
    due_on: Mapped[date] = mapped_column(Date, nullable=False)
    status: Mapped[str] = mapped_column(String(8), nullable=False, server_default="pending")
    results: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False, server_default="{}")
    recorded_by: Mapped[str | None] = mapped_column(Text)
    recorded_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        CheckConstraint("status IN ('pending', 'passed', 'failed')", name="status_valid"),
    )
