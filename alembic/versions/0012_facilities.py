"""facilities near schools, missing-facility findings and 双随机 inspections

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-03

`facility` holds 护学岗, 警务室, cameras (with direction and field of view) and the other
kinds of data/facility_kinds.yaml. A finding of kind 'facility' records a school that misses
a required facility (one per school and requirement). `inspection_draw` and `inspection`
keep the 双随机 draws: seed, parameters and population hash, so a draw can be repeated.
"""
from alembic import op
import geoalchemy2
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

REGION = "region IS NULL OR region ~ '^([0-9]{2}|[0-9]{4}|[0-9]{6}|[0-9]{9}|[0-9]{12})$'"


def upgrade() -> None:
    op.create_table(
        "facility",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("code", sa.Text(), nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("school_id", sa.BigInteger(), nullable=True),
        sa.Column("region", sa.String(length=12), nullable=True),
        sa.Column("location", geoalchemy2.types.Geometry(geometry_type="POINT", srid=4326,
                                                         spatial_index=False), nullable=False),
        sa.Column("direction_deg", sa.Float(), nullable=True),
        sa.Column("fov_deg", sa.Float(), nullable=True),
        sa.Column("status", sa.String(length=8), server_default="active", nullable=False),
        sa.Column("installed_on", sa.Date(), nullable=True),
        sa.Column("retired_on", sa.Date(), nullable=True),
        sa.Column("source", sa.Text(), nullable=True),
        sa.Column("attributes", postgresql.JSONB(astext_type=sa.Text()), server_default="{}",
                  nullable=False),
        sa.Column("import_id", sa.BigInteger(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"),
                  nullable=False),
        sa.CheckConstraint("kind ~ '^[a-z][a-z0-9_]*$'", name=op.f("ck_facility_kind_valid")),
        sa.CheckConstraint("status IN ('active', 'retired')",
                           name=op.f("ck_facility_status_valid")),
        sa.CheckConstraint(REGION, name=op.f("ck_facility_region_valid")),
        sa.CheckConstraint("direction_deg IS NULL OR (direction_deg >= 0 AND direction_deg < 360)",
                           name=op.f("ck_facility_direction_valid")),
        sa.CheckConstraint("fov_deg IS NULL OR (fov_deg > 0 AND fov_deg <= 360)",
                           name=op.f("ck_facility_fov_valid")),
        sa.ForeignKeyConstraint(["school_id"], ["school.id"], ondelete="SET NULL",
                                name=op.f("fk_facility_school_id_school")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_facility")),
        sa.UniqueConstraint("code", name=op.f("uq_facility_code")),
    )
    op.create_index("ix_facility_geog", "facility", [sa.text("(geography(location))")],
                    postgresql_using="gist")
    op.create_index("ix_facility_region", "facility", ["region"])
    op.create_index(op.f("ix_facility_school_id"), "facility", ["school_id"])

    op.create_table(
        "inspection_draw",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("seed", sa.BigInteger(), nullable=False),
        sa.Column("parameters", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("population_hash", sa.String(length=64), nullable=False),
        sa.Column("population_size", sa.Integer(), nullable=False),
        sa.Column("drawn_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inspection_draw")),
    )
    op.create_table(
        "inspection",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("draw_id", sa.BigInteger(), nullable=False),
        sa.Column("premises_id", sa.BigInteger(), nullable=False),
        sa.Column("school_id", sa.BigInteger(), nullable=True),
        sa.Column("stratum", sa.Text(), nullable=False),
        sa.Column("inspectors", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=8), server_default="pending", nullable=False),
        sa.Column("results", postgresql.JSONB(astext_type=sa.Text()), server_default="{}",
                  nullable=False),
        sa.Column("recorded_by", sa.Text(), nullable=True),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("status IN ('pending', 'passed', 'failed')",
                           name=op.f("ck_inspection_status_valid")),
        sa.ForeignKeyConstraint(["draw_id"], ["inspection_draw.id"], ondelete="CASCADE",
                                name=op.f("fk_inspection_draw_id_inspection_draw")),
        sa.ForeignKeyConstraint(["premises_id"], ["premises.id"], ondelete="CASCADE",
                                name=op.f("fk_inspection_premises_id_premises")),
        sa.ForeignKeyConstraint(["school_id"], ["school.id"], ondelete="SET NULL",
                                name=op.f("fk_inspection_school_id_school")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inspection")),
    )
    op.create_index(op.f("ix_inspection_draw_id"), "inspection", ["draw_id"])
    op.create_index(op.f("ix_inspection_premises_id"), "inspection", ["premises_id"])

    for name in ("kind_valid", "premises_given"):
        op.drop_constraint(op.f(f"ck_finding_{name}"), "finding", type_="check")
    op.create_check_constraint(op.f("ck_finding_kind_valid"), "finding",
                               "kind IN ('scan', 'report', 'facility')")
    op.create_check_constraint(op.f("ck_finding_premises_given"), "finding",
                               "kind IN ('report', 'facility') OR premises_id IS NOT NULL")
    op.create_index("ix_finding_facility", "finding", ["school_id", "rule_id"], unique=True,
                    postgresql_where=sa.text("kind = 'facility'"))
    op.drop_constraint(op.f("ck_import_kind_valid"), "import", type_="check")
    op.create_check_constraint(op.f("ck_import_kind_valid"), "import",
                               "kind IN ('schools', 'gates', 'premises', 'network', "
                               "'facilities')")


def downgrade() -> None:
    op.execute("DELETE FROM finding WHERE kind = 'facility'")
    op.execute("DELETE FROM import WHERE kind = 'facilities'")
    op.drop_constraint(op.f("ck_import_kind_valid"), "import", type_="check")
    op.create_check_constraint(op.f("ck_import_kind_valid"), "import",
                               "kind IN ('schools', 'gates', 'premises', 'network')")
    op.drop_index("ix_finding_facility", table_name="finding")
    for name in ("kind_valid", "premises_given"):
        op.drop_constraint(op.f(f"ck_finding_{name}"), "finding", type_="check")
    op.create_check_constraint(op.f("ck_finding_kind_valid"), "finding",
                               "kind IN ('scan', 'report')")
    op.create_check_constraint(op.f("ck_finding_premises_given"), "finding",
                               "kind = 'report' OR premises_id IS NOT NULL")
    op.drop_table("inspection")
    op.drop_table("inspection_draw")
    op.drop_table("facility")
