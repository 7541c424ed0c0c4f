"""Errors are RFC 9457 problems everywhere, with request ids, and no internals leak."""

from __future__ import annotations

import logging
import time

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from api.auth import KeyCache
from api.errors import translate_db_error
from api.main import create_app
from tests.api.conftest import KeyMaker
from zoneguard.errors import Conflict, NotFound, ValidationError
from zoneguard.services.access.keys import create_key, revoke_key
from zoneguard.settings import Settings

PROBLEM = "application/problem+json"


def test_request_without_key_is_401_problem(client: TestClient) -> None:
    response = client.get("/api/v1/schools")
    assert response.status_code == 401
    assert response.headers["content-type"] == PROBLEM
    assert response.headers["www-authenticate"].startswith("Bearer")
    body = response.json()
    assert body["type"] == "urn:zoneguard:problem:unauthorized" and body["status"] == 401
    assert body["request_id"] == response.headers["x-request-id"]


def test_unknown_and_revoked_keys_are_401(
    app: FastAPI, client: TestClient, session: Session
) -> None:
    assert client.get("/api/v1/rules", headers={"Authorization": "Bearer zg_0_x"}
                      ).status_code == 401
    new = create_key(session, role="viewer", name="v")
    assert client.get("/api/v1/rules", params={"api_key": new.token}).status_code == 200
    revoke_key(session, new.info.id)
    # Verified keys are remembered for KEY_CACHE_TTL_S seconds; past that, revocation holds.
    assert client.get("/api/v1/rules", params={"api_key": new.token}).status_code == 200
    app.state.key_cache.clear()
    response = client.get("/api/v1/rules", headers={"Authorization": f"Bearer {new.token}"})
    assert response.status_code == 401 and "已被吊销" in response.json()["detail"]


def test_key_cache_forgets_keys_after_its_ttl(session: Session) -> None:
    info = create_key(session, role="viewer", name="v").info
    cache = KeyCache(ttl_s=0.05)
    cache.put("zg_token", info)
    assert cache.get("zg_token") == info and cache.get("zg_other") is None
    time.sleep(0.06)
    assert cache.get("zg_token") is None


def test_role_without_right_is_403_problem(client: TestClient, key_for: KeyMaker) -> None:
    response = client.post("/api/v1/schools", headers=key_for("viewer"), json={
        "code": "X", "name": "X", "levels": ["primary"],
        "geometry": {"type": "Point", "coordinates": [114, 30]}})
    assert response.status_code == 403
    assert response.json()["type"] == "urn:zoneguard:problem:forbidden"


def test_unknown_route_is_404_and_wrong_method_405(client: TestClient) -> None:
    missing = client.get("/api/v1/nothing-here")
    assert missing.status_code == 404 and missing.headers["content-type"] == PROBLEM
    assert missing.json()["type"] == "urn:zoneguard:problem:not-found"
    assert missing.json()["title"] == "未找到"
    assert missing.json()["detail"] == "没有这个地址：/api/v1/nothing-here"
    wrong = client.delete("/healthz")
    assert wrong.status_code == 405
    assert wrong.json()["type"] == "urn:zoneguard:problem:method-not-allowed"
    assert wrong.json()["detail"] == "/healthz 不接受 DELETE 请求"


def test_validation_error_lists_fields(client: TestClient, admin: dict[str, str]) -> None:
    response = client.post("/api/v1/screenings", headers=admin,
                           json={"category": "Tobacco!", "location": {"lon": "east"}})
    assert response.status_code == 422 and response.headers["content-type"] == PROBLEM
    body = response.json()
    assert body["type"] == "urn:zoneguard:problem:validation"
    fields = {tuple(e["loc"]) for e in body["errors"]}
    assert ("body", "category") in fields and ("body", "location", "lon") in fields
    assert ("body", "location", "lat") in fields
    # People read the detail: Chinese, field by field; machines read `errors`.
    assert body["title"] == "输入无效"
    assert body["detail"].startswith("请求内容有误：")
    assert "请求内容 location.lon：应为数字" in body["detail"]
    assert "请求内容 location.lat：必须填写" in body["detail"]


def test_validation_errors_read_in_chinese_with_their_limits(
        client: TestClient, admin: dict[str, str]) -> None:
    response = client.get("/api/v1/findings", headers=admin, params={"limit": "0"})
    assert response.status_code == 422
    assert "查询参数 limit：应不小于 1" in response.json()["detail"]
    bad_json = client.post("/api/v1/screenings", headers={**admin, "Content-Type":
                           "application/json"}, content=b"{not json")
    assert bad_json.status_code == 422 and "不是有效的 JSON" in bad_json.json()["detail"]


def test_request_id_is_echoed_or_generated(client: TestClient) -> None:
    echoed = client.get("/healthz", headers={"X-Request-ID": "abc-123"})
    assert echoed.headers["x-request-id"] == "abc-123"
    generated = client.get("/healthz", headers={"X-Request-ID": "bad id with spaces"})
    assert len(generated.headers["x-request-id"]) == 32


def test_unexpected_error_is_500_problem_logged_with_request_id(
    api_settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    app = create_app(api_settings)

    @app.get("/boom")
    def boom() -> None:
        raise RuntimeError("SELECT secret FROM internals")

    with TestClient(app, raise_server_exceptions=False) as raw:
        with caplog.at_level(logging.ERROR, logger="zoneguard.api"):
            response = raw.get("/boom", headers={"X-Request-ID": "req-500"})
    assert response.status_code == 500 and response.headers["content-type"] == PROBLEM
    assert "SELECT" not in response.text and "Traceback" not in response.text
    assert response.json()["request_id"] == "req-500"
    assert any("req-500" in r.getMessage() for r in caplog.records)


def _db_error(session: Session, sql: str) -> DBAPIError:
    nested = session.begin_nested()
    try:
        session.execute(text(sql))
    except DBAPIError as exc:
        nested.rollback()
        return exc
    raise AssertionError("the statement did not fail")


def test_database_errors_are_translated_once(session: Session) -> None:
    session.execute(text("INSERT INTO school (code, name, levels, location, precision) VALUES "
                         "('DUP', 'd', ARRAY['primary'], "
                         "ST_SetSRID(ST_MakePoint(114, 30), 4326), 'point')"))
    unique = _db_error(session, "INSERT INTO school (code, name, levels, location, precision) "
                                "VALUES ('DUP', 'd', ARRAY['primary'], "
                                "ST_SetSRID(ST_MakePoint(114, 30), 4326), 'point')")
    assert isinstance(translate_db_error(unique), Conflict)
    foreign = _db_error(session, "INSERT INTO school_gate (school_id, location) VALUES "
                                 "(987654321, ST_SetSRID(ST_MakePoint(114, 30), 4326))")
    assert isinstance(translate_db_error(foreign), NotFound)
    check = _db_error(session, "INSERT INTO school (code, name, levels, location, precision) "
                               "VALUES ('C', 'c', ARRAY['nursery'], "
                               "ST_SetSRID(ST_MakePoint(114, 30), 4326), 'point')")
    assert isinstance(translate_db_error(check), ValidationError)


def test_openapi_and_docs_need_no_key(client: TestClient) -> None:
    spec = client.get("/openapi.json")
    assert spec.status_code == 200
    paths = spec.json()["paths"]
    assert "/api/v1/screenings" in paths and "/ogc/collections/{collection_id}/items" in paths
    assert client.get("/docs").status_code == 200
