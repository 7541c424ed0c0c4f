"""Registries: schools, their gates, premises, and the imports that fed them."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from geoalchemy2 import Geometry
from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Mapped, mapped_column, relationship

from zoneguard import regions
from zoneguard.domain import GateKind, GeometryPrecision, Level, PremisesStatus
from zoneguard.models.base import Base, enum_check, utcnow_column

_LEVELS = "ARRAY[" + ", ".join(f"'{lv.value}'" for lv in Level) + "]::text[]"
_REGION = f"region IS NULL OR {regions.SQL_CHECK}"


class ImportRecord(Base):
    """One import of a file: provenance of every row it wrote."""

    __tablename__ = "import"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), nullable=False)
    file_name: Mapped[str] = mapped_column(Text, nullable=False)
    file_sha256: Mapped[str] = mapped_column(String(64), nullable=False)
    source_crs: Mapped[str] = mapped_column(Text, nullable=False)
    actor: Mapped[str] = mapped_column(Text, nullable=False, server_default="cli")
    rows_read: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")
    inserted: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")
    updated: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")
    unchanged: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")
    rejected: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")
    closed: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")
    report: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False, server_default="{}")
    created_at: Mapped[datetime] = utcnow_column()

    __table_args__ = (CheckConstraint("kind IN ('schools', 'gates', 'premises', 'network', "
                                      "'facilities')",
                                      name="kind_valid"),)


class School(Base):
    """A school campus (polygon) or, when no campus is known, its point."""

    __tablename__ = "school"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    code: Mapped[str] = mapped_column(Text, nullable=False, unique=True)
    name: Mapped[str] = mapped_column(Text, nullable=False)
    levels: Mapped[list[str]] = mapped_column(ARRAY(Text), nullable=False)
    enrolment: Mapped[int | None] = mapped_column(Integer)
    region: Mapped[str | None] = mapped_column(String(12))
    address: Mapped[str | None] = mapped_column(Text)
    boundary: Mapped[Any] = mapped_column(
        Geometry("MULTIPOLYGON", srid=4326, spatial_index=False), nullable=True
    )
    location: Mapped[Any] = mapped_column(
        Geometry("POINT", srid=4326, spatial_index=False), nullable=False
    )
    precision: Mapped[str] = mapped_column(String(8), nullable=False)
    opened_on: Mapped[date | None] = mapped_column(Date)
    closed_on: Mapped[date | None] = mapped_column(Date)
    source: Mapped[str | None] = mapped_column(Text)
    attributes: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False, server_default="{}")
    import_id: Mapped[int | None] = mapped_column(ForeignKey("import.id", ondelete="SET NULL"))
    updated_at: Mapped[datetime] = utcnow_column()

    gates: Mapped[list[SchoolGate]] = relationship(back_populates="school",
                                                  cascade="all, delete-orphan")

    __table_args__ = (
        CheckConstraint(f"levels <@ {_LEVELS} AND cardinality(levels) > 0", name="levels_valid"),
        CheckConstraint("enrolment IS NULL OR enrolment >= 0", name="enrolment_valid"),
        CheckConstraint(_REGION, name="region_valid"),
        enum_check("precision", GeometryPrecision),
        CheckConstraint("(precision = 'boundary') = (boundary IS NOT NULL)",
                        name="precision_matches"),
        CheckConstraint("closed_on IS NULL OR opened_on IS NULL OR closed_on >= opened_on",
                        name="dates_valid"),
        Index("ix_school_footprint_geog",
              text("(geography(COALESCE(boundary, location)))"), postgresql_using="gist"),
        Index("ix_school_boundary", "boundary", postgresql_using="gist"),
        Index("ix_school_location", "location", postgresql_using="gist"),
        Index("ix_school_region", "region"),
    )


class SchoolGate(Base):
    """A gate of a school campus (main, side, back)."""

    __tablename__ = "school_gate"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    school_id: Mapped[int] = mapped_column(
        ForeignKey("school.id", ondelete="CASCADE"), nullable=False
    )
    kind: Mapped[str] = mapped_column(String(8), nullable=False, server_default="main")
    name: Mapped[str | None] = mapped_column(Text)
    location: Mapped[Any] = mapped_column(
        Geometry("POINT", srid=4326, spatial_index=False), nullable=False
    )
    source: Mapped[str | None] = mapped_column(Text)
    import_id: Mapped[int | None] = mapped_column(ForeignKey("import.id", ondelete="SET NULL"))
    updated_at: Mapped[datetime] = utcnow_column()

    school: Mapped[School] = relationship(back_populates="gates")

    __table_args__ = (
        enum_check("kind", GateKind),
        Index("ix_school_gate_geog", text("(geography(location))"), postgresql_using="gist"),
        Index("ix_school_gate_school_id", "school_id"),
    )


class Premises(Base):
    """A licensed (or applying) premises of a regulated category."""

    __tablename__ = "premises"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    category: Mapped[str] = mapped_column(Text, nullable=False)
    licence_no: Mapped[str] = mapped_column(Text, nullable=False)
    name: Mapped[str] = mapped_column(Text, nullable=False)
    address: Mapped[str | None] = mapped_column(Text)
    operator: Mapped[str | None] = mapped_column(Text)
    region: Mapped[str] = mapped_column(String(12), nullable=False, server_default="")
    location: Mapped[Any] = mapped_column(
        Geometry("POINT", srid=4326, spatial_index=False), nullable=False
    )
    entrance: Mapped[Any] = mapped_column(
        Geometry("POINT", srid=4326, spatial_index=False), nullable=True
    )
    issued_on: Mapped[date | None] = mapped_column(Date)
    expires_on: Mapped[date | None] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(10), nullable=False, server_default="active")
    source: Mapped[str | None] = mapped_column(Text)
    source_crs: Mapped[str | None] = mapped_column(Text)
    attributes: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False, server_default="{}")
    # The import that last wrote the row. No foreign key: imports are never deleted, and a
    # bulk COPY would check it row by row.
    import_id: Mapped[int | None] = mapped_column(BigInteger)
    updated_at: Mapped[datetime] = utcnow_column()

    __table_args__ = (
        UniqueConstraint("category", "licence_no", "region"),
        enum_check("status", PremisesStatus),
        CheckConstraint("category ~ '^[a-z][a-z0-9_]*$'", name="category_valid"),
        CheckConstraint(f"region = '' OR {regions.SQL_CHECK}",
                        name="region_valid"),
        CheckConstraint("expires_on IS NULL OR issued_on IS NULL OR expires_on >= issued_on",
                        name="dates_valid"),
        Index("ix_premises_geog", text("(geography(location))"), postgresql_using="gist"),
        # Scans look premises up by a door far from their point too (gate and walking metrics
        # measure from the door); the predicate is scan_sql.DOOR_SLACK_M's.
        Index("ix_premises_far_door_geog", text("(geography(entrance))"),
              postgresql_using="gist",
              postgresql_where=text("entrance IS NOT NULL AND NOT ST_DWithin(geography(entrance),"
                                    " geography(location), 20, true)")),
        Index("ix_premises_location", "location", postgresql_using="gist"),
        Index("ix_premises_region", "region"),
    )


class RegistryHistory(Base):
    """Earlier version of a school or premises row, kept when an import changes it."""

    __tablename__ = "registry_history"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    entity: Mapped[str] = mapped_column(String(16), nullable=False)
    entity_id: Mapped[int] = mapped_column(BigInteger, nullable=False)
    import_id: Mapped[int | None] = mapped_column(ForeignKey("import.id", ondelete="SET NULL"))
    previous: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False)
    changed_at: Mapped[datetime] = utcnow_column()

    __table_args__ = (
        CheckConstraint("entity IN ('school', 'premises', 'school_gate')", name="entity_valid"),
        Index("ix_registry_history_entity", "entity", "entity_id"),
    )
