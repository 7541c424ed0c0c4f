"""school scope: a school key or person is bound to one school; users take the new roles

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03

`api_key.school_id` and `users.school_id` name the one school a `school` role is bound to
(its findings, its 200 m campus zone); no other role names a school. The users' role check
gains `grid` and `school` (0008 widened only the keys'). A `school` key or user created
before this revision has no school: it is revoked (disabled) and becomes a viewer.
"""
from alembic import op
import sqlalchemy as sa

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

ROLES_NEW = ("admin", "governance", "bureau", "viewer", "grid", "school")
ROLES_OLD = ("admin", "governance", "bureau", "viewer")
BOUND = "(role = 'school') = (school_id IS NOT NULL)"


def _in(values: tuple[str, ...]) -> str:
    return "(" + ", ".join(f"'{v}'" for v in values) + ")"


def upgrade() -> None:
    op.execute("UPDATE api_key SET role = 'viewer', revoked_at = COALESCE(revoked_at, now()) "
               "WHERE role = 'school'")
    op.execute("UPDATE users SET role = 'viewer', disabled_at = COALESCE(disabled_at, now()) "
               "WHERE role = 'school'")
    op.drop_constraint(op.f("ck_users_role_valid"), "users", type_="check")
    op.create_check_constraint(op.f("ck_users_role_valid"), "users", f"role IN {_in(ROLES_NEW)}")
    for table in ("api_key", "users"):
        op.add_column(table, sa.Column("school_id", sa.BigInteger(), nullable=True))
        op.create_foreign_key(op.f(f"fk_{table}_school_id_school"), table, "school",
                              ["school_id"], ["id"], ondelete="RESTRICT")
        op.create_check_constraint(op.f(f"ck_{table}_school_bound"), table, BOUND)


def downgrade() -> None:
    for table in ("api_key", "users"):
        op.drop_constraint(op.f(f"ck_{table}_school_bound"), table, type_="check")
        op.drop_constraint(op.f(f"fk_{table}_school_id_school"), table, type_="foreignkey")
        op.drop_column(table, "school_id")
    op.execute(f"UPDATE users SET role = 'viewer', disabled_at = COALESCE(disabled_at, now()) "
               f"WHERE role NOT IN {_in(ROLES_OLD)}")
    op.drop_constraint(op.f("ck_users_role_valid"), "users", type_="check")
    op.create_check_constraint(op.f("ck_users_role_valid"), "users", f"role IN {_in(ROLES_OLD)}")
