"""import speed: premises keep their import id without a foreign key

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23

A bulk COPY into premises checked the foreign key row by row (a trigger per row). Imports
are never deleted, so `premises.import_id` keeps its provenance as a plain column.
"""
from alembic import op

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_constraint('fk_premises_import_id_import', 'premises', type_='foreignkey')


def downgrade() -> None:
    op.create_foreign_key('fk_premises_import_id_import', 'premises', 'import', ['import_id'],
                          ['id'], ondelete='SET NULL')
