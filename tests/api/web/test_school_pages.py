"""`/schools/{code}` (codes with '/'), its 一校一表 download, and `/reports` on the session."""

from __future__ import annotations

import io
import json
import re
from collections.abc import Callable

from fastapi.testclient import TestClient
from openpyxl import load_workbook
from pyproj import Geod
from shapely.geometry import box
from sqlalchemy import Engine, event
from sqlalchemy.orm import Session

from tests.api.web.conftest import login
from tests.factories import add_finding, add_premises, add_school

GEOD = Geod(ellps="WGS84")
CAMPUS = box(114.0, 30.5, 114.002, 30.502)
CODE = "osm:way/123"


def _east(metres: float) -> tuple[float, float]:
    lon, lat, _ = GEOD.fwd(114.002, 30.501, 90, metres)
    return lon, lat


def _school(session: Session) -> dict[str, int]:
    sid = add_school(session, CODE, CAMPUS, name="斜杠小学", region="420102")
    near = add_premises(session, "internet_cafe", *_east(120.0), name="<b>近网吧</b>",
                        licence_no="NEAR-1")
    lottery = add_premises(session, "lottery", *_east(30.0), name="彩票点", licence_no="LOT-1")
    fid = add_finding(session, sid, near, rule_id="t.internet_cafe", distance_m=120.0)
    return {"school": sid, "near": near, "lottery": lottery, "finding": fid}


def _login(web: TestClient, person: Callable[..., str], role: str = "bureau",
           **scope: object) -> None:
    status, _ = login(web, person("zhangsan", role=role, **scope))
    assert status == 303


def test_a_school_with_a_slash_in_its_code_shows_its_map_and_sheet(
        web: TestClient, person: Callable[..., str], session: Session) -> None:
    made = _school(session)
    _login(web, person, "governance")
    page = web.get("/schools/osm:way/123")
    assert page.status_code == 200
    assert 'id="school-name">斜杠小学' in page.text
    sheet = re.search(r'<table class="wb-table" id="school-sheet">(.*?)</table>', page.text, re.S)
    assert sheet is not None
    assert "&lt;b&gt;近网吧&lt;/b&gt;" in sheet.group(1) and "<b>近网吧" not in page.text
    assert "彩票点" in sheet.group(1) and "120.0" in sheet.group(1)
    assert f'<a href="/findings/{made["finding"]}">' in sheet.group(1)
    spec = json.loads(re.search(r'id="zg-spec">(.*?)</script>', page.text, re.S).group(1))  # type: ignore[union-attr]
    hrefs = [link["href"] for ov in spec["overlays"] for f in ov["data"]["features"]
             for link in f["properties"].get("_links", [])]
    assert f"/findings/{made['finding']}" in hrefs
    assert not [h for h in hrefs if h.startswith("/api/") or "api_key" in h]
    assert 'href="/schools/osm%3Away/123/sheet.xlsx"' in page.text
    assert "api_key" not in page.text
    # 禁止 40, found today: 橙 starts at 40 (data/risk.yaml) → 橙（40 分），建议每周排查
    risk = re.search(r'<p id="school-risk">(.*?)</p>', page.text, re.S)
    assert risk is not None and "橙（40 分），建议每周排查" in risk.group(1)
    assert f"问题#{made['finding']}：禁止 +40" in risk.group(1) and "非法定" in risk.group(1)


def test_the_sheet_downloads_on_the_session_within_the_scope(
        web: TestClient, person: Callable[..., str], session: Session) -> None:
    _school(session)
    _login(web, person, "bureau", categories=["internet_cafe"], region="4201")
    page = web.get("/schools/osm:way/123")
    assert "近网吧" in page.text and "彩票点" not in page.text
    answer = web.get("/schools/osm%3Away/123/sheet.xlsx")
    assert answer.status_code == 200
    assert answer.headers["content-disposition"] == 'attachment; filename="school-osm_way_123.xlsx"'
    book = load_workbook(io.BytesIO(answer.content))
    names = [row[1] for row in book["周边场所距离核查表"].iter_rows(min_row=2, values_only=True)]
    assert names == ["<b>近网吧</b>"]


def test_a_school_outside_the_region_is_not_shown(
        web: TestClient, person: Callable[..., str], session: Session) -> None:
    _school(session)
    _login(web, person, "bureau", region="4403")
    for url in ("/schools/osm:way/123", "/schools/osm:way/123/sheet.xlsx", "/schools/nope"):
        answer = web.get(url)
        assert answer.status_code == 404 and "不存在或不在您的权限范围内" in answer.text


def test_reports_are_links_that_work_on_the_session(
        web: TestClient, person: Callable[..., str], session: Session) -> None:
    _school(session)
    _login(web, person, "viewer", categories=["internet_cafe"])
    page = web.get("/reports")
    assert page.status_code == 200 and "api_key" not in page.text
    links = re.findall(r'href="(/reports/[^"]+)"', page.text)
    assert "/reports/summary.xlsx" in links and "/reports/exports/findings.csv" in links
    summary = web.get("/reports/summary.xlsx")
    assert summary.status_code == 200 and summary.content[:2] == b"PK"
    assert "/reports/coverage.xlsx" in links
    coverage = web.get("/reports/coverage.xlsx")
    assert coverage.status_code == 200 and coverage.content[:2] == b"PK"
    csv = web.get("/reports/exports/premises.csv")
    assert csv.status_code == 200
    assert "NEAR-1" in csv.text and "LOT-1" not in csv.text  # the viewer's category only
    web.cookies.clear()
    assert web.get("/reports/summary.xlsx").status_code == 401


def test_the_school_page_reads_its_premises_once(
        web: TestClient, person: Callable[..., str], session: Session) -> None:
    _school(session)
    _login(web, person, "governance")
    statements: list[str] = []

    def seen(conn: object, cursor: object, statement: str, *args: object) -> None:
        statements.append(statement)

    event.listen(Engine, "before_cursor_execute", seen)
    try:
        page = web.get("/schools/osm:way/123")
    finally:
        event.remove(Engine, "before_cursor_execute", seen)
    assert page.status_code == 200 and "近网吧" in page.text
    # the premises within reach of the campus: one read serves the map and the sheet
    assert sum("FROM school s JOIN premises p" in s for s in statements) == 1
