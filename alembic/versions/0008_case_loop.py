"""case loop: 上报, 待验收 apart from 已验收 and 已销号, approved closings, 督办, evidence,
field measurements, hand-registered problems, 反弹 and the grid and school roles

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03

Existing findings keep their history; their states (and those of their events) become:
open → found (发现), assigned → assigned (已交办), rectifying → rectifying (整改中),
rectified → to_accept (待验收), verified_closed → closed (已销号: verification and closing
were one step), exempted → by its recorded reason: grandfathered → retained (依法保留),
field_measurement → unfounded (核查不属实), rule_exception → special (经批准的特殊情形),
resolved → resolved (自动解除). The audit log is left as it was written.
"""
from alembic import op
import sqlalchemy as sa
from geoalchemy2 import Geometry
from sqlalchemy.dialects import postgresql

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

NEW = ("found", "reported", "assigned", "rectifying", "to_accept", "accepted", "closed",
       "proposed", "unfounded", "retained", "special", "resolved")
OLD = ("open", "assigned", "rectifying", "rectified", "verified_closed", "exempted", "resolved")
ACTIVE = ("found", "reported", "assigned", "rectifying", "to_accept", "proposed")
ROLES_NEW = ("admin", "governance", "bureau", "viewer", "grid", "school")
ROLES_OLD = ("admin", "governance", "bureau", "viewer")
_MAP = """CASE {c} WHEN 'open' THEN 'found' WHEN 'rectified' THEN 'to_accept'
    WHEN 'verified_closed' THEN 'closed'
    WHEN 'exempted' THEN CASE
        WHEN {r} LIKE 'grandfathered%' THEN 'retained'
        WHEN {r} LIKE 'field_measurement%' THEN 'unfounded' ELSE 'special' END
    ELSE {c} END"""
_BACK = """CASE {c} WHEN 'found' THEN 'open' WHEN 'reported' THEN 'open'
    WHEN 'to_accept' THEN 'rectified' WHEN 'proposed' THEN 'rectifying'
    WHEN 'accepted' THEN 'verified_closed' WHEN 'closed' THEN 'verified_closed'
    WHEN 'unfounded' THEN 'exempted' WHEN 'retained' THEN 'exempted'
    WHEN 'special' THEN 'exempted' ELSE {c} END"""


def _in(values: tuple[str, ...]) -> str:
    return "(" + ", ".join(f"'{v}'" for v in values) + ")"


def _finding_seen(active: tuple[str, ...]) -> str:
    return f"""
CREATE OR REPLACE FUNCTION zg_finding_seen(state text, last_seen timestamptz,
                                           last_scan_id bigint, premises_id bigint)
RETURNS timestamptz LANGUAGE sql STABLE PARALLEL SAFE AS $$
  SELECT CASE WHEN state IN {_in(active)} THEN
    GREATEST(last_seen, (
      SELECT max(sc.finished_at) FROM scan sc JOIN premises p ON p.id = premises_id
      WHERE sc.status = 'succeeded' AND sc.id > last_scan_id
        AND (sc.region IS NULL OR p.region LIKE sc.region || '%')))
  ELSE last_seen END
$$
"""


def _states(values: tuple[str, ...]) -> None:
    op.create_check_constraint(op.f("ck_finding_state_valid"), "finding", f"state IN {_in(values)}")
    op.create_check_constraint(op.f("ck_finding_event_to_state_valid"), "finding_event",
                               f"to_state IN {_in(values)}")


def _drop_state_checks() -> None:
    op.drop_constraint(op.f("ck_finding_state_valid"), "finding", type_="check")
    op.drop_constraint(op.f("ck_finding_event_to_state_valid"), "finding_event", type_="check")


def upgrade() -> None:
    _drop_state_checks()
    op.execute("UPDATE finding SET state = " + _MAP.format(c="state", r="resolution"))
    op.execute("UPDATE finding_event e SET to_state = "
               + _MAP.format(c="e.to_state", r="COALESCE(e.comment, '')").replace(
                   "LIKE '", "LIKE '[").replace("%'", "]%'")
               + ", from_state = CASE WHEN e.from_state IS NULL THEN NULL ELSE "
               + _MAP.format(c="e.from_state", r="''") + " END")
    _states(NEW)
    op.alter_column("finding", "state", server_default="found")
    op.alter_column("finding", "premises_id", nullable=True)
    for column in (
        sa.Column("kind", sa.String(8), nullable=False, server_default="scan"),
        sa.Column("step_due", sa.Date()),
        sa.Column("rebound", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("review_on", sa.Date()),
        sa.Column("rectified_by", sa.Text()),
        sa.Column("proposed_by", sa.Text()),
        sa.Column("proposed_closing", sa.String(16)),
        sa.Column("proposed_from", sa.String(16)),
        sa.Column("field_distance_m", sa.Float()),
        sa.Column("field_verdict", sa.String(10)),
        sa.Column("problem_category", sa.Text()),
        sa.Column("description", sa.Text()),
        sa.Column("reported_by", sa.Text()),
        sa.Column("location", Geometry("POINT", srid=4326, spatial_index=False)),
    ):
        op.add_column("finding", column)
    op.create_check_constraint(op.f("ck_finding_kind_valid"), "finding", "kind IN ('scan', 'report')")
    op.create_check_constraint(op.f("ck_finding_premises_given"), "finding",
                               "kind = 'report' OR premises_id IS NOT NULL")
    op.create_check_constraint(op.f("ck_finding_field_verdict_valid"), "finding",
                               "field_verdict IS NULL OR field_verdict IN "
                               "('prohibited', 'review', 'allowed')")
    # The step of every open case starts today: nothing is overdue the day this ships.
    op.execute(f"UPDATE finding SET step_due = COALESCE(deadline, current_date + 5) "
               f"WHERE state IN {_in(ACTIVE)}")
    op.execute(_finding_seen(ACTIVE))

    op.create_table(
        "evidence",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("finding_id", sa.BigInteger(), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("size_bytes", sa.BigInteger(), nullable=False),
        sa.Column("media_type", sa.String(32), nullable=False),
        sa.Column("filename", sa.Text(), nullable=False),
        sa.Column("note", sa.Text()),
        sa.Column("uploaded_by", sa.Text(), nullable=False),
        sa.Column("uploaded_at", sa.DateTime(timezone=True), server_default=sa.text("now()"),
                  nullable=False),
        sa.CheckConstraint("size_bytes > 0", name=op.f("ck_evidence_size_positive")),
        sa.ForeignKeyConstraint(["finding_id"], ["finding.id"],
                                name=op.f("fk_evidence_finding_id_finding"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_evidence")),
    )
    op.create_index(op.f("ix_evidence_finding_id"), "evidence", ["finding_id"])
    op.create_table(
        "field_measurement",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("finding_id", sa.BigInteger(), nullable=False),
        sa.Column("distance_m", sa.Float(), nullable=False),
        sa.Column("method", sa.Text(), nullable=False),
        sa.Column("instrument", sa.Text(), nullable=False),
        sa.Column("measurers", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("measured_on", sa.Date(), nullable=False),
        sa.Column("evidence_id", sa.BigInteger()),
        sa.Column("verdict", sa.String(10), nullable=False),
        sa.Column("recorded_by", sa.Text(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), server_default=sa.text("now()"),
                  nullable=False),
        sa.CheckConstraint("distance_m >= 0", name=op.f("ck_field_measurement_distance_valid")),
        sa.CheckConstraint("verdict IN ('prohibited', 'review', 'allowed')",
                           name=op.f("ck_field_measurement_verdict_valid")),
        sa.ForeignKeyConstraint(["finding_id"], ["finding.id"],
                                name=op.f("fk_field_measurement_finding_id_finding"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["evidence_id"], ["evidence.id"],
                                name=op.f("fk_field_measurement_evidence_id_evidence"),
                                ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_field_measurement")),
    )
    op.create_index(op.f("ix_field_measurement_finding_id"), "field_measurement", ["finding_id"])
    op.create_table(
        "supervision_order",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("finding_id", sa.BigInteger(), nullable=False),
        sa.Column("number", sa.Text(), nullable=False),
        sa.Column("office", sa.Text(), nullable=False),
        sa.Column("issued_on", sa.Date(), nullable=False),
        sa.Column("deadline", sa.Date(), nullable=False),
        sa.Column("requirements", sa.Text(), nullable=False),
        sa.Column("issued_by", sa.Text(), nullable=False),
        sa.Column("lifted_on", sa.Date()),
        sa.Column("lifted_by", sa.Text()),
        sa.ForeignKeyConstraint(["finding_id"], ["finding.id"],
                                name=op.f("fk_supervision_order_finding_id_finding"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_supervision_order")),
        sa.UniqueConstraint("number", name=op.f("uq_supervision_order_number")),
    )
    op.create_index(op.f("ix_supervision_order_finding_id"), "supervision_order",
                    ["finding_id"])
    op.create_table(
        "interview",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("finding_id", sa.BigInteger()),
        sa.Column("unit", sa.Text(), nullable=False),
        sa.Column("held_on", sa.Date(), nullable=False),
        sa.Column("participants", sa.Text(), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("recorded_by", sa.Text(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), server_default=sa.text("now()"),
                  nullable=False),
        sa.ForeignKeyConstraint(["finding_id"], ["finding.id"],
                                name=op.f("fk_interview_finding_id_finding"),
                                ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_interview")),
    )
    op.create_index(op.f("ix_interview_finding_id"), "interview", ["finding_id"])
    op.drop_constraint(op.f("ck_api_key_role_valid"), "api_key", type_="check")
    op.create_check_constraint(op.f("ck_api_key_role_valid"), "api_key", f"role IN {_in(ROLES_NEW)}")


def downgrade() -> None:
    op.drop_constraint(op.f("ck_api_key_role_valid"), "api_key", type_="check")
    op.execute(f"UPDATE api_key SET role = 'viewer' WHERE role NOT IN {_in(ROLES_OLD)}")
    op.create_check_constraint(op.f("ck_api_key_role_valid"), "api_key", f"role IN {_in(ROLES_OLD)}")
    for table in ("interview", "supervision_order", "field_measurement", "evidence"):
        op.drop_table(table)
    op.execute("DELETE FROM finding WHERE kind = 'report'")
    for name in ("kind_valid", "premises_given", "field_verdict_valid"):
        op.drop_constraint(op.f(f"ck_finding_{name}"), "finding", type_="check")
    for column in ("kind", "step_due", "rebound", "review_on", "rectified_by", "proposed_by",
                   "proposed_closing", "proposed_from", "field_distance_m", "field_verdict",
                   "problem_category", "description", "reported_by", "location"):
        op.drop_column("finding", column)
    op.alter_column("finding", "premises_id", nullable=False)
    _drop_state_checks()
    op.execute("UPDATE finding SET state = " + _BACK.format(c="state"))
    op.execute("UPDATE finding_event SET to_state = " + _BACK.format(c="to_state")
               + ", from_state = " + _BACK.format(c="from_state"))
    op.alter_column("finding", "state", server_default="open")
    _states(OLD)
    op.execute(_finding_seen(("open", "assigned", "rectifying", "rectified")))
