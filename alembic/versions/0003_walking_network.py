"""walking network

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23

pgRouting tables of the pedestrian street network (`network_vertex`, `network_edge`) that
walking distances are routed on, with GiST indexes for the box clip and the snap.
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from geoalchemy2 import Geometry

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None

_REGION = "region IS NULL OR region ~ '^[0-9]{2}([0-9]{2}){0,2}$'"


def upgrade() -> None:
    op.create_geospatial_table('network_vertex',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('geom', Geometry(geometry_type='POINT', srid=4326, dimension=2, spatial_index=False, from_text='ST_GeomFromEWKT', name='geometry', nullable=False), nullable=False),
    sa.Column('osm_node_id', sa.BigInteger(), nullable=True),
    sa.Column('barrier', sa.Text(), nullable=True),
    sa.Column('region', sa.String(length=6), nullable=True),
    sa.Column('import_id', sa.BigInteger(), nullable=True),
    sa.CheckConstraint(_REGION, name=op.f('ck_network_vertex_region_valid')),
    sa.ForeignKeyConstraint(['import_id'], ['import.id'], name=op.f('fk_network_vertex_import_id_import'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_network_vertex'))
    )
    op.create_geospatial_index('ix_network_vertex_geom', 'network_vertex', ['geom'], unique=False, postgresql_using='gist', postgresql_ops={})
    op.create_index('ix_network_vertex_region', 'network_vertex', ['region'], unique=False)
    op.create_geospatial_table('network_edge',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('source', sa.BigInteger(), nullable=False),
    sa.Column('target', sa.BigInteger(), nullable=False),
    sa.Column('cost', sa.Double(), nullable=False),
    sa.Column('reverse_cost', sa.Double(), nullable=False),
    sa.Column('length_m', sa.Double(), nullable=False),
    sa.Column('geom', Geometry(geometry_type='LINESTRING', srid=4326, dimension=2, spatial_index=False, from_text='ST_GeomFromEWKT', name='geometry', nullable=False), nullable=False),
    sa.Column('tags', postgresql.JSONB(astext_type=sa.Text()), server_default='{}', nullable=False),
    sa.Column('way_ref', sa.Text(), nullable=True),
    sa.Column('region', sa.String(length=6), nullable=True),
    sa.Column('import_id', sa.BigInteger(), nullable=True),
    sa.CheckConstraint(_REGION, name=op.f('ck_network_edge_region_valid')),
    sa.CheckConstraint('length_m > 0 AND cost > 0', name=op.f('ck_network_edge_length_positive')),
    sa.ForeignKeyConstraint(['import_id'], ['import.id'], name=op.f('fk_network_edge_import_id_import'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['source'], ['network_vertex.id'], name=op.f('fk_network_edge_source_network_vertex'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['target'], ['network_vertex.id'], name=op.f('fk_network_edge_target_network_vertex'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_network_edge'))
    )
    op.create_geospatial_index('ix_network_edge_geom', 'network_edge', ['geom'], unique=False, postgresql_using='gist', postgresql_ops={})
    op.create_index('ix_network_edge_geog', 'network_edge', [sa.literal_column('(geography(geom))')], unique=False, postgresql_using='gist')
    op.create_index('ix_network_edge_region', 'network_edge', ['region'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_network_edge_region', table_name='network_edge')
    op.drop_index('ix_network_edge_geog', table_name='network_edge', postgresql_using='gist')
    op.drop_geospatial_index('ix_network_edge_geom', table_name='network_edge', postgresql_using='gist', column_name='geom')
    op.drop_geospatial_table('network_edge')
    op.drop_index('ix_network_vertex_region', table_name='network_vertex')
    op.drop_geospatial_index('ix_network_vertex_geom', table_name='network_vertex', postgresql_using='gist', column_name='geom')
    op.drop_geospatial_table('network_vertex')
