"""Exports of findings and registries, read back: CSV, XLSX, GeoJSON and GeoPackage."""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime, timedelta

import pyogrio
import pytest
from openpyxl import load_workbook
from sqlalchemy import text

from tests.zoneguard.maps.sample import XSS, build_city
from zoneguard.errors import ValidationError
from zoneguard.reports.exports import export_bytes, write_export


def test_findings_csv_has_one_row_per_finding_with_coordinates(session):
    city = build_city(session)
    data = export_bytes(session, "findings", "csv", region="420102")
    assert data.startswith(b"\xef\xbb\xbf")  # BOM: Excel reads the Chinese text
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))
    assert [int(r["id"]) for r in rows] == [city.cafe_finding, city.xss_finding,
                                            city.tobacco_finding]
    assert rows[1]["premises_name"] == XSS and rows[1]["assignee"] == "王科长"
    assert rows[1]["deadline"] == "2020-06-30"
    assert float(rows[0]["lon"]) == pytest.approx(114.3028)
    assert rows[0]["line_wkt"].startswith("LINESTRING")


def test_premises_xlsx_filters_by_category(session):
    build_city(session)
    wb = load_workbook(io.BytesIO(export_bytes(session, "premises", "xlsx",
                                               categories=["tobacco"])))
    rows = list(wb.active.iter_rows(values_only=True))
    header = rows[0]
    assert header[:4] == ("编号", "类别", "许可证号", "场所名称")
    assert [r[header.index("许可证号")] for r in rows[1:]] == ["YC-001"]
    assert rows[1][header.index("几何（WKT）")] == "POINT (114.299 30.5507)"
    assert rows[1][1] == "烟草制品（含电子烟）零售点"
    assert rows[1][header.index("经营状态")] == "在营"
    assert rows[1][header.index("行政区划")] == "江岸区（420102）"


def test_findings_xlsx_is_for_people_and_csv_geojson_for_machines(session):
    city = build_city(session)
    first_seen = session.execute(text("SELECT first_seen FROM finding WHERE id = :id"),
                                 {"id": city.xss_finding}).scalar_one()
    beijing = (first_seen + timedelta(hours=8)).replace(tzinfo=None, microsecond=0)
    wb = load_workbook(io.BytesIO(export_bytes(session, "findings", "xlsx", region="420102")))
    assert wb.sheetnames == ["问题清单"]
    rows = list(wb.active.iter_rows(values_only=True))
    head = rows[0]
    row = dict(zip(head, next(r for r in rows[1:] if r[0] == city.xss_finding), strict=True))
    assert row["类别"] == "互联网上网服务营业场所" and row["结论"] == "不符合距离要求"
    assert row["处置状态"] == "已交办" and row["行政区划"] == "江岸区（420102）"
    assert row["整改期限"] == datetime(2020, 6, 30)  # a real date
    assert row["首次发现时间（北京时间）"].replace(microsecond=0) == beijing
    assert "verdict" not in head and "first_seen" not in head

    plain = export_bytes(session, "findings", "csv", region="420102").decode("utf-8-sig")
    machine = next(r for r in csv.DictReader(io.StringIO(plain))
                   if int(r["id"]) == city.xss_finding)
    assert machine["verdict"] == "prohibited" and machine["category"] == "internet_cafe"
    assert machine["state"] == "assigned" and machine["region"] == "420102"
    assert datetime.fromisoformat(machine["first_seen"]) == first_seen
    zh = export_bytes(session, "findings", "csv", labels="zh", region="420102")
    people = next(r for r in csv.DictReader(io.StringIO(zh.decode("utf-8-sig")))
                  if r["问题编号"] == str(city.xss_finding))
    assert people["结论"] == "不符合距离要求" and people["行政区划"] == "江岸区（420102）"
    assert datetime.fromisoformat(people["首次发现时间（北京时间）"]).replace(
        microsecond=0) == beijing

    features = json.loads(export_bytes(session, "findings", "geojson"))["features"]
    assert {f["properties"]["verdict"] for f in features} == {"prohibited", "review"}
    labelled = json.loads(export_bytes(session, "findings", "geojson", labels="zh"))
    assert {f["properties"]["结论"] for f in labelled["features"]} == {"不符合距离要求", "需复核"}
    with pytest.raises(ValidationError):
        export_bytes(session, "findings", "csv", labels="fr")


@pytest.mark.parametrize("fmt", ["geojson", "gpkg"])
def test_schools_and_premises_write_as_gis_layers(session, tmp_path, fmt):
    build_city(session)
    out = tmp_path / f"schools.{fmt}"
    assert write_export(session, "schools", fmt, out, region="420102") == 2
    df = pyogrio.read_dataframe(out)
    assert sorted(df["code"]) == ["4201020001", "4201020002"]
    assert df.crs.to_epsg() == 4326
    assert df.geometry.iloc[0].geom_type == "MultiPolygon"
    premises = tmp_path / f"premises.{fmt}"
    assert write_export(session, "premises", fmt, premises) == 6
    assert XSS in set(pyogrio.read_dataframe(premises)["name"])


def test_schools_csv_gives_polygons_as_wkt_without_lon_lat(session):
    build_city(session)
    rows = list(csv.DictReader(io.StringIO(
        export_bytes(session, "schools", "csv", region="420102").decode("utf-8-sig"))))
    assert [r["code"] for r in rows] == ["4201020001", "4201020002"]
    assert rows[0]["wkt"].startswith("MULTIPOLYGON (((114.3")
    assert rows[0]["lon"] == "" and rows[0]["levels"] == "primary"


def test_empty_exports_are_still_valid_files(session):
    for fmt in ("csv", "xlsx", "geojson", "gpkg"):
        assert export_bytes(session, "findings", fmt, region="659999")


def test_unknown_export_is_rejected(session):
    with pytest.raises(ValidationError):
        export_bytes(session, "users", "csv")
    with pytest.raises(ValidationError):
        export_bytes(session, "schools", "shp")
