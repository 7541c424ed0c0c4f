"""The schema: migrations and models agree; constraints protect the data; GiST indexes exist."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from zoneguard.db.migrate import head_revision, is_current
from zoneguard.models import Base

SCHOOL = ("INSERT INTO school (code, name, levels, location, precision) VALUES "
          "(:code, 'x', :levels, ST_SetSRID(ST_MakePoint(114, 30.5), 4326), 'point')")


def _include(obj, name, type_, reflected, compare_to):  # type: ignore[no-untyped-def]
    return not (type_ == "table" and name == "spatial_ref_sys")


def test_models_and_migrations_agree(engine: Engine) -> None:
    assert is_current(engine) and head_revision() is not None
    with engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"include_object": _include,
                                                     "compare_type": True})
        diff = compare_metadata(ctx, Base.metadata)
    assert diff == []


def test_every_searched_geometry_has_a_gist_index(session: Session) -> None:
    rows = session.execute(text(
        "SELECT indexname, indexdef FROM pg_indexes WHERE indexdef ILIKE '%USING gist%'"
    )).all()
    defs = dict(rows)
    for name in ("ix_school_footprint_geog", "ix_school_boundary", "ix_premises_geog",
                 "ix_school_gate_geog", "ix_premises_location"):
        assert name in defs
    assert "geography" in defs["ix_school_footprint_geog"]


def test_unknown_level_is_refused(session: Session) -> None:
    with pytest.raises(IntegrityError, match="levels_valid"):
        session.execute(text(SCHOOL), {"code": "s1", "levels": ["primary", "college"]})


def test_duplicate_licence_in_category_and_region_is_refused(session: Session) -> None:
    insert = text("INSERT INTO premises (category, licence_no, name, region, location) VALUES "
                  "('tobacco', 'L1', 'a', '4301', ST_SetSRID(ST_MakePoint(113, 28), 4326))")
    session.execute(insert)
    with pytest.raises(IntegrityError, match="uq_premises_category_licence_no_region"):
        session.execute(insert)


def test_precision_must_match_the_geometry(session: Session) -> None:
    with pytest.raises(IntegrityError, match="precision_matches"):
        session.execute(text(SCHOOL.replace("'point'", "'boundary'")),
                        {"code": "s2", "levels": ["primary"]})


def test_postgis_and_pgrouting_are_installed(session: Session) -> None:
    names = set(session.execute(text("SELECT extname FROM pg_extension")).scalars())
    assert {"postgis", "pgrouting"} <= names


def test_the_quick_head_check_agrees_with_alembic() -> None:
    from zoneguard.db.migrate import _script_head, head_revision

    assert _script_head() == head_revision()
