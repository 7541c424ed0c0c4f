"""scan speed: premises found by their door, scan ids without foreign keys

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23

A full scan looks up, for each school, the premises whose point or door lies within reach;
a door farther than 20 m from its premises point needs its own (partial) GiST index
(scan_sql.DOOR_SLACK_M: the scan's predicate must match this one). The scan ids of findings and finding events
lose their foreign keys: scans are never deleted, and a first scan inserting a city's
findings checked three keys per finding and event.

`zg_finding_seen` derives when an open finding was last confirmed: every succeeded scan
covering its premises' region after the one that last measured it either measured it again,
resolved it, or found nothing changed (an incremental scan) — so it was still in conflict
when that scan finished. Incremental scans no longer rewrite every unchanged finding.
"""
from alembic import op
import sqlalchemy as sa

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None

_FAR_DOOR = ("entrance IS NOT NULL AND NOT ST_DWithin(geography(entrance), geography(location), "
             "20, true)")
_FINDING_SEEN = """
CREATE OR REPLACE FUNCTION zg_finding_seen(state text, last_seen timestamptz,
                                           last_scan_id bigint, premises_id bigint)
RETURNS timestamptz LANGUAGE sql STABLE PARALLEL SAFE AS $$
  SELECT CASE WHEN state IN ('open', 'assigned', 'rectifying', 'rectified') THEN
    GREATEST(last_seen, (
      SELECT max(sc.finished_at) FROM scan sc JOIN premises p ON p.id = premises_id
      WHERE sc.status = 'succeeded' AND sc.id > last_scan_id
        AND (sc.region IS NULL OR p.region LIKE sc.region || '%')))
  ELSE last_seen END
$$
"""
_SCAN_KEYS = (('finding', 'fk_finding_first_scan_id_scan', 'first_scan_id'),
              ('finding', 'fk_finding_last_scan_id_scan', 'last_scan_id'),
              ('finding_event', 'fk_finding_event_scan_id_scan', 'scan_id'))


def upgrade() -> None:
    op.create_index('ix_premises_far_door_geog', 'premises',
                    [sa.literal_column('(geography(entrance))')], unique=False,
                    postgresql_using='gist', postgresql_where=sa.text(_FAR_DOOR))
    for table, name, _ in _SCAN_KEYS:
        op.drop_constraint(name, table, type_='foreignkey')
    op.execute(_FINDING_SEEN)


def downgrade() -> None:
    op.execute("DROP FUNCTION IF EXISTS zg_finding_seen(text, timestamptz, bigint, bigint)")
    for table, name, column in _SCAN_KEYS:
        op.create_foreign_key(name, table, 'scan', [column], ['id'], ondelete='SET NULL')
    op.drop_index('ix_premises_far_door_geog', table_name='premises', postgresql_using='gist')
