"""Workbench accounts: hashing, validation, the `zoneguard users` commands."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import Engine, select, text
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from zoneguard.cli.main import app
from zoneguard.errors import Conflict, ValidationError
from zoneguard.models import User
from zoneguard.services.access.users import check_password, create_user

PASSWORD = "a long passphrase 1"


def test_password_is_stored_as_argon2id_and_checked(session: Session) -> None:
    info = create_user(session, username="Zhao.Liu", password=PASSWORD, role="governance",
                       display_name="赵六")
    stored = session.scalar(select(User.password_hash).where(User.id == info.id))
    assert stored is not None and stored.startswith("$argon2id$") and PASSWORD not in stored
    assert info.username == "zhao.liu" and info.principal.actor == "user:赵六(zhao.liu)"
    assert check_password(session, "ZHAO.LIU", PASSWORD) == info
    assert check_password(session, "zhao.liu", PASSWORD + "x") is None
    assert info.principal.scope.unrestricted


def test_bad_accounts_are_refused(session: Session) -> None:
    create_user(session, username="a1", password=PASSWORD, role="viewer")
    with pytest.raises(Conflict):
        create_user(session, username="A1", password=PASSWORD, role="viewer")
    for kwargs, match in (({"username": "x"}, "用户名"),
                          ({"password": "short"}, "至少"),
                          ({"password": "aaaaaaaaaaaaa"}, "过于简单"),
                          ({"role": "root"}, "未知的角色"),
                          ({"role": "bureau"}, "categories")):
        args = {"username": "b2", "password": PASSWORD, "role": "viewer", **kwargs}
        with pytest.raises(ValidationError, match=match):
            create_user(session, **args)  # type: ignore[arg-type]
    bureau = create_user(session, username="c3", password=PASSWORD, role="bureau",
                         categories=["tobacco"], region_prefix="4301")
    assert bureau.principal.scope.allows(category="tobacco", region="430102")
    assert not bureau.principal.scope.allows(category="lottery", region="430102")


def test_cli_creates_lists_resets_and_disables_users(engine: Engine) -> None:
    """Through the real CLI and database; the rows it commits are deleted afterwards."""
    runner = CliRunner()
    try:
        created = runner.invoke(app, ["users", "create", "cli_user", "--role", "bureau",
                                      "--categories", "tobacco,lottery", "--region", "4301",
                                      "--display-name", "测试员"], input=PASSWORD + "\n")
        assert created.exit_code == 0, created.output
        assert PASSWORD not in created.output
        listed = runner.invoke(app, ["users", "list", "--json"])
        (user,) = [u for u in json.loads(listed.stdout) if u["username"] == "cli_user"]
        assert user["display_name"] == "测试员" and user["categories"] == ["lottery", "tobacco"]
        assert "password" not in listed.stdout and "argon2" not in listed.stdout
        again = runner.invoke(app, ["users", "create", "cli_user", "--role", "viewer"],
                              input=PASSWORD + "\n")
        assert again.exit_code == 1 and "已存在" in again.output
        reset = runner.invoke(app, ["users", "reset-password", "cli_user"],
                              input="another passphrase 2\n")
        assert reset.exit_code == 0, reset.output
        with Session(engine) as check:
            assert check_password(check, "cli_user", "another passphrase 2") is not None
            assert check_password(check, "cli_user", PASSWORD) is None
        disabled = runner.invoke(app, ["users", "disable", "cli_user"])
        assert disabled.exit_code == 0
        with Session(engine) as check:
            assert check_password(check, "cli_user", "another passphrase 2") is None
        empty = runner.invoke(app, ["users", "create", "cli_user2", "--role", "viewer"],
                              input="")
        assert empty.exit_code == 1 and "没有密码" in empty.output
    finally:
        with engine.begin() as conn:
            conn.execute(text("DELETE FROM audit_log WHERE entity = 'user' AND entity_id IN "
                              "(SELECT CAST(id AS text) FROM users WHERE username = 'cli_user')"))
            conn.execute(text("DELETE FROM users WHERE username = 'cli_user'"))
