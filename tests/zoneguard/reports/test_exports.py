"""Exports of findings and registries, read back: CSV, XLSX, GeoJSON and GeoPackage."""

from __future__ import annotations

import csv
import io

import pyogrio
import pytest
from openpyxl import load_workbook

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
    assert header[:4] == ("id", "category", "licence_no", "name")
    assert [r[header.index("licence_no")] for r in rows[1:]] == ["YC-001"]
    assert rows[1][header.index("wkt")] == "POINT (114.299 30.5507)"


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
