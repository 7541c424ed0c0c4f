"""受理初筛 pages: the form, the answer, the 告知单, and the actor recorded for a person."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from pyproj import Geod
from shapely.geometry import box
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tests.api.web.conftest import csrf_of
from tests.factories import add_school
from zoneguard.models import AuditLog, ScreeningRecord

GEOD = Geod(ellps="WGS84")
CAMPUS = box(114.0, 30.5, 114.002, 30.502)
ACTOR = "user:张三(zhangsan)"


def _east_of_campus(metres: float) -> tuple[float, float]:
    lon, lat, _ = GEOD.fwd(114.002, 30.501, 90, metres)
    return lon, lat


def _submit(web: TestClient, **fields: str) -> tuple[int, str]:
    form = web.get("/screen")
    assert form.status_code == 200
    data = {"csrf_token": csrf_of(form.text), "category": "internet_cafe", "crs": "wgs84",
            "mode": "new", **fields}
    answer = web.post("/screen", data=data, follow_redirects=False)
    return answer.status_code, answer.headers.get("location") or answer.text


def test_typed_point_inside_a_zone_is_not_compliant_and_the_person_is_the_actor(
        logged_in: TestClient, session: Session) -> None:
    add_school(session, "HB-001", CAMPUS, name="测试小学", levels=("primary",), region="420102")
    lon, lat = _east_of_campus(120.0)
    status, where = _submit(logged_in, lon=f"{lon:.9f}", lat=f"{lat:.9f}",
                            application_no="WB-2026-001", applicant="某网络会所", mode="renew")
    assert status == 303 and re.fullmatch(r"/screen/\d+", where)
    record = session.get(ScreeningRecord, int(where.rsplit("/", 1)[1]))
    assert record is not None and record.actor == ACTOR and record.verdict == "prohibited"
    assert record.request["application"] == {"number": "WB-2026-001", "applicant": "某网络会所",
                                             "mode": "renew"}
    audit = session.scalars(select(AuditLog).where(AuditLog.entity == "screening",
                                                   AuditLog.entity_id == str(record.id))).one()
    assert audit.actor == ACTOR
    page = logged_in.get(where)
    assert page.status_code == 200
    assert 'id="verdict">不符合距离要求<' in page.text
    assert "测试小学" in page.text and "120.0 米" in page.text and "test basis 200" in page.text
    assert "延续" in page.text and "WB-2026-001" in page.text
    assert "unsafe-inline" not in page.headers["content-security-policy"]


def test_gcj02_point_is_converted_and_far_point_has_no_conflict(
        logged_in: TestClient, session: Session) -> None:
    add_school(session, "HB-002", CAMPUS, levels=("primary",), region="420102")
    status, where = _submit(logged_in, lon="114.02", lat="30.52", crs="gcj02")
    assert status == 303
    page = logged_in.get(where)
    assert 'id="verdict">未发现距离冲突（仅距离初筛）<' in page.text
    record = session.get(ScreeningRecord, int(where.rsplit("/", 1)[1]))
    assert record is not None and record.request["location"]["crs"] == "gcj02"
    # GCJ-02 is shifted from WGS 84 by a few hundred metres in China: the stored point differs.
    assert abs(record.result["location"]["lon"] - 114.02) > 1e-4


def test_screen_without_csrf_token_is_refused_and_stores_nothing(
        logged_in: TestClient, session: Session) -> None:
    answer = logged_in.post("/screen", data={"category": "internet_cafe", "lon": "114.0",
                                             "lat": "30.5", "crs": "wgs84", "mode": "new"})
    assert answer.status_code == 403 and "页面已过期" in answer.text
    assert session.scalar(select(func.count()).select_from(ScreeningRecord)) == 0


def test_bad_coordinates_show_the_form_again_with_a_reason(
        logged_in: TestClient, session: Session) -> None:
    status, page = _submit(logged_in, lon="abc", lat="30.5")
    assert status == 400 and "不是数字" in page and 'value="abc"' in page
    status, page = _submit(logged_in, lon="114", lat="30.5", crs="EPSG:999999")
    assert status == 422
    assert session.scalar(select(func.count()).select_from(ScreeningRecord)) == 0


def test_category_outside_the_persons_scope_is_refused(
        logged_in: TestClient, session: Session) -> None:
    form = logged_in.get("/screen").text
    assert 'value="lottery"' not in form and 'value="internet_cafe"' in form
    status, _ = _submit(logged_in, category="lottery", lon="114.0", lat="30.5")
    assert status == 403
    assert session.scalar(select(func.count()).select_from(ScreeningRecord)) == 0


def test_every_value_is_escaped(logged_in: TestClient, session: Session) -> None:
    add_school(session, "X-1", CAMPUS, name="<img src=x onerror=alert(1)>小学",
               levels=("primary",))
    lon, lat = _east_of_campus(50.0)
    _, where = _submit(logged_in, lon=str(lon), lat=str(lat),
                       applicant="<script>alert('x')</script>")
    page = logged_in.get(where).text
    assert "<script>alert" not in page and "&lt;script&gt;alert" in page
    assert "<img src=x" not in page and "&lt;img src=x onerror=alert(1)&gt;小学" in page


def test_notice_carries_officer_time_disclaimer_and_remedies(
        logged_in: TestClient, session: Session) -> None:
    add_school(session, "HB-003", CAMPUS, levels=("primary",))
    lon, lat = _east_of_campus(120.0)
    _, where = _submit(logged_in, lon=str(lon), lat=str(lat), application_no="A-9")
    notice = logged_in.get(f"{where}/notice")
    assert notice.status_code == 200
    text = notice.text
    assert "距离核查告知单" in text and 'id="notice-officer">张三<' in text
    assert "不构成行政许可决定" in text and "行政复议" in text and "行政诉讼" in text
    assert re.search(r"\d{4}年\d{2}月\d{2}日 \d{2}:\d{2}:\d{2}", text)
    assert "不符合距离要求" in text and "A-9" in text


def test_pages_need_a_login_and_viewers_cannot_screen(
        web: TestClient, person, session: Session) -> None:  # type: ignore[no-untyped-def]
    answer = web.get("/screen", follow_redirects=False)
    assert answer.status_code == 303 and answer.headers["location"] == "/login?next=/screen"
    person("wangwu", role="viewer", display_name="王五")
    from tests.api.web.conftest import login
    assert login(web, "wangwu")[0] == 303
    refused = web.get("/screen")
    assert refused.status_code == 403 and "不能办理受理初筛" in refused.text
    assert web.post("/screen", data={"csrf_token": "x"}).status_code == 403
    assert "受理初筛" not in web.get("/").text


def test_screening_of_another_scope_is_not_shown(
        logged_in: TestClient, session: Session) -> None:
    other = ScreeningRecord(category="lottery", region="110101", location="POINT(116 40)",
                            request={}, verdict="allowed", result={}, rule_set_version="x")
    session.add(other)
    session.flush()
    assert logged_in.get(f"/screen/{other.id}").status_code == 404
    assert logged_in.get(f"/screen/{other.id}/notice").status_code == 404


def test_api_accepts_a_session_only_with_its_csrf_header(
        logged_in: TestClient, session: Session) -> None:
    body = {"category": "internet_cafe", "location": {"lon": 114.1, "lat": 30.6}}
    refused = logged_in.post("/api/v1/screenings", json=body)
    assert refused.status_code == 403
    token = csrf_of(logged_in.get("/screen").text)
    done = logged_in.post("/api/v1/screenings", json=body, headers={"X-CSRF-Token": token})
    assert done.status_code == 201
    record = session.get(ScreeningRecord, done.json()["id"])
    assert record is not None and record.actor == ACTOR


def test_notice_prints_to_pdf(logged_in: TestClient, session: Session) -> None:
    add_school(session, "HB-004", CAMPUS, levels=("primary",))
    lon, lat = _east_of_campus(120.0)
    _, where = _submit(logged_in, lon=str(lon), lat=str(lat))
    pdf = logged_in.get(f"{where}/notice.pdf")
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF-") and len(pdf.content) > 5000


def test_address_box_finds_places_in_scope_only(logged_in: TestClient, session: Session) -> None:
    from tests.factories import add_premises
    add_school(session, "HB-005", CAMPUS, name="芙蓉路小学", levels=("primary",))
    add_premises(session, "tobacco", 114.01, 30.51, name="芙蓉路烟酒店", address="芙蓉路1号")
    add_premises(session, "lottery", 114.02, 30.52, name="芙蓉路彩票店", address="芙蓉路2号")
    found = logged_in.get("/screen/places", params={"q": "芙蓉路"})
    assert found.status_code == 200
    labels = [p["label"] for p in found.json()]
    assert labels == ["芙蓉路小学", "芙蓉路烟酒店"]  # lottery is outside 张三's categories
    assert logged_in.get("/screen/places", params={"q": " "}).status_code == 422
    logged_in.cookies.clear()
    assert logged_in.get("/screen/places", params={"q": "芙蓉路"}).status_code == 401


def test_key_and_session_actors_on_a_finding_transition(
        logged_in: TestClient, session: Session) -> None:
    from tests.factories import add_finding, add_premises
    from zoneguard.services.access.keys import create_key
    school = add_school(session, "HB-006", CAMPUS, levels=("primary",), region="420102")
    premises = add_premises(session, "tobacco", 114.0025, 30.501, region="420102")
    finding = add_finding(session, school, premises, rule_id="t.tobacco")
    url = f"/api/v1/findings/{finding}/actions"
    key = create_key(session, role="governance", name="综治办")
    reported = logged_in.post(url, json={"action": "report"},
                              headers={"Authorization": f"Bearer {key.token}"})
    assert reported.status_code == 200, reported.text
    assert reported.json()["events"][-1]["actor"] == f"key:{key.info.prefix}:综治办"
    assert logged_in.post(url, json={"action": "assign", "unit": "烟草专卖局",
                                     "deadline": "2099-01-31"},
                          headers={"Authorization": f"Bearer {key.token}"}).status_code == 200
    token = csrf_of(logged_in.get("/screen").text)
    moved = logged_in.post(url, json={"action": "start"}, headers={"X-CSRF-Token": token})
    assert moved.status_code == 200, moved.text
    assert moved.json()["events"][-1]["actor"] == ACTOR
