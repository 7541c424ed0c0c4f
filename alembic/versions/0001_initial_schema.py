"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-23

Extensions (PostGIS, pgRouting), every table of the data model with its constraints and
GiST indexes, and the measurement functions of spatial/sql/functions.sql.
"""
from alembic import op
import sqlalchemy as sa
import geoalchemy2
from geoalchemy2 import Geometry
from sqlalchemy.dialects import postgresql

from spatial.sql import read_sql

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("CREATE EXTENSION IF NOT EXISTS postgis")
    op.execute("CREATE EXTENSION IF NOT EXISTS pgrouting")
    op.create_table('api_key',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('name', sa.Text(), nullable=False),
    sa.Column('prefix', sa.String(length=16), nullable=False),
    sa.Column('secret_hash', sa.String(length=128), nullable=False),
    sa.Column('role', sa.String(length=12), nullable=False),
    sa.Column('categories', postgresql.ARRAY(sa.Text()), nullable=True),
    sa.Column('region_prefix', sa.String(length=6), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("role IN ('admin', 'governance', 'bureau', 'viewer')", name=op.f('ck_api_key_role_valid')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_api_key')),
    sa.UniqueConstraint('prefix', name=op.f('uq_api_key_prefix'))
    )
    op.create_table('audit_log',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('actor', sa.Text(), nullable=False),
    sa.Column('action', sa.Text(), nullable=False),
    sa.Column('entity', sa.Text(), nullable=False),
    sa.Column('entity_id', sa.Text(), nullable=True),
    sa.Column('before', postgresql.JSONB(astext_type=sa.Text()), nullable=True),
    sa.Column('after', postgresql.JSONB(astext_type=sa.Text()), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_log'))
    )
    op.create_index('ix_audit_log_entity', 'audit_log', ['entity', 'entity_id'], unique=False)
    op.create_table('import',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('file_name', sa.Text(), nullable=False),
    sa.Column('file_sha256', sa.String(length=64), nullable=False),
    sa.Column('source_crs', sa.Text(), nullable=False),
    sa.Column('actor', sa.Text(), server_default='cli', nullable=False),
    sa.Column('rows_read', sa.Integer(), server_default='0', nullable=False),
    sa.Column('inserted', sa.Integer(), server_default='0', nullable=False),
    sa.Column('updated', sa.Integer(), server_default='0', nullable=False),
    sa.Column('unchanged', sa.Integer(), server_default='0', nullable=False),
    sa.Column('rejected', sa.Integer(), server_default='0', nullable=False),
    sa.Column('closed', sa.Integer(), server_default='0', nullable=False),
    sa.Column('report', postgresql.JSONB(astext_type=sa.Text()), server_default='{}', nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("kind IN ('schools', 'gates', 'premises', 'network')", name=op.f('ck_import_kind_valid')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_import'))
    )
    op.create_table('rule_set',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('version', sa.String(length=64), nullable=False),
    sa.Column('jurisdictions', postgresql.ARRAY(sa.Text()), nullable=False),
    sa.Column('source', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('loaded_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_rule_set')),
    sa.UniqueConstraint('version', name=op.f('uq_rule_set_version'))
    )
    op.create_table('scan',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('trigger', sa.String(length=8), nullable=False),
    sa.Column('region', sa.String(length=6), nullable=True),
    sa.Column('status', sa.String(length=10), server_default='running', nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('rule_set_version', sa.String(length=64), nullable=True),
    sa.Column('data_versions', postgresql.JSONB(astext_type=sa.Text()), server_default='{}', nullable=False),
    sa.Column('new', sa.Integer(), server_default='0', nullable=False),
    sa.Column('still_open', sa.Integer(), server_default='0', nullable=False),
    sa.Column('resolved', sa.Integer(), server_default='0', nullable=False),
    sa.Column('reopened', sa.Integer(), server_default='0', nullable=False),
    sa.Column('pairs', sa.Integer(), server_default='0', nullable=False),
    sa.Column('error', sa.Text(), nullable=True),
    sa.CheckConstraint("status IN ('running', 'succeeded', 'failed')", name=op.f('ck_scan_status_valid')),
    sa.CheckConstraint("trigger IN ('manual', 'nightly', 'import', 'api')", name=op.f('ck_scan_trigger_valid')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_scan'))
    )
    op.create_geospatial_table('screening',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('category', sa.Text(), nullable=False),
    sa.Column('region', sa.String(length=6), nullable=True),
    sa.Column('location', Geometry(geometry_type='POINT', srid=4326, dimension=2, spatial_index=False, from_text='ST_GeomFromEWKT', name='geometry', nullable=False), nullable=False),
    sa.Column('request', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('verdict', sa.String(length=10), nullable=False),
    sa.Column('result', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('rule_set_version', sa.String(length=64), nullable=False),
    sa.Column('actor', sa.Text(), server_default='cli', nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("verdict IN ('prohibited', 'review', 'allowed')", name=op.f('ck_screening_verdict_valid')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_screening'))
    )
    op.create_geospatial_table('premises',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('category', sa.Text(), nullable=False),
    sa.Column('licence_no', sa.Text(), nullable=False),
    sa.Column('name', sa.Text(), nullable=False),
    sa.Column('address', sa.Text(), nullable=True),
    sa.Column('operator', sa.Text(), nullable=True),
    sa.Column('region', sa.String(length=6), server_default='', nullable=False),
    sa.Column('location', Geometry(geometry_type='POINT', srid=4326, dimension=2, spatial_index=False, from_text='ST_GeomFromEWKT', name='geometry', nullable=False), nullable=False),
    sa.Column('entrance', Geometry(geometry_type='POINT', srid=4326, dimension=2, spatial_index=False, from_text='ST_GeomFromEWKT', name='geometry'), nullable=True),
    sa.Column('issued_on', sa.Date(), nullable=True),
    sa.Column('expires_on', sa.Date(), nullable=True),
    sa.Column('status', sa.String(length=10), server_default='active', nullable=False),
    sa.Column('source', sa.Text(), nullable=True),
    sa.Column('source_crs', sa.Text(), nullable=True),
    sa.Column('attributes', postgresql.JSONB(astext_type=sa.Text()), server_default='{}', nullable=False),
    sa.Column('import_id', sa.BigInteger(), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("category ~ '^[a-z][a-z0-9_]*$'", name=op.f('ck_premises_category_valid')),
    sa.CheckConstraint("region = '' OR region ~ '^[0-9]{2}([0-9]{2}){0,2}$'", name=op.f('ck_premises_region_valid')),
    sa.CheckConstraint("status IN ('applicant', 'active', 'suspended', 'revoked', 'closed')", name=op.f('ck_premises_status_valid')),
    sa.CheckConstraint('expires_on IS NULL OR issued_on IS NULL OR expires_on >= issued_on', name=op.f('ck_premises_dates_valid')),
    sa.ForeignKeyConstraint(['import_id'], ['import.id'], name=op.f('fk_premises_import_id_import'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_premises')),
    sa.UniqueConstraint('category', 'licence_no', 'region', name=op.f('uq_premises_category_licence_no_region'))
    )
    op.create_index('ix_premises_geog', 'premises', [sa.literal_column('(geography(location))')], unique=False, postgresql_using='gist')
    op.create_geospatial_index('ix_premises_location', 'premises', ['location'], unique=False, postgresql_using='gist', postgresql_ops={})
    op.create_index('ix_premises_region', 'premises', ['region'], unique=False)
    op.create_table('registry_history',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('entity', sa.String(length=16), nullable=False),
    sa.Column('entity_id', sa.BigInteger(), nullable=False),
    sa.Column('import_id', sa.BigInteger(), nullable=True),
    sa.Column('previous', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('changed_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("entity IN ('school', 'premises', 'school_gate')", name=op.f('ck_registry_history_entity_valid')),
    sa.ForeignKeyConstraint(['import_id'], ['import.id'], name=op.f('fk_registry_history_import_id_import'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_registry_history'))
    )
    op.create_index('ix_registry_history_entity', 'registry_history', ['entity', 'entity_id'], unique=False)
    op.create_table('rule',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('rule_set_id', sa.BigInteger(), nullable=False),
    sa.Column('rule_id', sa.Text(), nullable=False),
    sa.Column('jurisdiction', sa.String(length=6), nullable=False),
    sa.Column('category', sa.Text(), nullable=False),
    sa.Column('protects', postgresql.ARRAY(sa.Text()), nullable=False),
    sa.Column('distance_m', sa.Float(), nullable=True),
    sa.Column('metric', sa.String(length=8), nullable=False),
    sa.Column('existing', sa.String(length=10), nullable=False),
    sa.Column('min_enrolment', sa.Integer(), nullable=True),
    sa.Column('basis', sa.Text(), nullable=False),
    sa.Column('effective_from', sa.Date(), nullable=True),
    sa.Column('effective_to', sa.Date(), nullable=True),
    sa.Column('definition', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.CheckConstraint("existing IN ('violation', 'review', 'exempt')", name=op.f('ck_rule_existing_valid')),
    sa.CheckConstraint("metric IN ('boundary', 'gate', 'walking')", name=op.f('ck_rule_metric_valid')),
    sa.ForeignKeyConstraint(['rule_set_id'], ['rule_set.id'], name=op.f('fk_rule_rule_set_id_rule_set'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_rule'))
    )
    op.create_index('ix_rule_rule_set_id_rule_id', 'rule', ['rule_set_id', 'rule_id'], unique=True)
    op.create_geospatial_table('school',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('code', sa.Text(), nullable=False),
    sa.Column('name', sa.Text(), nullable=False),
    sa.Column('levels', postgresql.ARRAY(sa.Text()), nullable=False),
    sa.Column('enrolment', sa.Integer(), nullable=True),
    sa.Column('region', sa.String(length=6), nullable=True),
    sa.Column('address', sa.Text(), nullable=True),
    sa.Column('boundary', Geometry(geometry_type='MULTIPOLYGON', srid=4326, dimension=2, spatial_index=False, from_text='ST_GeomFromEWKT', name='geometry'), nullable=True),
    sa.Column('location', Geometry(geometry_type='POINT', srid=4326, dimension=2, spatial_index=False, from_text='ST_GeomFromEWKT', name='geometry', nullable=False), nullable=False),
    sa.Column('precision', sa.String(length=8), nullable=False),
    sa.Column('opened_on', sa.Date(), nullable=True),
    sa.Column('closed_on', sa.Date(), nullable=True),
    sa.Column('source', sa.Text(), nullable=True),
    sa.Column('attributes', postgresql.JSONB(astext_type=sa.Text()), server_default='{}', nullable=False),
    sa.Column('import_id', sa.BigInteger(), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("(precision = 'boundary') = (boundary IS NOT NULL)", name=op.f('ck_school_precision_matches')),
    sa.CheckConstraint("levels <@ ARRAY['kindergarten', 'primary', 'secondary', 'vocational', 'special', 'higher']::text[] AND cardinality(levels) > 0", name=op.f('ck_school_levels_valid')),
    sa.CheckConstraint("precision IN ('boundary', 'point')", name=op.f('ck_school_precision_valid')),
    sa.CheckConstraint("region IS NULL OR region ~ '^[0-9]{2}([0-9]{2}){0,2}$'", name=op.f('ck_school_region_valid')),
    sa.CheckConstraint('closed_on IS NULL OR opened_on IS NULL OR closed_on >= opened_on', name=op.f('ck_school_dates_valid')),
    sa.CheckConstraint('enrolment IS NULL OR enrolment >= 0', name=op.f('ck_school_enrolment_valid')),
    sa.ForeignKeyConstraint(['import_id'], ['import.id'], name=op.f('fk_school_import_id_import'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_school')),
    sa.UniqueConstraint('code', name=op.f('uq_school_code'))
    )
    op.create_geospatial_index('ix_school_boundary', 'school', ['boundary'], unique=False, postgresql_using='gist', postgresql_ops={})
    op.create_index('ix_school_footprint_geog', 'school', [sa.literal_column('(geography(COALESCE(boundary, location)))')], unique=False, postgresql_using='gist')
    op.create_geospatial_index('ix_school_location', 'school', ['location'], unique=False, postgresql_using='gist', postgresql_ops={})
    op.create_index('ix_school_region', 'school', ['region'], unique=False)
    op.create_geospatial_table('finding',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('school_id', sa.BigInteger(), nullable=False),
    sa.Column('premises_id', sa.BigInteger(), nullable=False),
    sa.Column('rule_id', sa.Text(), nullable=False),
    sa.Column('metric', sa.String(length=8), nullable=False),
    sa.Column('distance_m', sa.Float(), nullable=True),
    sa.Column('threshold_m', sa.Float(), nullable=True),
    sa.Column('verdict', sa.String(length=10), nullable=False),
    sa.Column('reasons', postgresql.JSONB(astext_type=sa.Text()), server_default='[]', nullable=False),
    sa.Column('line', Geometry(geometry_type='LINESTRING', srid=4326, dimension=2, spatial_index=False, from_text='ST_GeomFromEWKT', name='geometry'), nullable=True),
    sa.Column('state', sa.String(length=16), server_default='open', nullable=False),
    sa.Column('resolution', sa.Text(), nullable=True),
    sa.Column('assignee', sa.Text(), nullable=True),
    sa.Column('deadline', sa.Date(), nullable=True),
    sa.Column('rule_set_version', sa.String(length=64), nullable=True),
    sa.Column('first_scan_id', sa.BigInteger(), nullable=True),
    sa.Column('last_scan_id', sa.BigInteger(), nullable=True),
    sa.Column('first_seen', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('last_seen', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('resolved_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("metric IN ('boundary', 'gate', 'walking')", name=op.f('ck_finding_metric_valid')),
    sa.CheckConstraint("state IN ('open', 'assigned', 'rectifying', 'rectified', 'verified_closed', 'exempted', 'resolved')", name=op.f('ck_finding_state_valid')),
    sa.CheckConstraint("verdict IN ('prohibited', 'review', 'allowed')", name=op.f('ck_finding_verdict_valid')),
    sa.CheckConstraint('distance_m IS NULL OR distance_m >= 0', name=op.f('ck_finding_distance_valid')),
    sa.ForeignKeyConstraint(['first_scan_id'], ['scan.id'], name=op.f('fk_finding_first_scan_id_scan'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['last_scan_id'], ['scan.id'], name=op.f('fk_finding_last_scan_id_scan'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['premises_id'], ['premises.id'], name=op.f('fk_finding_premises_id_premises'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['school_id'], ['school.id'], name=op.f('fk_finding_school_id_school'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_finding')),
    sa.UniqueConstraint('school_id', 'premises_id', 'rule_id', name=op.f('uq_finding_school_id_premises_id_rule_id'))
    )
    op.create_geospatial_index('ix_finding_line', 'finding', ['line'], unique=False, postgresql_using='gist', postgresql_ops={})
    op.create_index('ix_finding_premises_id', 'finding', ['premises_id'], unique=False)
    op.create_index('ix_finding_state', 'finding', ['state'], unique=False)
    op.create_geospatial_table('school_gate',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('school_id', sa.BigInteger(), nullable=False),
    sa.Column('kind', sa.String(length=8), server_default='main', nullable=False),
    sa.Column('name', sa.Text(), nullable=True),
    sa.Column('location', Geometry(geometry_type='POINT', srid=4326, dimension=2, spatial_index=False, from_text='ST_GeomFromEWKT', name='geometry', nullable=False), nullable=False),
    sa.Column('source', sa.Text(), nullable=True),
    sa.Column('import_id', sa.BigInteger(), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("kind IN ('main', 'side', 'back', 'other')", name=op.f('ck_school_gate_kind_valid')),
    sa.ForeignKeyConstraint(['import_id'], ['import.id'], name=op.f('fk_school_gate_import_id_import'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['school_id'], ['school.id'], name=op.f('fk_school_gate_school_id_school'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_school_gate'))
    )
    op.create_index('ix_school_gate_geog', 'school_gate', [sa.literal_column('(geography(location))')], unique=False, postgresql_using='gist')
    op.create_index('ix_school_gate_school_id', 'school_gate', ['school_id'], unique=False)
    op.create_table('finding_event',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('finding_id', sa.BigInteger(), nullable=False),
    sa.Column('actor', sa.Text(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('from_state', sa.String(length=16), nullable=True),
    sa.Column('to_state', sa.String(length=16), nullable=False),
    sa.Column('comment', sa.Text(), nullable=True),
    sa.Column('evidence', sa.Text(), nullable=True),
    sa.Column('assignee', sa.Text(), nullable=True),
    sa.Column('deadline', sa.Date(), nullable=True),
    sa.Column('scan_id', sa.BigInteger(), nullable=True),
    sa.Column('distance_m', sa.Float(), nullable=True),
    sa.CheckConstraint("to_state IN ('open', 'assigned', 'rectifying', 'rectified', 'verified_closed', 'exempted', 'resolved')", name=op.f('ck_finding_event_to_state_valid')),
    sa.ForeignKeyConstraint(['finding_id'], ['finding.id'], name=op.f('fk_finding_event_finding_id_finding'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['scan_id'], ['scan.id'], name=op.f('fk_finding_event_scan_id_scan'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_finding_event'))
    )
    op.create_index(op.f('ix_finding_event_finding_id'), 'finding_event', ['finding_id'], unique=False)
    op.execute(read_sql("functions.sql"))


def downgrade() -> None:
    for fn in ("zg_distance_m(geometry, geometry)", "zg_nearest_point(geometry, geometry)",
               "zg_utm_srid(geometry)"):
        op.execute(f"DROP FUNCTION IF EXISTS {fn}")
    op.drop_index(op.f('ix_finding_event_finding_id'), table_name='finding_event')
    op.drop_table('finding_event')
    op.drop_index('ix_school_gate_school_id', table_name='school_gate')
    op.drop_index('ix_school_gate_geog', table_name='school_gate', postgresql_using='gist')
    op.drop_geospatial_table('school_gate')
    op.drop_index('ix_finding_state', table_name='finding')
    op.drop_index('ix_finding_premises_id', table_name='finding')
    op.drop_geospatial_index('ix_finding_line', table_name='finding', postgresql_using='gist', column_name='line')
    op.drop_geospatial_table('finding')
    op.drop_index('ix_school_region', table_name='school')
    op.drop_geospatial_index('ix_school_location', table_name='school', postgresql_using='gist', column_name='location')
    op.drop_index('ix_school_footprint_geog', table_name='school', postgresql_using='gist')
    op.drop_geospatial_index('ix_school_boundary', table_name='school', postgresql_using='gist', column_name='boundary')
    op.drop_geospatial_table('school')
    op.drop_index('ix_rule_rule_set_id_rule_id', table_name='rule')
    op.drop_table('rule')
    op.drop_index('ix_registry_history_entity', table_name='registry_history')
    op.drop_table('registry_history')
    op.drop_index('ix_premises_region', table_name='premises')
    op.drop_geospatial_index('ix_premises_location', table_name='premises', postgresql_using='gist', column_name='location')
    op.drop_index('ix_premises_geog', table_name='premises', postgresql_using='gist')
    op.drop_geospatial_table('premises')
    op.drop_geospatial_table('screening')
    op.drop_table('scan')
    op.drop_table('rule_set')
    op.drop_table('import')
    op.drop_index('ix_audit_log_entity', table_name='audit_log')
    op.drop_table('audit_log')
    op.drop_table('api_key')
