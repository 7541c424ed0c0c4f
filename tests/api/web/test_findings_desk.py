"""问题台账 and the case page: scope, filters, escaping, actions through forms, refusals."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from shapely.geometry import box
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from tests.api.web.conftest import csrf_of, login
from tests.factories import add_finding, add_premises, add_school
from zoneguard.models import AuditLog, Evidence, Finding, FindingEvent

CAMPUS = box(114.0, 30.5, 114.002, 30.502)
EVIL = "<script>alert('台账')</script>"


def _case(session: Session, *, category: str = "internet_cafe", region: str = "420102",
          state: str = "reported", name: str = "星空网咖", school: str = "DK-001",
          step_due: date | None = None) -> int:
    school_id = session.scalar(text("SELECT id FROM school WHERE code = :c"), {"c": school})
    if school_id is None:
        school_id = add_school(session, school, CAMPUS, name=f"{school}小学", region=region)
    pid = add_premises(session, category, 114.0025, 30.501, name=name, region=region,
                       licence_no=f"L-{name}-{category}")
    rule = {"internet_cafe": "t.internet_cafe", "lottery": "t.lottery"}.get(category, "t.tobacco")
    fid = add_finding(session, school_id, pid, rule_id=rule, state=state, distance_m=48.0,
                      line=((114.0025, 30.501), (114.002, 30.501)))
    if step_due is not None:
        session.execute(text("UPDATE finding SET step_due = :d WHERE id = :id"),
                        {"d": step_due, "id": fid})
    return fid


def _ids(page: str) -> set[int]:
    return {int(i) for i in re.findall(r'<tr data-id="(\d+)">', page)}


def _as(web: TestClient, person: Callable[..., str], role: str, **scope: object) -> TestClient:
    names = {"governance": ("lisi", "李四"), "bureau": ("zhangsan", "张三"),
             "admin": ("wangwu", "王五"), "viewer": ("zhaoliu", "赵六")}
    username, display = names[role]
    status, _ = login(web, person(username, role=role, display_name=display, **scope))
    assert status == 303
    return web


def test_a_bureau_person_sees_only_its_categories_and_region(
        web: TestClient, person: Callable[..., str], session: Session) -> None:
    mine = _case(session)
    other_category = _case(session, category="lottery", name="彩票点")
    other_region = _case(session, region="440307", school="DK-002", name="深圳网吧")
    _as(web, person, "bureau", region="4201")
    page = web.get("/findings", params={"state": "all"})
    assert page.status_code == 200
    assert _ids(page.text) == {mine}
    assert 'id="desk-total">1<' in page.text
    for hidden in (other_category, other_region):
        refused = web.get(f"/findings/{hidden}")
        assert refused.status_code == 404 and "不在您的权限范围内" in refused.text


def test_governance_sees_every_case_and_the_filters_narrow_it(
        web: TestClient, person: Callable[..., str], session: Session) -> None:
    today = date.today()
    late = _case(session, state="assigned", step_due=today - timedelta(days=20))
    fresh = _case(session, state="found", name="新网吧", step_due=today + timedelta(days=3))
    lottery = _case(session, category="lottery", name="彩票点")
    shenzhen = _case(session, region="440307", school="DK-002", name="深圳网吧")
    closed = _case(session, state="closed", name="已关网吧")
    _as(web, person, "governance")
    assert _ids(web.get("/findings").text) == {late, fresh, lottery, shenzhen}  # active first
    assert _ids(web.get("/findings?state=closed").text) == {closed}
    assert _ids(web.get("/findings?state=all").text) == {late, fresh, lottery, shenzhen, closed}
    assert _ids(web.get("/findings?state=found").text) == {fresh}
    assert _ids(web.get("/findings?category=lottery").text) == {lottery}
    assert _ids(web.get("/findings?district=4403").text) == {shenzhen}
    assert _ids(web.get("/findings?school=DK-002").text) == {shenzhen}
    overdue = web.get("/findings?overdue=1")
    assert _ids(overdue.text) == {late} and "红牌督办" in overdue.text
    counts = web.get("/findings?state=all").text
    assert "已交办 1" in counts and "已销号 1" in counts and "已上报 2" in counts


def test_paging_keeps_the_filters_and_counts_the_total(
        web: TestClient, person: Callable[..., str], session: Session) -> None:
    made = sorted(_case(session, name=f"网吧{i}") for i in range(5))
    _as(web, person, "governance")
    first = web.get("/findings?limit=2&category=internet_cafe")
    assert _ids(first.text) == set(made[:2]) and 'id="desk-total">5<' in first.text
    nxt = re.search(r'id="page-next" href="([^"]+)"', first.text)
    assert nxt is not None
    href = nxt.group(1).replace("&amp;", "&")
    assert "category=internet_cafe" in href and "offset=2" in href
    assert _ids(web.get(href).text) == set(made[2:4])
    last = web.get("/findings?limit=2&offset=4")
    assert _ids(last.text) == {made[4]} and 'id="page-next"' not in last.text


@pytest.mark.parametrize("query", ["state=nonsense", "district=42ab", "limit=0", "offset=-3",
                                   "stock=maybe"])
def test_a_bad_filter_is_explained_in_chinese(
        web: TestClient, person: Callable[..., str], query: str) -> None:
    _as(web, person, "governance")
    page = web.get(f"/findings?{query}")
    assert page.status_code == 422
    error = re.search(r'id="desk-error">([^<]+)<', page.text)
    assert error is not None and re.search(r"[\u4e00-\u9fff]", error.group(1))


def test_names_are_escaped_in_the_table_and_the_map(
        web: TestClient, person: Callable[..., str], session: Session) -> None:
    fid = _case(session, name=EVIL)
    _as(web, person, "governance")
    for url in ("/findings", f"/findings/{fid}"):
        page = web.get(url)
        assert "<script>alert" not in page.text
        assert "unsafe-inline" not in page.headers["content-security-policy"]
        spec = re.search(r'<script type="application/json" id="zg-spec">(.*?)</script>',
                         page.text, re.S)
        assert spec is not None
        data = json.loads(spec.group(1))
        titles = [f["properties"].get("_title") or "" for ov in data["overlays"]
                  for f in ov["data"]["features"]]
        assert any(EVIL in t for t in titles)  # drawn by the map script as text
    assert "&lt;script&gt;alert(&#39;台账&#39;)&lt;/script&gt;" in web.get("/findings").text


def test_the_case_page_offers_only_the_actions_of_the_role(
        web: TestClient, person: Callable[..., str], session: Session) -> None:
    fid = _case(session, state="reported")
    _as(web, person, "bureau")
    forms = set(re.findall(r'<form method="post" action="/findings/\d+/act"[^>]*id="act-(\w+)"',
                           web.get(f"/findings/{fid}").text))
    assert forms == {"propose"}  # 交办 is for governance
    web.cookies.clear()
    _as(web, person, "governance")
    page = web.get(f"/findings/{fid}").text
    forms = set(re.findall(r'id="act-(\w+)"', page)) - {"assign-submit", "propose-submit"}
    assert forms == {"assign", "propose"}
    assert 'name="unit" required' in page and 'name="closing" required' in page


def _post(web: TestClient, fid: int, **fields: str) -> tuple[int, str]:
    form = web.get(f"/findings/{fid}")
    data = {"csrf_token": csrf_of(form.text), **fields}
    answer = web.post(f"/findings/{fid}/act", data=data, follow_redirects=False)
    return answer.status_code, answer.headers.get("location") or answer.text


def test_assigning_through_the_form_moves_the_case_and_records_the_person(
        web: TestClient, person: Callable[..., str], session: Session) -> None:
    fid = _case(session, state="reported")
    _as(web, person, "governance")
    deadline = (date.today() + timedelta(days=20)).isoformat()
    status, where = _post(web, fid, action="assign", unit="天心区文旅局", deadline=deadline,
                          comment="请于期限内整改")
    assert (status, where) == (303, f"/findings/{fid}?done=assign")
    finding = session.get(Finding, fid)
    assert finding is not None
    session.refresh(finding)
    assert (finding.state, finding.assignee, finding.deadline.isoformat() if finding.deadline
            else None) == ("assigned", "天心区文旅局", deadline)
    event = session.scalars(select(FindingEvent).where(FindingEvent.finding_id == fid)).one()
    assert event.actor == "user:李四(lisi)" and event.to_state == "assigned"
    assert session.scalars(select(AuditLog.actor).where(
        AuditLog.action == "finding.assign")).all() == ["user:李四(lisi)"]
    page = web.get(where).text
    assert 'id="case-state">已交办<' in page and "已办理：交办" in page
    assert "user:李四(lisi)" in page and "天心区文旅局" in page


def test_history_is_in_beijing_time(
        web: TestClient, person: Callable[..., str], session: Session) -> None:
    fid = _case(session, state="reported")
    session.add(FindingEvent(finding_id=fid, actor="user:某人(mr)", from_state="found",
                             to_state="reported", comment="上报",
                             at=datetime(2026, 1, 1, 16, 30, tzinfo=UTC)))
    session.flush()
    _as(web, person, "governance")
    assert "2026年01月02日 00:30:00" in web.get(f"/findings/{fid}").text


def test_a_form_without_the_csrf_token_changes_nothing(
        web: TestClient, person: Callable[..., str], session: Session) -> None:
    fid = _case(session, state="reported")
    _as(web, person, "governance")
    answer = web.post(f"/findings/{fid}/act", data={"action": "assign", "unit": "某单位",
                                                    "csrf_token": "forged"})
    assert answer.status_code == 403 and "页面已过期" in answer.text
    assert session.scalar(select(Finding.state).where(Finding.id == fid)) == "reported"


@pytest.mark.parametrize(("role", "fields", "status", "message"), [
    ("bureau", {"action": "assign", "unit": "某单位"}, 403, "角色不能交办"),
    ("governance", {"action": "assign"}, 422, "交办需指定责任单位"),
    ("governance", {"action": "assign", "unit": "某单位", "deadline": "2000-01-01"}, 422,
     "早于今天"),
    ("governance", {"action": "assign", "unit": "某单位", "deadline": "明天"}, 422,
     "不是有效日期"),
    ("governance", {"action": "report"}, 409, "不能上报"),
    ("governance", {"action": "propose", "closing": "retained", "comment": "依法保留存量"}, 422,
     "依法保留只适用于存量场所"),
    ("governance", {"action": "fly"}, 422, "未知操作"),
])
def test_a_refused_action_is_shown_on_the_page_in_chinese(
        web: TestClient, person: Callable[..., str], session: Session, role: str,
        fields: dict[str, str], status: int, message: str) -> None:
    fid = _case(session, state="reported")
    _as(web, person, role)
    code, page = _post(web, fid, **fields)
    assert code == status
    error = re.search(r'id="case-error">([^<]+)<', page)
    assert error is not None and message in error.group(1), page[:2000]
    assert "bureau" not in error.group(1) and "Traceback" not in page
    assert session.scalar(select(Finding.state).where(Finding.id == fid)) == "reported"
    assert session.scalars(select(FindingEvent).where(FindingEvent.finding_id == fid)).all() == []


def test_logged_out_people_are_sent_to_the_login(web: TestClient) -> None:
    for url in ("/findings", "/findings/1"):
        answer = web.get(url, follow_redirects=False)
        assert answer.status_code == 303 and answer.headers["location"].startswith("/login?next=")


def test_the_evidence_of_a_case_is_listed_and_counted_for_the_step_that_needs_it(
        web: TestClient, person: Callable[..., str], session: Session) -> None:
    fid = _case(session, state="rectifying")
    _as(web, person, "bureau")
    page = web.get(f"/findings/{fid}").text
    assert 'id="case-evidence-none"' in page and "现有证据材料 0 份" in page
    session.add(Evidence(finding_id=fid, sha256="ab" * 32, size_bytes=10,
                         media_type="image/jpeg", filename="<现场>照片.jpg", note="门头已拆除",
                         uploaded_by="user:张三(zhangsan)"))
    session.flush()
    page = web.get(f"/findings/{fid}").text
    assert "&lt;现场&gt;照片.jpg" in page and "门头已拆除" in page
    assert "现有证据材料 1 份" in page


def test_stock_filters_keep_existing_premises_and_list_expiring_ones_soonest_first(
        web: TestClient, person: Callable[..., str], session: Session) -> None:
    later, sooner, fresh = (_case(session, name=n) for n in ("晚到期", "早到期", "新开"))
    for fid, days in ((later, 60), (sooner, 10)):
        session.execute(text("UPDATE finding SET existing = true WHERE id = :id"), {"id": fid})
        session.execute(text("UPDATE premises SET expires_on = :d FROM finding f "
                             "WHERE f.id = :id AND premises.id = f.premises_id"),
                        {"id": fid, "d": date.today() + timedelta(days=days)})
    _as(web, person, "governance")
    assert _ids(web.get("/findings?stock=existing").text) == {later, sooner}
    assert _ids(web.get("/findings?stock=new").text) == {fresh}
    expiring = web.get("/findings?stock=expiring").text
    order = [int(i) for i in re.findall(r'<tr data-id="(\d+)">', expiring)]
    assert order == [sooner, later]


def test_a_viewer_reads_the_case_but_is_offered_no_action(
        web: TestClient, person: Callable[..., str], session: Session) -> None:
    fid = _case(session, state="reported")
    _as(web, person, "viewer")
    page = web.get(f"/findings/{fid}").text
    assert 'id="case-no-actions"' in page and "/act" not in page
    record = re.search(r'id="case-record" href="([^"]+)"', page)
    assert record is not None and "api_key" not in record.group(1)
    assert web.get(record.group(1)).status_code == 200  # the record opens on the session
    code, answer = _post(web, fid, action="propose", closing="unfounded", comment="核查不属实了")
    assert code == 403 and "“只读”角色不能" in answer


PNG = (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00"
       b"\x00\x90wS\xde\x00\x00\x00\x0cIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00"
       b"\x00\x00\x00IEND\xaeB`\x82")


def test_evidence_is_uploaded_from_the_case_page_and_unlocks_the_step(
        web: TestClient, person: Callable[..., str], session: Session, tmp_path) -> None:
    import hashlib

    fid = _case(session, state="rectifying")
    _as(web, person, "bureau")
    token = csrf_of(web.get(f"/findings/{fid}").text)
    refused = web.post(f"/findings/{fid}/evidence", data={"csrf_token": token},
                       files={"file": ("整改后.png", b"MZ\x90\x00not an image", "image/png")})
    assert refused.status_code == 415 and session.scalar(
        select(Evidence.id).where(Evidence.finding_id == fid)) is None
    forged = web.post(f"/findings/{fid}/evidence", data={"csrf_token": "forged"},
                      files={"file": ("整改后.png", PNG, "image/png")})
    assert forged.status_code == 403
    done = web.post(f"/findings/{fid}/evidence", data={"csrf_token": token, "note": "门头已拆除"},
                    files={"file": ("整改后.png", PNG, "image/png")}, follow_redirects=False)
    assert done.status_code == 303 and done.headers["location"].endswith("?done=evidence")
    stored = session.scalars(select(Evidence).where(Evidence.finding_id == fid)).one()
    assert stored.sha256 == hashlib.sha256(PNG).hexdigest() and stored.media_type == "image/png"
    assert stored.uploaded_by == "user:张三(zhangsan)" and stored.note == "门头已拆除"
    page = web.get(f"/findings/{fid}").text
    assert "整改后.png" in page and "现有证据材料 1 份" in page
    code, answer = _post(web, fid, action="submit", comment="门头已拆除，场所停业")
    assert code == 303, answer
    assert session.scalar(select(Finding.state).where(Finding.id == fid)) == "to_accept"


def test_a_viewer_is_offered_no_upload(
        web: TestClient, person: Callable[..., str], session: Session) -> None:
    fid = _case(session, state="rectifying")
    _as(web, person, "viewer")
    assert 'id="case-evidence-form"' not in web.get(f"/findings/{fid}").text
