"""region codes of every level: 9-digit townships and 12-digit communities

Revision ID: 0011
Revises: 0009
Create Date: 2026-12-03

Region columns widen from 6 to 12 characters and their CHECKs accept 2, 4, 6 (GB/T 2260),
9 and 12 digits (统计用区划代码), so 街道 and 社区 can be named and scoped.
"""
from alembic import op
import sqlalchemy as sa

revision = "0011"
down_revision = "0009"
branch_labels = None
depends_on = None

NEW = "'^([0-9]{2}|[0-9]{4}|[0-9]{6}|[0-9]{9}|[0-9]{12})$'"
OLD = "'^[0-9]{2}([0-9]{2}){0,2}$'"
COLUMNS = (("school", "region"), ("premises", "region"), ("network_vertex", "region"),
           ("network_edge", "region"), ("api_key", "region_prefix"),
           ("users", "region_prefix"), ("screening", "region"), ("scan", "region"))
CHECKED = {"school": "region IS NULL OR region ~ {}",
           "premises": "region = '' OR region ~ {}",
           "network_vertex": "region IS NULL OR region ~ {}",
           "network_edge": "region IS NULL OR region ~ {}"}


def _checks(pattern: str) -> None:
    for table, expression in CHECKED.items():
        op.drop_constraint(op.f(f"ck_{table}_region_valid"), table, type_="check")
        op.create_check_constraint(op.f(f"ck_{table}_region_valid"), table,
                                   expression.format(pattern))


def upgrade() -> None:
    for table, column in COLUMNS:
        op.alter_column(table, column, type_=sa.String(12), existing_type=sa.String(6))
    _checks(NEW)


def downgrade() -> None:
    for table, column in COLUMNS:
        op.execute(f"UPDATE {table} SET {column} = left({column}, 6) "
                   f"WHERE length({column}) > 6")
    _checks(OLD)
    for table, column in COLUMNS:
        op.alter_column(table, column, type_=sa.String(6), existing_type=sa.String(12))
