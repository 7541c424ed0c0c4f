"""Report downloads over HTTP: 一校一表, summary, exports, measurement records."""

from __future__ import annotations

import csv
import io

from openpyxl import load_workbook

from tests.zoneguard.maps.sample import REGION, build_city


def test_school_sheet_download_reads_back(client, admin, session):
    city = build_city(session)
    r = client.get("/reports/schools/4201020001.xlsx", headers=admin)
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("application/vnd.openxmlformats")
    assert 'filename="school-4201020001.xlsx"' in r.headers["content-disposition"]
    assert "filename*=UTF-8''%E5%91%A8" in r.headers["content-disposition"]  # 周边场所距离核查表
    rows = list(load_workbook(io.BytesIO(r.content))["周边场所距离核查表"].iter_rows(
        values_only=True))
    assert [row[3] for row in rows[1:]] == ["WB-001", "YC-001", "WB-002"]
    assert rows[1][13] == city.cafe_finding
    assert client.get("/reports/schools/none.xlsx", headers=admin).status_code == 404
    assert client.get("/reports/schools/4201020001.xlsx").status_code == 401


def test_summary_download_for_a_region(client, admin, session):
    build_city(session)
    r = client.get("/reports/summary.xlsx?region=4201", headers=admin)
    assert r.status_code == 200
    pivot = list(load_workbook(io.BytesIO(r.content))["分区汇总"].iter_rows(min_row=4,
                                                                          values_only=True))
    assert pivot[0][:3] == ("江岸区（420102）", 3, 2)


def test_exports_follow_the_key_scope(client, admin, key_for, session):
    build_city(session)
    r = client.get(f"/reports/exports/findings.csv?region={REGION}", headers=admin)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    assert len(list(csv.DictReader(io.StringIO(r.content.decode("utf-8-sig"))))) == 3
    bureau = key_for("bureau", categories=["tobacco"], region="4201")
    scoped = client.get("/reports/exports/premises.csv", headers=bureau)
    rows = list(csv.DictReader(io.StringIO(scoped.content.decode("utf-8-sig"))))
    assert [row["licence_no"] for row in rows] == ["YC-001"]
    gpkg = client.get("/reports/exports/schools.gpkg", headers=admin)
    assert gpkg.status_code == 200 and gpkg.content[:16] == b"SQLite format 3\x00"
    assert client.get("/reports/exports/users.csv", headers=admin).status_code == 422


def test_records_as_html_and_pdf(client, admin, key_for, session):
    city = build_city(session)
    made = client.post("/api/v1/screenings", headers=admin, json={
        "category": "internet_cafe", "location": {"lon": 114.3025, "lat": 30.5507},
        "region": REGION}).json()
    html = client.get(f"/reports/screenings/{made['id']}/record.html", headers=admin)
    assert html.status_code == 200 and html.headers["content-type"].startswith("text/html")
    assert f"{made['conflicts'][0]['distance_m']:.1f} 米" in html.text
    pdf = client.get(f"/reports/findings/{city.cafe_finding}/record.pdf", headers=admin)
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF-")
    lottery_only = key_for("bureau", categories=["lottery"], region="4201")
    assert client.get(f"/reports/findings/{city.cafe_finding}/record.html",
                      headers=lottery_only).status_code == 404
