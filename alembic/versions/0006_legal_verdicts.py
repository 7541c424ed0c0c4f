"""legal verdicts: findings of lawfully licensed existing premises (存量)

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03

A finding whose premises was licensed before the school opened or before its rule took
effect, under a rule that keeps such premises until their licence expires, is 存量: not a
violation to rectify but an entry of the expiry work list (到期不予延续).
"""
from alembic import op
import sqlalchemy as sa

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("finding", sa.Column("existing", sa.Boolean(), nullable=False,
                                       server_default=sa.false()))


def downgrade() -> None:
    op.drop_column("finding", "existing")
