"""scan speed: inlinable measurement functions, room for HOT updates of findings

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23

zg_utm_srid and zg_nearest_point are re-created without STRICT (same results, NULL for NULL):
PostgreSQL does not inline a STRICT SQL function whose body is a CASE, and the call overhead
made a rescan about five times slower. spatial/sql/functions.sql holds the same definitions.
Findings get fillfactor 85 so that a rescan's `last_seen` updates stay HOT (no index writes).
"""
from alembic import op

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None

_UTM = """
CREATE OR REPLACE FUNCTION zg_utm_srid(pt geometry) RETURNS integer
LANGUAGE sql IMMUTABLE {strict} PARALLEL SAFE AS $$
  SELECT (CASE WHEN ST_Y(pt) >= 0 THEN 32600 WHEN ST_Y(pt) < 0 THEN 32700 END)
         + LEAST(60, GREATEST(1, floor((ST_X(pt) + 180.0) / 6.0)::int + 1))
$$
"""

_NEAREST = """
CREATE OR REPLACE FUNCTION zg_nearest_point(target geometry, pt geometry) RETURNS geometry
LANGUAGE sql IMMUTABLE {strict} PARALLEL SAFE AS $$
  SELECT CASE
    WHEN target IS NULL OR pt IS NULL THEN NULL
    WHEN GeometryType(target) = 'POINT' THEN target
    WHEN ST_Intersects(target, pt) THEN pt
    ELSE ST_Transform(
           ST_ClosestPoint(ST_Transform(target, zg_utm_srid(pt)), ST_Transform(pt, zg_utm_srid(pt))),
           4326)
  END
$$
"""


def upgrade() -> None:
    op.execute(_UTM.format(strict="CALLED ON NULL INPUT"))
    op.execute(_NEAREST.format(strict="CALLED ON NULL INPUT"))
    op.execute("ALTER TABLE finding SET (fillfactor = 85)")


def downgrade() -> None:
    op.execute("ALTER TABLE finding RESET (fillfactor)")
    op.execute(_NEAREST.format(strict="STRICT"))
    op.execute(_UTM.format(strict="STRICT"))
