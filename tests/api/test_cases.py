"""The case routes: evidence upload/list/download, field measurements, 督办, 约谈, the audit log."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any
from urllib.parse import quote

import anyio
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from httpx import Response
from shapely.geometry import Point, box
from sqlalchemy import text
from sqlalchemy.orm import Session

from tests.api.conftest import KeyMaker
from tests.factories import add_finding, add_premises, add_school
from tests.oracle import from_local
from tests.zoneguard.services.test_evidence import jpeg, png

TODAY = date.today()


@pytest.fixture
def finding(session: Session) -> int:
    school = add_school(session, "APIEV", from_local(box(-100, -100, 100, 100), 114.0, 30.5),
                        region="420102")
    p = from_local(Point(0, -150), 114.0, 30.5)
    premises = add_premises(session, "internet_cafe", p.x, p.y, region="420102")
    return add_finding(session, school, premises, rule_id="t.internet_cafe")


def post_file(client: TestClient, finding: int, headers: dict[str, str], data: bytes,
              name: str = "现场 照片.jpg", media_type: str = "image/jpeg",
              note: str | None = "校门口") -> Response:
    return client.post(f"/api/v1/findings/{finding}/evidence", headers=headers,
                       files={"file": (name, data, media_type)},
                       data={} if note is None else {"note": note})


def count(session: Session, finding: int) -> int:
    return int(session.execute(text("SELECT count(*) FROM evidence WHERE finding_id = :f"),
                               {"f": finding}).scalar_one())


def test_upload_list_and_download_evidence(client: TestClient, key_for: KeyMaker,
                                           finding: int) -> None:
    bureau = key_for("bureau", categories=["internet_cafe"], region="4201", name="洪山区市场监管局")
    data = jpeg(b"evidence bytes" * 50)
    answer = post_file(client, finding, bureau, data)
    assert answer.status_code == 201, answer.text
    body = answer.json()
    assert body["sha256"] == hashlib.sha256(data).hexdigest()
    assert body["size_bytes"] == len(data) and body["media_type"] == "image/jpeg"
    assert body["uploaded_by"].startswith("key:")
    assert body["uploaded_by"].endswith("洪山区市场监管局")
    listed = client.get(f"/api/v1/findings/{finding}/evidence", headers=bureau).json()
    assert [e["id"] for e in listed["items"]] == [body["id"]]
    detail = client.get(f"/api/v1/findings/{finding}", headers=bureau).json()
    assert [e["sha256"] for e in detail["evidence"]] == [body["sha256"]]
    got = client.get(f"/api/v1/evidence/{body['id']}", headers=bureau)
    assert got.status_code == 200 and got.content == data
    assert got.headers["content-type"] == "image/jpeg"
    assert got.headers["x-content-type-options"] == "nosniff"
    disposition = got.headers["content-disposition"]
    assert disposition.startswith("attachment;")
    assert f"filename*=UTF-8''{quote('现场 照片.jpg', safe='')}" in disposition
    assert f'filename="evidence-{body["id"]}.jpg"' in disposition
    other = key_for("bureau", categories=["tobacco"], name="烟草")
    assert client.get(f"/api/v1/evidence/{body['id']}", headers=other).status_code == 404


def test_uploads_checked_by_content_and_role(client: TestClient, key_for: KeyMaker,
                                             session: Session, finding: int) -> None:
    admin = key_for("admin")
    answer = post_file(client, finding, admin, png(), "photo.jpg", "image/jpeg")
    assert answer.status_code == 415
    assert "与其内容（PNG 图片）不符" in answer.json()["detail"]
    exe = post_file(client, finding, admin, b"MZ\x90\x00" * 10, "a.pdf", "application/pdf")
    assert exe.status_code == 415
    viewer = post_file(client, finding, key_for("viewer"), jpeg())
    assert viewer.status_code == 403
    cafes = ["internet_cafe"]
    outside = post_file(client, finding, key_for("bureau", categories=cafes, region="44"), jpeg())
    assert outside.status_code == 404
    missing = client.post(f"/api/v1/findings/{finding}/evidence", headers=admin,
                          data={"note": "无文件"})
    assert missing.status_code == 422
    assert count(session, finding) == 0


@pytest.fixture
def small_limit(app: FastAPI) -> Iterator[int]:
    original = app.state.settings
    app.state.settings = original.model_copy(update={"evidence_max_bytes": 100_000})
    try:
        yield 100_000
    finally:
        app.state.settings = original


def test_an_upload_over_the_limit_is_refused_while_streaming(
        client: TestClient, key_for: KeyMaker, session: Session, finding: int,
        small_limit: int, app: FastAPI) -> None:
    admin = key_for("admin")
    big = jpeg(b"x" * 60_000) * 3  # JPEG-looking, 180 kB
    declared = post_file(client, finding, admin, big)
    assert declared.status_code == 413
    assert "ZONEGUARD_EVIDENCE_MAX_BYTES" in declared.json()["detail"]
    # Straight to the ASGI app, so the body arrives piece by piece with no Content-Length
    # (a test client would read the whole body first): only the reading can stop it.
    boundary, pieces, sent = "zgb", iter(range(1000)), []
    head = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; "
            f"filename=\"big.jpg\"\r\nContent-Type: image/jpeg\r\n\r\n").encode()
    answer: dict[str, Any] = {}

    async def receive() -> dict[str, Any]:
        if not sent:
            sent.append(head)
            return {"type": "http.request", "body": head + b"\xff\xd8\xff", "more_body": True}
        if next(pieces, None) is None:
            return {"type": "http.request", "body": b"", "more_body": False}
        sent.append(b"\x00" * 10_000)
        return {"type": "http.request", "body": sent[-1], "more_body": True}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            answer["status"] = message["status"]

    token = admin["Authorization"].encode()
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1",
             "method": "POST", "scheme": "http", "path": f"/api/v1/findings/{finding}/evidence",
             "raw_path": b"", "query_string": b"", "root_path": "", "server": ("t", 80),
             "client": ("127.0.0.1", 1), "headers": [
                 (b"authorization", token),
                 (b"content-type", f"multipart/form-data; boundary={boundary}".encode())]}
    anyio.run(app, scope, receive, send)
    assert answer["status"] == 413
    assert 10 < len(sent) < 20  # stopped at about limit + slack (~16 pieces), not at 10 MB
    fits = post_file(client, finding, admin, jpeg(b"y" * (small_limit - 100)))
    assert fits.status_code == 201
    assert count(session, finding) == 1


def test_field_measurements_through_the_api(client: TestClient, key_for: KeyMaker,
                                            finding: int) -> None:
    bureau = key_for("bureau", categories=["internet_cafe"], region="4201")
    body = {"distance_m": 230.5, "method": "测距轮", "instrument": "测距轮 #7",
            "measurers": ["张三", "李四"], "measured_on": TODAY.isoformat()}
    done = client.post(f"/api/v1/findings/{finding}/measurements", headers=bureau, json=body)
    assert done.status_code == 201, done.text
    assert done.json()["verdict"] == "allowed"
    listed = client.get(f"/api/v1/findings/{finding}/measurements", headers=bureau).json()
    assert [m["distance_m"] for m in listed["items"]] == [230.5]
    detail = client.get(f"/api/v1/findings/{finding}", headers=bureau).json()
    assert detail["field_distance_m"] == 230.5 and detail["effective_verdict"] == "allowed"
    assert detail["distance_m"] == 50.0
    bad = client.post(f"/api/v1/findings/{finding}/measurements", headers=bureau,
                      json={**body, "method": "目测"})
    assert bad.status_code == 422
    same = client.post(f"/api/v1/findings/{finding}/measurements", headers=bureau,
                       json={**body, "measurers": ["张三", "张三"]})
    assert same.status_code == 422 and "两名不同" in same.json()["detail"]
    viewer = client.post(f"/api/v1/findings/{finding}/measurements", headers=key_for("viewer"),
                         json=body)
    assert viewer.status_code == 403


def test_orders_interviews_and_counts_through_the_api(client: TestClient, key_for: KeyMaker,
                                                      finding: int) -> None:
    gov = key_for("governance", name="综治办")
    order = {"finding_id": finding, "number": "API督〔2025〕9号", "office": "区综治办",
             "deadline": (TODAY + timedelta(days=5)).isoformat(),
             "requirements": "五日内关停并报告"}
    bureau = key_for("bureau", categories=["internet_cafe"])
    refused = client.post("/api/v1/supervision/orders", headers=bureau, json=order)
    assert refused.status_code == 403 and "综治办" in refused.json()["detail"]
    issued = client.post("/api/v1/supervision/orders", headers=gov, json=order)
    assert issued.status_code == 201, issued.text
    again = client.post("/api/v1/supervision/orders", headers=gov,
                        json={**order, "number": "API督〔2025〕10号"})
    assert again.status_code == 409
    detail = client.get(f"/api/v1/findings/{finding}", headers=gov).json()
    assert detail["supervision"] == "red"
    counts = client.get("/api/v1/supervision", params={"region": "420102"}, headers=gov).json()
    assert counts["districts"][0]["district"] == "420102"
    assert counts["total"]["open_orders"] >= 1 and counts["total"]["red"] >= 1
    orders = client.get("/api/v1/supervision/orders", params={"active": "true"},
                        headers=gov).json()
    assert order["number"] in [o["number"] for o in orders["items"]]
    talk = client.post("/api/v1/interviews", headers=gov, json={
        "unit": "洪山区市场监管局", "held_on": TODAY.isoformat(), "participants": "王科长",
        "summary": "督办未按期整改", "finding_id": finding})
    assert talk.status_code == 201, talk.text
    talks = client.get("/api/v1/interviews", params={"since": TODAY.isoformat()},
                       headers=gov).json()
    assert talk.json()["id"] in [t["id"] for t in talks["items"]]
    lifted = client.post(f"/api/v1/supervision/orders/{issued.json()['id']}/lift", headers=gov,
                         json={"comment": "已关停"})
    assert lifted.status_code == 200 and lifted.json()["active"] is False
    assert client.get(f"/api/v1/findings/{finding}", headers=gov).json()["supervision"] is None


def test_the_audit_log_is_for_admins(client: TestClient, key_for: KeyMaker,
                                     finding: int) -> None:
    admin = key_for("admin", name="审计管理员")
    post_file(client, finding, admin, jpeg())
    assert client.get("/api/v1/audit", headers=key_for("governance")).status_code == 403
    page = client.get("/api/v1/audit", headers=admin, params={
        "entity": "finding", "entity_id": str(finding), "action": "evidence",
        "since": TODAY.isoformat(), "limit": 5}).json()
    assert page["total"] == 1 and page["items"][0]["action"] == "evidence.upload"
    assert page["items"][0]["actor"].endswith("审计管理员")
    assert page["items"][0]["at"].endswith("+08:00")
    bad = client.get("/api/v1/audit", headers=admin, params={"since": "昨天"})
    assert bad.status_code == 422 and "YYYY-MM-DD" in bad.json()["detail"]
