"""The workbench desk in headless Chromium: filter, open a case, move it by keyboard, the
school page, and an import's dry run; nothing leaves the server, no console errors."""

from __future__ import annotations

import json
from urllib.parse import urlparse

from pyproj import Geod
from shapely.geometry import box
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from tests.api.web.test_findings_desk import PNG
from tests.browser.cdp import Browser
from tests.conftest import ARTIFACTS
from tests.factories import add_finding, add_premises, add_school
from zoneguard.models import Finding, FindingEvent, Premises
from zoneguard.services.access.users import create_user

GEOD = Geod(ellps="WGS84")
CAMPUS = box(114.0, 30.5, 114.002, 30.502)
PASSWORD = "浏览器 test passphrase"
PAGE_READY = "document.readyState === 'complete'"
MAP_READY = f"{PAGE_READY} && window.zgMap && window.zgMap.ready"
UNLABELLED = ("Array.from(document.querySelectorAll('main form input:not([type=hidden]), "
              "main form select, main form textarea')).filter(function (e) { "
              "return !(e.labels && e.labels.length); }).map(function (e) { return e.name; })")
CSV = ("licence_no,name,category,region,lon,lat\n"
       "TX-1,便利店一,tobacco,420102,114.01,30.51\n"
       "TX-2,便利店二,tobacco,420102,114.02,30.52\n")


def _east(metres: float) -> tuple[float, float]:
    lon, lat, _ = GEOD.fwd(114.002, 30.501, 90, metres)
    return lon, lat


def _setup(session: Session, role: str = "governance") -> dict[str, int]:
    sid = add_school(session, "WB-001", CAMPUS, name="工作台小学", region="420102")
    near = add_premises(session, "internet_cafe", *_east(60.0), name="星空网咖",
                        licence_no="WB-NET-1")
    lottery = add_premises(session, "lottery", *_east(30.0), name="好运彩票",
                           licence_no="WB-LOT-1")
    edge = (114.002, 30.501)
    case = add_finding(session, sid, near, rule_id="t.internet_cafe", state="reported",
                       distance_m=60.0, line=(_east(60.0), edge))
    other = add_finding(session, sid, lottery, rule_id="t.lottery", state="found",
                        distance_m=30.0, threshold_m=50.0, line=(_east(30.0), edge))
    create_user(session, username="lisi", password=PASSWORD, role=role, display_name="李四")
    return {"case": case, "other": other}


def _key(page: Browser, key: str, code: int) -> None:
    """Press and release a key (Enter carries its text, so it submits or activates)."""
    down = {"type": "keyDown", "text": "\r"} if key == "Enter" else {"type": "rawKeyDown"}
    for event in (down, {"type": "keyUp"}):
        page.call("Input.dispatchKeyEvent", {**event, "key": key, "code": key,
                                             "windowsVirtualKeyCode": code})


def _type(page: Browser, element: str, text: str) -> None:
    page.evaluate(f"document.getElementById({element!r}).focus()")
    page.call("Input.insertText", {"text": text})


def _login(page: Browser, served: str) -> None:
    page.goto(f"{served}/login", ready=f"{PAGE_READY} && document.getElementById('username')")
    _type(page, "username", "lisi")
    _type(page, "password", PASSWORD)
    _key(page, "Enter", 13)
    page.wait_for("location.pathname === '/' && document.querySelector('.wb-tiles')")


def _stays_home(page: Browser, served: str) -> None:
    outside = [u for u in page.requested_urls()
               if urlparse(u).scheme not in ("data", "blob") and not u.startswith(served)]
    assert outside == []
    assert page.console_errors() == []


def test_filter_the_desk_open_a_case_and_assign_it_by_keyboard(
        served: str, session: Session, page: Browser) -> None:
    made = _setup(session)
    _login(page, served)
    page.goto(f"{served}/findings", ready=MAP_READY)
    assert page.evaluate("document.getElementById('desk-total').textContent") == "2"
    assert page.evaluate("window.zgMap.counts.cases") == 2
    assert page.evaluate(UNLABELLED) == []
    page.evaluate("document.getElementById('f-category').value = 'internet_cafe'")
    page.evaluate("document.getElementById('desk-submit').click()")
    page.wait_for(f"location.search.indexOf('category=internet_cafe') >= 0 && {MAP_READY}")
    ids = page.evaluate("Array.from(document.querySelectorAll('#desk-table tbody tr'))"
                        ".map(function (r) { return Number(r.dataset.id); })")
    assert ids == [made["case"]]
    page.screenshot(ARTIFACTS / "workbench_findings.png")
    page.evaluate(f"document.querySelector('a[href=\"/findings/{made['case']}\"]').click()")
    page.wait_for(f"location.pathname === '/findings/{made['case']}' && {MAP_READY}")
    assert page.evaluate("document.getElementById('case-state').textContent") == "已上报"
    assert page.evaluate("window.zgMap.counts.lines") == 1
    assert page.evaluate(UNLABELLED) == []
    forms = page.evaluate("Array.from(document.querySelectorAll('#case-actions form'))"
                          ".map(function (f) { return f.id; })")
    assert forms == ["act-assign", "act-propose"]
    _type(page, "assign-unit", "天心区文旅局")
    _key(page, "Tab", 9)
    assert page.evaluate("document.activeElement.id") == "assign-deadline"
    page.evaluate("document.getElementById('assign-comment').focus()")
    page.call("Input.insertText", {"text": "请限期整改"})
    page.evaluate("document.getElementById('act-assign-submit').focus()")
    _key(page, "Enter", 13)
    page.wait_for("document.getElementById('case-done') && "
                  "document.getElementById('case-state').textContent === '已交办'")
    history = page.evaluate("document.getElementById('case-history').textContent")
    assert "user:李四(lisi)" in history and "请限期整改" in history and "已交办" in history
    page.screenshot(ARTIFACTS / "workbench_case.png")
    _stays_home(page, served)
    assert session.scalar(select(Finding.state).where(Finding.id == made["case"])) == "assigned"
    event = session.scalars(select(FindingEvent).where(
        FindingEvent.finding_id == made["case"])).one()
    assert event.actor == "user:李四(lisi)"


def test_a_refused_step_is_explained_on_the_page(
        served: str, session: Session, page: Browser) -> None:
    made = _setup(session)
    _login(page, served)
    page.goto(f"{served}/findings/{made['case']}", ready=MAP_READY)
    # Skip the browser's own check of the required field: the server must refuse it too.
    page.evaluate("document.getElementById('act-assign').noValidate = true")
    page.evaluate("document.getElementById('act-assign-submit').click()")
    page.wait_for("document.getElementById('case-error')")
    assert page.evaluate("document.getElementById('case-error').textContent") \
        == "交办需指定责任单位"
    assert page.evaluate("document.getElementById('case-state').textContent") == "已上报"
    errors = page.console_errors()  # the 422 answer of the refused form is logged by Chromium
    assert all("422" in e for e in errors)


def test_the_school_page_shows_its_map_and_sheet(
        served: str, session: Session, page: Browser) -> None:
    _setup(session)
    _login(page, served)
    page.goto(f"{served}/schools/WB-001", ready=MAP_READY)
    rows = page.evaluate("document.querySelectorAll('#school-sheet tbody tr').length")
    assert rows == 2
    assert page.evaluate("window.zgMap.counts.premises") == 2
    sheet = page.evaluate("document.getElementById('sheet-link').getAttribute('href')")
    assert sheet == "/schools/WB-001/sheet.xlsx"
    page.screenshot(ARTIFACTS / "workbench_school.png")
    _stays_home(page, served)


def test_an_import_is_tried_before_it_is_written(
        served: str, session: Session, page: Browser) -> None:
    _setup(session, role="admin")
    _login(page, served)
    page.goto(f"{served}/imports", ready=f"{PAGE_READY} && document.getElementById('file')")
    assert page.evaluate(UNLABELLED) == []
    page.evaluate("(function () { var t = new DataTransfer(); t.items.add(new File("
                  f"[{json.dumps(CSV)}], '登记.csv', {{type: 'text/csv'}})); "
                  "document.getElementById('file').files = t.files; return true; })()")
    page.evaluate("document.getElementById('import-submit').click()")
    page.wait_for("document.getElementById('import-title')")
    assert page.evaluate("document.getElementById('count-inserted').textContent") == "2"
    assert page.evaluate("!!document.getElementById('import-confirm')")
    page.screenshot(ARTIFACTS / "workbench_import.png")
    assert session.scalars(select(Premises.licence_no).where(
        Premises.category == "tobacco")).all() == []  # the dry run wrote nothing
    page.evaluate("document.getElementById('import-confirm-submit').click()")
    page.wait_for("document.getElementById('import-title') && document.getElementById("
                  "'import-title').textContent.indexOf('已导入') === 0")
    page.screenshot(ARTIFACTS / "workbench_imported.png")
    _stays_home(page, served)
    assert sorted(session.scalars(select(Premises.licence_no).where(
        Premises.category == "tobacco"))) == ["TX-1", "TX-2"]


def test_evidence_is_uploaded_from_the_case_page(
        served: str, session: Session, page: Browser) -> None:
    made = _setup(session)
    session.execute(text("UPDATE finding SET state = 'rectifying' WHERE id = :id"),
                    {"id": made["case"]})
    _login(page, served)
    page.goto(f"{served}/findings/{made['case']}", ready=MAP_READY)
    assert page.evaluate(UNLABELLED) == []
    png = list(PNG)
    page.evaluate("(function () { var t = new DataTransfer(); t.items.add(new File("
                  f"[new Uint8Array({json.dumps(png)})], '整改后.png', {{type: 'image/png'}})); "
                  "document.getElementById('evidence-file').files = t.files; })()")
    _type(page, "evidence-note", "门头已拆除")
    page.evaluate("document.querySelector('#case-evidence-form button').click()")
    page.wait_for("document.getElementById('case-evidence') && "
                  "document.getElementById('case-evidence').textContent.includes('整改后.png')")
    assert "门头已拆除" in page.evaluate("document.getElementById('case-evidence').textContent")
    page.screenshot(ARTIFACTS / "workbench_evidence.png")
    _stays_home(page, served)
