"""API keys: hashed storage, verification, revocation, roles and scopes."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import Engine, select, text
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from zoneguard.cli.main import app
from zoneguard.domain import Role
from zoneguard.errors import NotFound, Unauthorized, ValidationError
from zoneguard.models import ApiKey, AuditLog
from zoneguard.services.access.keys import Scope, create_key, list_keys, revoke_key, verify_key


def test_created_key_verifies_and_only_its_hash_is_stored(session: Session) -> None:
    new = create_key(session, role="viewer", name="map desk")
    assert new.token.startswith(f"zg_{new.info.prefix}_")
    assert verify_key(session, new.token).id == new.info.id
    secret = new.token.split("_", 2)[2]
    row = session.get(ApiKey, new.info.id)
    assert row is not None and secret not in row.secret_hash and len(row.secret_hash) == 64
    dumped = session.execute(text("SELECT row_to_json(k)::text FROM api_key k WHERE id = :id"),
                             {"id": new.info.id}).scalar_one()
    assert secret not in dumped


def test_wrong_secret_unknown_prefix_and_garbage_are_refused(session: Session) -> None:
    new = create_key(session, role="admin", name="ops")
    prefix = new.info.prefix
    with pytest.raises(Unauthorized):
        verify_key(session, f"zg_{prefix}_{'A' * 43}")
    with pytest.raises(Unauthorized):
        verify_key(session, f"zg_{'0' * 12}_{new.token.split('_', 2)[2]}")
    with pytest.raises(Unauthorized, match="格式不对"):
        verify_key(session, "Bearer nonsense")


def test_revoked_key_is_refused_and_revocation_is_audited(session: Session) -> None:
    new = create_key(session, role="governance", name="office")
    revoked = revoke_key(session, new.info.id, actor="tester")
    assert revoked.revoked_at is not None
    with pytest.raises(Unauthorized, match="已被吊销"):
        verify_key(session, new.token)
    actions = session.scalars(select(AuditLog.action).where(
        AuditLog.entity == "api_key", AuditLog.entity_id == str(new.info.id))).all()
    assert sorted(actions) == ["create", "revoke"]
    assert [k.id for k in list_keys(session, include_revoked=False)].count(new.info.id) == 0
    with pytest.raises(NotFound):
        revoke_key(session, 10**12)


def test_bureau_key_needs_categories_and_valid_region(session: Session) -> None:
    with pytest.raises(ValidationError, match="categories"):
        create_key(session, role="bureau", name="b")
    with pytest.raises(ValidationError, match="行政区划代码"):
        create_key(session, role="bureau", name="b", categories=["tobacco"], region_prefix="43A")
    with pytest.raises(ValidationError, match="未知的角色「root」：可选 admin（管理员）"):
        create_key(session, role="root", name="b")


def test_scope_of_roles(session: Session) -> None:
    bureau = create_key(session, role="bureau", name="tobacco 4301", categories=["tobacco"],
                        region_prefix="4301").info
    assert bureau.role is Role.BUREAU
    assert bureau.scope.allows(category="tobacco", region="430102")
    assert not bureau.scope.allows(category="lottery", region="430102")
    assert not bureau.scope.allows(category="tobacco", region="440106")
    assert not bureau.scope.allows(category="tobacco", region=None)
    governance = create_key(session, role="governance", name="g", categories=["tobacco"]).info
    assert governance.scope.unrestricted
    assert Scope(region_prefix="44").allows(category="lottery", region="4401")


def test_cli_creates_lists_and_revokes_keys(engine: Engine) -> None:
    """Through the real CLI and database; the rows it commits are deleted by id afterwards."""
    runner = CliRunner()
    created = runner.invoke(app, ["keys", "create", "--role", "bureau", "--categories",
                                  "tobacco,lottery", "--region", "4301", "--name", "cli test",
                                  "--json"])
    assert created.exit_code == 0, created.output
    key = json.loads(created.stdout)
    try:
        assert key["token"].startswith(f"zg_{key['prefix']}_")
        assert key["categories"] == ["lottery", "tobacco"] and key["region_prefix"] == "4301"
        listed = runner.invoke(app, ["keys", "list", "--json"])
        assert listed.exit_code == 0
        assert key["token"] not in listed.stdout
        assert key["id"] in [k["id"] for k in json.loads(listed.stdout)]
        revoked = runner.invoke(app, ["keys", "revoke", str(key["id"])])
        assert revoked.exit_code == 0 and "revoked" in revoked.stdout
        with Session(engine) as check:
            with pytest.raises(Unauthorized, match="已被吊销"):
                verify_key(check, key["token"])
        refused = runner.invoke(app, ["keys", "create", "--role", "bureau"])
        assert refused.exit_code == 1 and "categories" in refused.output
    finally:
        with engine.begin() as conn:
            conn.execute(text("DELETE FROM audit_log WHERE entity = 'api_key' AND entity_id = "
                              ":id"), {"id": str(key["id"])})
            conn.execute(text("DELETE FROM api_key WHERE id = :id"), {"id": key["id"]})
