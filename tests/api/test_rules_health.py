"""Rules in force, health, readiness and Prometheus metrics."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.orm import Session

from api.main import create_app
from tests.api.conftest import KeyMaker
from zoneguard.settings import Settings


def test_rules_in_force_carry_bases(client: TestClient, key_for: KeyMaker) -> None:
    response = client.get("/api/v1/rules", headers=key_for("viewer"),
                          params={"region": "4301", "on": "2024-06-01"})
    assert response.status_code == 200
    body = response.json()
    by_category = {rule["category"]: rule for rule in body["rules"]}
    assert by_category["tobacco"]["distance_m"] == 100
    assert by_category["tobacco"]["basis"] == "测试机关《test basis 100》"
    assert body["region"] == "4301" and body["on"] == "2024-06-01"
    before = client.get("/api/v1/rules", headers=key_for("viewer"), params={"on": "1999-01-01"})
    assert before.json()["rules"] == []
    assert client.get("/api/v1/rules", headers=key_for("viewer"),
                      params={"region": "43x"}).status_code == 422


def test_health_and_readiness(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200 and ready.json()["status"] == "ready"


def test_readiness_fails_when_migrations_are_behind(api_settings: Settings) -> None:
    app = create_app(api_settings)
    with TestClient(app, raise_server_exceptions=False) as raw:
        app.state.migration_head = "9999_future"
        response = raw.get("/readyz")
    assert response.status_code == 503
    assert response.headers["content-type"] == "application/problem+json"
    assert "9999_future" in response.json()["detail"]


def _finding(session: Session, state: str, n: int) -> None:
    school = session.execute(text(
        "INSERT INTO school (code, name, levels, location, precision) VALUES "
        "(:code, 'm', ARRAY['primary'], ST_SetSRID(ST_MakePoint(114, 30), 4326), 'point') "
        "RETURNING id"), {"code": f"M{n}"}).scalar_one()
    premises = session.execute(text(
        "INSERT INTO premises (category, licence_no, name, location) VALUES "
        "('tobacco', :lic, 'm', ST_SetSRID(ST_MakePoint(114, 30), 4326)) RETURNING id"),
        {"lic": f"M-{n}"}).scalar_one()
    session.execute(text("INSERT INTO finding (school_id, premises_id, rule_id, metric, verdict,"
                         " state) VALUES (:s, :p, 't.tobacco', 'boundary', 'prohibited', "
                         ":state)"), {"s": school, "p": premises, "state": state})


def test_metrics_expose_route_latency_and_findings_by_state_from_cached_counts(
    client: TestClient, key_for: KeyMaker, session: Session
) -> None:
    client.get("/api/v1/rules", headers=key_for("viewer"))
    _finding(session, "assigned", 1)
    client.app.state.metrics.invalidate()  # type: ignore[attr-defined]
    governance = key_for("governance")
    response = client.get("/metrics", headers=governance)
    assert response.status_code == 200 and response.headers["content-type"].startswith(
        "text/plain")
    metrics = response.text
    assert 'route="/api/v1/rules"' in metrics
    assert "zoneguard_http_request_duration_seconds_bucket" in metrics
    assert 'zoneguard_findings{state="assigned"} 1.0' in metrics
    assert "zoneguard_scans_running 0.0" in metrics
    _finding(session, "assigned", 2)
    again = client.get("/metrics", headers=governance).text  # no recount within the interval
    assert 'zoneguard_findings{state="assigned"} 1.0' in again


def test_metrics_are_private_by_default_and_need_an_admin_or_governance_key(
        api_settings: Settings, key_for: KeyMaker, session: Session) -> None:
    from api.deps import get_session

    assert Settings().metrics_public is False
    app = create_app(api_settings.model_copy(update={"metrics_public": False}))
    app.dependency_overrides[get_session] = lambda: session
    with TestClient(app, raise_server_exceptions=False) as raw:
        assert raw.get("/metrics").status_code == 401
        assert raw.get("/metrics", headers=key_for("viewer")).status_code == 403
        assert raw.get("/metrics", headers=key_for("bureau", categories=["tobacco"])
                       ).status_code == 403
        assert raw.get("/metrics", headers=key_for("governance")).status_code == 200
        assert raw.get("/metrics", headers=key_for("admin")).status_code == 200
    public = create_app(api_settings.model_copy(update={"metrics_public": True}))
    public.dependency_overrides[get_session] = lambda: session
    with TestClient(public, raise_server_exceptions=False) as raw:
        assert raw.get("/metrics").status_code == 200
