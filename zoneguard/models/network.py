"""The pedestrian street network that walking distances are routed on (pgRouting tables)."""

from __future__ import annotations

from typing import Any

from geoalchemy2 import Geometry
from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Double,
    ForeignKey,
    Index,
    String,
    Text,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from zoneguard import regions
from zoneguard.models.base import Base

_REGION = f"region IS NULL OR {regions.SQL_CHECK}"


class NetworkVertex(Base):
    """A vertex of the walking network: a junction, a way end, or one side of a barrier."""

    __tablename__ = "network_vertex"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    geom: Mapped[Any] = mapped_column(
        Geometry("POINT", srid=4326, spatial_index=False), nullable=False
    )
    osm_node_id: Mapped[int | None] = mapped_column(BigInteger)
    barrier: Mapped[str | None] = mapped_column(Text)
    region: Mapped[str | None] = mapped_column(String(12))
    import_id: Mapped[int | None] = mapped_column(ForeignKey("import.id", ondelete="SET NULL"))

    __table_args__ = (
        CheckConstraint(_REGION, name="region_valid"),
        Index("ix_network_vertex_geom", "geom", postgresql_using="gist"),
        Index("ix_network_vertex_region", "region"),
    )


class NetworkEdge(Base):
    """A walkable edge between two vertices; `cost` and `reverse_cost` are metres walked."""

    __tablename__ = "network_edge"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    source: Mapped[int] = mapped_column(
        ForeignKey("network_vertex.id", ondelete="CASCADE"), nullable=False
    )
    target: Mapped[int] = mapped_column(
        ForeignKey("network_vertex.id", ondelete="CASCADE"), nullable=False
    )
    cost: Mapped[float] = mapped_column(Double, nullable=False)
    reverse_cost: Mapped[float] = mapped_column(Double, nullable=False)
    length_m: Mapped[float] = mapped_column(Double, nullable=False)
    geom: Mapped[Any] = mapped_column(
        Geometry("LINESTRING", srid=4326, spatial_index=False), nullable=False
    )
    tags: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False, server_default="{}")
    way_ref: Mapped[str | None] = mapped_column(Text)
    region: Mapped[str | None] = mapped_column(String(12))
    import_id: Mapped[int | None] = mapped_column(ForeignKey("import.id", ondelete="SET NULL"))

    __table_args__ = (
        CheckConstraint(_REGION, name="region_valid"),
        CheckConstraint("length_m > 0 AND cost > 0", name="length_positive"),
        Index("ix_network_edge_geom", "geom", postgresql_using="gist"),
        Index("ix_network_edge_geog", text("(geography(geom))"), postgresql_using="gist"),
        Index("ix_network_edge_region", "region"),
    )
