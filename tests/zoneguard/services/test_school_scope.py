"""School keys and people bound to one school; grid workers to a region; migration 0009."""

from __future__ import annotations

import json

import pytest
from shapely.geometry import Point
from sqlalchemy import Engine, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from alembic import command
from tests.factories import add_school
from tests.scratchdb import scratch_database
from zoneguard.cli.main import app
from zoneguard.db.migrate import alembic_config
from zoneguard.domain import Role
from zoneguard.errors import NotFound, ValidationError
from zoneguard.services.access.keys import Scope, create_key, scope_for, verify_key
from zoneguard.services.access.principal import key_principal
from zoneguard.services.access.users import create_user
from zoneguard.services.access.web_sessions import log_in, resolve
from zoneguard.settings import Settings

PASSWORD = "a long passphrase 1"


@pytest.fixture
def school(session: Session) -> int:
    return add_school(session, "S1", Point(114.0, 30.5), region="420102")


def test_a_school_key_is_bound_to_its_school(session: Session, school: int) -> None:
    new = create_key(session, role="school", name="甲小学", school="S1")
    info = verify_key(session, new.token)
    assert info.school_id == school and info.as_dict()["school_id"] == school
    scope = key_principal(info).scope
    assert scope == Scope(school_id=school) and not scope.unrestricted


def test_school_and_grid_scopes_are_checked(session: Session, school: int) -> None:  # noqa: ARG001
    cases = (({"role": "school"}, ValidationError, "学校角色须指定所属学校"),
             ({"role": "viewer", "school": "S1"}, ValidationError, "只有学校角色才能指定所属学校"),
             ({"role": "governance", "school": "S1"}, ValidationError,
              "综治办（governance）角色不能指定"),
             ({"role": "school", "school": "S1", "region_prefix": "42"}, ValidationError,
              "不能再指定 --region"),
             ({"role": "grid"}, ValidationError, "网格员角色须指定所辖区划"),
             ({"role": "school", "school": "NOPE"}, NotFound, "学校代码「NOPE」不存在"))
    for kwargs, error, match in cases:
        with pytest.raises(error, match=match):
            create_key(session, name="k", **kwargs)  # type: ignore[arg-type]
        with pytest.raises(error, match=match):
            create_user(session, username="u1", password=PASSWORD, **kwargs)  # type: ignore[arg-type]
    grid = create_key(session, role="grid", name="网格员", region_prefix="4201").info
    assert grid.scope == Scope(region_prefix="4201")


def test_scope_for_keeps_its_old_signature() -> None:
    assert scope_for(Role.VIEWER, None, "42") == Scope(region_prefix="42")
    assert scope_for(Role.SCHOOL, None, None, 7) == Scope(school_id=7)
    assert scope_for(Role.VIEWER, None, None, 7) == Scope()  # only a school role is bound
    assert scope_for(Role.GOVERNANCE, None, None, 7).unrestricted


def test_a_school_users_session_carries_its_school(session: Session, school: int,
                                                   settings: Settings) -> None:
    user = create_user(session, username="jia", password=PASSWORD, role="school",
                       school="S1", display_name="甲小学保卫处")
    assert user.school_id == school and user.principal.scope.school_id == school
    opened = log_in(session, username="jia", password=PASSWORD, client_ip="127.0.0.1",
                    settings=settings)
    found = resolve(session, opened.token, settings)
    assert found is not None and found.user.principal.scope == Scope(school_id=school)


def test_the_database_refuses_a_school_role_without_a_school(session: Session,
                                                             school: int) -> None:
    insert = text("INSERT INTO api_key (name, prefix, secret_hash, role, school_id) "
                  "VALUES ('x', :prefix, 'h', :role, :school)")
    with pytest.raises(IntegrityError, match="school_bound"), session.begin_nested():
        session.execute(insert, {"prefix": "p1", "role": "school", "school": None})
    with pytest.raises(IntegrityError, match="school_bound"), session.begin_nested():
        session.execute(insert, {"prefix": "p2", "role": "viewer", "school": school})
    with pytest.raises(IntegrityError, match="users_school_bound"), session.begin_nested():
        session.execute(text("INSERT INTO users (username, display_name, password_hash, role) "
                             "VALUES ('g', 'g', 'h', 'school')"))
    session.execute(text("INSERT INTO users (username, display_name, password_hash, role, "
                         "region_prefix) VALUES ('grid1', 'g', 'h', 'grid', '42')"))


def test_cli_binds_school_keys_and_users_and_refuses_misplaced_schools(engine: Engine) -> None:
    """Through the real CLI and database; the rows it commits are deleted afterwards."""
    runner = CliRunner()
    with engine.begin() as conn:
        school = conn.execute(text(
            "INSERT INTO school (code, name, levels, location, precision) VALUES ('CLI-S', "
            "'x', '{primary}', ST_SetSRID(ST_MakePoint(114, 30.5), 4326), 'point') "
            "RETURNING id")).scalar_one()
    try:
        made = runner.invoke(app, ["keys", "create", "--role", "school", "--school", "CLI-S",
                                   "--name", "cli school", "--json"])
        assert made.exit_code == 0, made.output
        assert json.loads(made.stdout)["school_id"] == school
        wrong = runner.invoke(app, ["keys", "create", "--role", "viewer", "--school", "CLI-S"])
        assert wrong.exit_code == 1 and "只有学校角色才能指定所属学校" in wrong.output
        missing = runner.invoke(app, ["keys", "create", "--role", "school"])
        assert missing.exit_code == 1 and "学校角色须指定所属学校" in missing.output
        user = runner.invoke(app, ["users", "create", "cli_school", "--role", "school",
                                   "--school", "CLI-S"], input=PASSWORD + "\n")
        assert user.exit_code == 0, user.output
        refused = runner.invoke(app, ["users", "create", "cli_grid", "--role", "grid",
                                      "--school", "CLI-S"], input=PASSWORD + "\n")
        assert refused.exit_code == 1 and "网格员（grid）角色不能指定" in refused.output
        with engine.connect() as conn:
            assert conn.execute(text("SELECT school_id FROM users WHERE username = "
                                     "'cli_school'")).scalar_one() == school
            assert conn.execute(text("SELECT count(*) FROM users WHERE username = "
                                     "'cli_grid'")).scalar_one() == 0
    finally:
        with engine.begin() as conn:
            conn.execute(text("DELETE FROM audit_log WHERE entity IN ('user', 'api_key') AND "
                              "(after ->> 'school_id') = :s"), {"s": str(school)})
            conn.execute(text("DELETE FROM api_key WHERE school_id = :s"), {"s": school})
            conn.execute(text("DELETE FROM users WHERE school_id = :s"), {"s": school})
            conn.execute(text("DELETE FROM school WHERE id = :s"), {"s": school})


def test_migration_0009_goes_down_and_up(engine: Engine, settings: Settings) -> None:
    with scratch_database(engine, settings) as (_, scratch):
        with scratch.begin() as conn:
            conn.execute(text("INSERT INTO users (username, display_name, password_hash, role,"
                              " region_prefix) VALUES ('grid1', 'g', 'h', 'grid', '42')"))
        config = alembic_config()
        with scratch.begin() as conn:
            config.attributes["connection"] = conn
            command.downgrade(config, "0008")
        with scratch.connect() as conn:
            role, disabled = conn.execute(text(
                "SELECT role, disabled_at IS NOT NULL FROM users")).one()
            assert (role, disabled) == ("viewer", True)  # no grid role before 0009
            assert conn.execute(text("SELECT count(*) FROM information_schema.columns "
                                     "WHERE column_name = 'school_id' AND table_name IN "
                                     "('users', 'api_key')")).scalar_one() == 0
        with scratch.begin() as conn:
            config.attributes["connection"] = conn
            command.upgrade(config, "head")
        with scratch.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM information_schema.columns "
                                     "WHERE column_name = 'school_id' AND table_name IN "
                                     "('users', 'api_key')")).scalar_one() == 2
