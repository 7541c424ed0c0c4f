"""POST /api/v1/imports: multipart upload, row-level report, all-or-nothing, size limit, scope."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from api.deps import get_session
from api.main import create_app
from tests.api.conftest import KeyMaker
from zoneguard.models import AuditLog, Premises
from zoneguard.settings import Settings

GOOD = ("licence_no,name,category,region,lon,lat\n"
        "TX-1,便利店一,tobacco,430103,112.985,28.195\n"
        "TX-2,便利店二,tobacco,430103,112.986,28.196\n")


def _upload(client: TestClient, headers: dict[str, str], body: str, **form: str) -> object:
    return client.post("/api/v1/imports", headers=headers,
                       files={"file": ("premises.csv", body.encode(), "text/csv")},
                       data={"kind": "premises", "crs": "wgs84", **form})


def _count(session: Session) -> int:
    return int(session.scalar(select(func.count()).select_from(Premises)) or 0)


def test_import_writes_rows_and_returns_report(
    client: TestClient, admin: dict[str, str], session: Session
) -> None:
    response = _upload(client, admin, GOOD)
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["inserted"] == 2 and body["rejected"] == 0 and body["import_id"] > 0
    assert body["report"]["rows"] == 2 and body["report"]["problems"] == []
    assert _count(session) == 2
    assert session.scalar(select(func.count()).select_from(AuditLog).where(
        AuditLog.entity == "import")) == 1


def test_bad_row_rejects_whole_file_with_row_report(
    client: TestClient, admin: dict[str, str], session: Session
) -> None:
    bad = GOOD + "TX-3,坏行,tobacco,430103,east,28.19\n"
    response = _upload(client, admin, bad)
    assert response.status_code == 422
    problem = response.json()
    assert problem["type"] == "urn:zoneguard:problem:import"
    rows = {p["row"] for p in problem["report"]["problems"]}
    assert 3 in rows or 4 in rows
    assert "parsed" not in problem
    assert _count(session) == 0
    partial = _upload(client, admin, bad, skip_invalid="true")
    assert partial.status_code == 201 and partial.json()["inserted"] == 2
    assert partial.json()["rejected"] == 1


def test_dry_run_writes_nothing(client: TestClient, admin: dict[str, str],
                                session: Session) -> None:
    response = _upload(client, admin, GOOD, dry_run="true")
    assert response.status_code == 200 and response.json()["inserted"] == 2
    assert _count(session) == 0


def test_upload_over_the_limit_is_413_problem(
    api_settings: Settings, key_for: KeyMaker, session: Session
) -> None:
    app = create_app(api_settings.model_copy(update={"import_max_bytes": 100}))
    app.dependency_overrides[get_session] = lambda: session
    with TestClient(app, raise_server_exceptions=False) as raw:
        big = GOOD + "".join(f"TX-{i},店,tobacco,430103,112.98,28.19\n" for i in range(10, 20))
        response = _upload(raw, key_for("admin"), big)
        # Declared far over the limit: refused from the headers, before the body is read.
        huge = _upload(raw, key_for("admin"), GOOD + "x" * 200_000)
    assert huge.status_code == 413 and huge.json()["status"] == 413
    assert response.status_code == 413
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["type"] == "urn:zoneguard:problem:too-large"
    assert _count(session) == 0


def test_bureau_imports_only_its_scope(
    client: TestClient, key_for: KeyMaker, session: Session
) -> None:
    bureau = key_for("bureau", categories=["tobacco"], region="4301")
    assert _upload(client, bureau, GOOD).status_code == 201
    lottery = GOOD.replace("TX-", "LX-").replace("tobacco", "lottery")
    refused = _upload(client, bureau, lottery)
    assert refused.status_code == 403
    guangzhou = GOOD.replace("TX-", "GZ-").replace("430103", "440106")
    assert _upload(client, bureau, guangzhou).status_code == 403
    assert _upload(client, bureau, GOOD.replace("TX-", "SX-"), kind="schools").status_code == 403
    assert _count(session) == 2
