"""Database errors are translated once (zoneguard.db.errors): the CLI and the API say the same."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
import typer
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from api.errors import install_error_handlers
from tests.scratchdb import cli_environment
from zoneguard.cli.common import handle_errors
from zoneguard.cli.main import app as cli_app
from zoneguard.db.errors import translate
from zoneguard.errors import Conflict, NotFound, ValidationError

SCHOOL = ("INSERT INTO school (code, name, levels, location, precision) VALUES "
          "(:code, 'd', ARRAY[:level], ST_SetSRID(ST_MakePoint(114, 30), 4326), 'point')")


def _failure(session: Session, sql: str, **params: object) -> DBAPIError:
    nested = session.begin_nested()
    try:
        session.execute(text(sql), params)
    except DBAPIError as exc:
        nested.rollback()
        return exc
    raise AssertionError("the statement did not fail")


def test_each_violation_becomes_a_chinese_domain_error_naming_the_thing(session: Session) -> None:
    session.execute(text(SCHOOL), {"code": "DUP-1", "level": "primary"})
    unique = translate(_failure(session, SCHOOL, code="DUP-1", level="primary"))
    assert isinstance(unique, Conflict) and unique.detail == "学校已存在（编号：DUP-1）"
    foreign = translate(_failure(session, "INSERT INTO school_gate (school_id, location) VALUES "
                                 "(987654321, ST_SetSRID(ST_MakePoint(114, 30), 4326))"))
    assert isinstance(foreign, NotFound)
    assert foreign.detail == "学校出入口引用的记录不存在（学校：987654321）"
    check = translate(_failure(session, SCHOOL, code="C-1", level="nursery"))
    assert isinstance(check, ValidationError)
    assert check.detail == "学校的数据不符合约束 ck_school_levels_valid"


def test_the_cli_and_the_api_give_the_same_message_for_one_duplicate(session: Session) -> None:
    session.execute(text(SCHOOL), {"code": "DUP-2", "level": "primary"})
    error = _failure(session, SCHOOL, code="DUP-2", level="primary")
    expected = "学校已存在（编号：DUP-2）"

    @handle_errors
    def create() -> None:
        raise error

    command = typer.Typer()
    command.command()(create)
    shown = CliRunner().invoke(command, [])
    assert shown.exit_code == 1 and shown.exception is not None
    assert isinstance(shown.exception, SystemExit)
    assert expected in shown.output and "Traceback" not in shown.output

    web = FastAPI()
    install_error_handlers(web)

    @web.post("/schools")
    def add() -> None:
        raise error

    answer = TestClient(web, raise_server_exceptions=False).post("/schools")
    assert answer.status_code == 409
    assert answer.headers["content-type"] == "application/problem+json"
    body = answer.json()
    assert body["detail"] == expected and body["type"] == Conflict.type
    assert "INSERT" not in answer.text and "uq_" not in answer.text


def _blocked_on_a_lock(engine: Engine) -> bool:
    with engine.connect() as conn:
        return bool(conn.scalar(text(
            "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
            "AND datname = current_database()")))


def test_a_user_created_twice_at_once_is_a_clean_cli_error(
        scratch: tuple[str, Engine], monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """The command's own check sees no such user; the racing insert commits first."""
    with cli_environment(scratch, monkeypatch, tmp_path) as engine:
        outcome: dict[str, object] = {}
        with engine.connect() as other:
            racing = other.begin()
            other.execute(text("INSERT INTO users (username, display_name, password_hash, role) "
                               "VALUES ('racer', 'racer', 'x', 'viewer')"))

            def run() -> None:
                outcome["result"] = CliRunner().invoke(
                    cli_app, ["users", "create", "racer", "--role", "viewer"],
                    input="Str0ng-Passw0rd-x\n")

            worker = threading.Thread(target=run)
            worker.start()
            deadline = time.monotonic() + 30
            while not _blocked_on_a_lock(engine) and time.monotonic() < deadline:
                time.sleep(0.05)
            racing.commit()
            worker.join(60)
        result = outcome["result"]
        assert result.exit_code == 1, result.output  # type: ignore[attr-defined]
        assert "用户已存在（用户名：racer）" in result.output  # type: ignore[attr-defined]
        assert "Traceback" not in result.output  # type: ignore[attr-defined]
        with engine.connect() as conn:
            assert conn.scalar(text("SELECT count(*) FROM users WHERE username = 'racer'")) == 1
