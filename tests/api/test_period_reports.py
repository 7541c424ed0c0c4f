"""Period report over HTTP: the same numbers as JSON, XLSX and PDF; the caller's scope applies."""

from __future__ import annotations

import io

from openpyxl import load_workbook

from tests.zoneguard.reports.period_history import NOVEMBER_TOTAL, build_history
from zoneguard.reports.period import COUNTS, RATES

KEYS = [k for k, _ in COUNTS] + [k for k, *_ in RATES]


def test_period_json_equals_the_workbook_and_the_hand_computed_answer(client, admin, session):
    build_history(session)
    r = client.get("/api/v1/reports/period?period=2026-11", headers=admin)
    assert r.status_code == 200, r.text
    data = r.json()
    assert data["period"] == {"code": "2026-11", "kind": "month", "label": "2026年11月",
                              "start": "2026-11-01", "end": "2026-11-30"}
    assert tuple(data["total"][k] for k in KEYS) == NOVEMBER_TOTAL
    x = client.get("/reports/period.xlsx?period=2026-11", headers=admin)
    assert x.status_code == 200 and 'filename="period-2026-11.xlsx"' in \
        x.headers["content-disposition"]
    sheet = load_workbook(io.BytesIO(x.content))["按区"]
    total = [row for row in sheet.iter_rows(min_row=4, values_only=True) if row[0] == "合计"][0]
    assert total[1:17] == tuple("—" if v is None else v for v in NOVEMBER_TOTAL)
    by_school = client.get("/api/v1/reports/period?from=2026-11-01&to=2026-11-30&by=school",
                           headers=admin).json()
    assert by_school["total"] == data["total"] and by_school["period"]["kind"] == "range"
    assert [g["key"] for g in by_school["groups"]][:2] == ["1101080001", "4201020009"]


def test_period_follows_the_key_scope_and_refuses_bad_periods(client, admin, key_for, session):
    build_history(session)
    bureau = key_for("bureau", categories=["tobacco"], region="1101")
    data = client.get("/api/v1/reports/period?period=2026-11", headers=bureau).json()
    assert data["scope"] == {"region": "1101", "region_name": "北京市",
                             "categories": ["tobacco"]}
    assert data["total"]["new"] == 1 and data["total"]["closed"] == 0
    assert [g["name"] for g in data["groups"]] == ["海淀区（110108）"]
    assert client.get("/api/v1/reports/period?period=2026-11&region=42",
                      headers=bureau).status_code == 403
    for query in ("period=2026-13", "period=2026-11&from=2026-11-01", "", "from=2026-11-30&to="
                  "2026-11-01", "period=2026-11&by=province"):
        r = client.get(f"/api/v1/reports/period?{query}", headers=admin)
        assert r.status_code in (400, 422), (query, r.status_code)
        assert "Traceback" not in r.text
    assert client.get("/api/v1/reports/period?period=2026-11").status_code == 401


def test_period_pdf_download(client, admin, session):
    build_history(session)
    r = client.get("/reports/period.pdf?period=2026Q4&region=42", headers=admin)
    assert r.status_code == 200 and r.content.startswith(b"%PDF")
    assert 'filename="period-2026Q4-42.pdf"' in r.headers["content-disposition"]


def test_joint_sheet_download_follows_the_scope(client, admin, key_for, session):
    build_history(session)
    r = client.get("/reports/schools/4201020009/joint.xlsx?year=2026", headers=admin)
    assert r.status_code == 200, r.text
    assert 'filename="joint-4201020009-2026.xlsx"' in r.headers["content-disposition"]
    ws = load_workbook(io.BytesIO(r.content))["一校一表"]
    assert ws["A1"].value.startswith("江岸小学 2026 年度")
    outsider = key_for("viewer", region="1101")
    assert client.get("/reports/schools/4201020009/joint.xlsx",
                      headers=outsider).status_code == 404
    assert client.get("/reports/schools/4201020009/joint.xlsx?year=99",
                      headers=admin).status_code == 422
