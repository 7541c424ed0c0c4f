"""Format coverage beyond CSV: XLSX, GeoPackage, projected and Chinese-datum coordinates."""

from __future__ import annotations

import datetime as dt
import tempfile
from pathlib import Path

import geopandas as gpd
import numpy as np
import openpyxl
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st
from pyproj import Transformer

from tests.zoneguard.imports.test_real_files import distances_m, wgs_to_bd, wgs_to_gcj
from zoneguard.errors import ImportProblem
from zoneguard.imports import read_table


def test_xlsx_with_a_title_row_dates_and_numeric_codes(tmp_path: Path) -> None:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = "学校名单"
    sheet.append(["长沙市天心区中小学名单（2024）"])
    sheet.append(["学校标识码", "学校名称", "办学类型", "在校生数", "建校日期", "经度", "纬度",
                  "行政区划代码"])
    sheet.append([3143000123, "天心区第一小学", "小学", 1200, dt.datetime(1958, 9, 1),
                  112.98, 28.17, 430103])
    sheet.append([None, None, None, None, None, None, None, None])
    sheet.append([3143000124, "天心区实验中学", "初中,高中", 2000.0, "1990年", 112.99, 28.16,
                  430103])
    workbook.create_sheet("说明").append(["这里不是数据"])
    workbook.save(tmp_path / "schools.xlsx")
    parsed = read_table(tmp_path / "schools.xlsx", kind="schools", crs="cgcs2000")
    frame = parsed.frame
    assert parsed.ok and frame.source_row.tolist() == [3, 5]
    assert frame.code.tolist() == ["3143000123", "3143000124"]
    assert frame.region.tolist() == ["430103", "430103"]
    assert frame.opened_on.tolist() == [dt.date(1958, 9, 1), dt.date(1990, 1, 1)]
    assert frame.enrolment.tolist() == [1200, 2000]
    assert frame.levels.tolist() == [["primary"], ["secondary"]]
    assert frame.attributes.iloc[0]["建校日期"] == "1958-09-01T00:00:00"
    assert parsed.source_crs == "EPSG:4490"
    with pytest.raises(ImportProblem, match="没有名为“Sheet9”的工作表"):
        read_table(tmp_path / "schools.xlsx", kind="schools", crs="wgs84", sheet="Sheet9")


def test_geopackage_polygons_in_cgcs2000_gauss_kruger(tmp_path: Path) -> None:
    to_gk = Transformer.from_crs("EPSG:4326", "EPSG:4547", always_xy=True)
    campus = shapely.Polygon([(113.00, 28.20), (113.004, 28.20), (113.004, 28.203),
                              (113.00, 28.203)])
    projected = shapely.transform(campus, lambda xy: np.column_stack(to_gk.transform(*xy.T)))
    frame = gpd.GeoDataFrame({"学校名称": ["某某中学"], "学段": ["完全中学"], "学校代码": ["A1"]},
                             geometry=[projected], crs="EPSG:4547")
    frame.to_file(tmp_path / "campus.gpkg", layer="campus", driver="GPKG")
    with pytest.raises(ImportProblem, match="文件声明的坐标系是 EPSG:4547"):
        read_table(tmp_path / "campus.gpkg", kind="schools", crs=None)
    parsed = read_table(tmp_path / "campus.gpkg", kind="schools", crs="EPSG:4547")
    geom = parsed.frame.geometry.iloc[0]
    assert parsed.ok and parsed.declared_crs == "EPSG:4547" and parsed.warnings == []
    assert geom.geom_type == "MultiPolygon" and geom.symmetric_difference(campus).area < 1e-14
    assert parsed.frame.precision.iloc[0] == "boundary"


def test_declared_crs_differing_from_crs_warns(tmp_path: Path) -> None:
    frame = gpd.GeoDataFrame({"名称": ["一小"], "学段": ["小学"]},
                             geometry=[shapely.Point(113.0, 28.2)], crs="EPSG:4490")
    frame.to_file(tmp_path / "s.geojson", driver="GeoJSON")
    parsed = read_table(tmp_path / "s.geojson", kind="schools", crs="gcj02")
    assert "文件声明的坐标系是 EPSG:4490，但所选坐标系是 gcj02；按 gcj02 换算" in parsed.warnings


@settings(max_examples=40, deadline=None)
@given(st.floats(100.0, 122.0), st.floats(20.0, 42.0), st.sampled_from(["gcj02", "bd09"]))
def test_chinese_datum_csv_lands_within_a_millimetre(lon: float, lat: float, crs: str) -> None:
    forward = wgs_to_gcj if crs == "gcj02" else wgs_to_bd
    gx, gy = (float(v[0]) for v in forward(np.array([lon]), np.array([lat])))
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "p.csv"
        path.write_text(f"名称,许可证号,经度,纬度,入口经度,入口纬度\n网吧,L1,{gx!r},{gy!r},"
                        f"{gx!r},{gy!r}\n", encoding="utf-8")
        parsed = read_table(path, kind="premises", crs=crs, category="网吧")
    assert parsed.ok and parsed.frame.category.iloc[0] == "internet_cafe"
    assert distances_m(parsed.frame.geometry.values, np.array([lon]), np.array([lat]))[0] < 0.001
    entrance = parsed.frame.entrance.iloc[0]
    assert distances_m(np.array([entrance]), np.array([lon]), np.array([lat]))[0] < 0.001


def test_entrance_needs_both_coordinates(tmp_path: Path) -> None:
    path = tmp_path / "p.csv"
    path.write_text("名称,许可证号,类别,经度,纬度,入口经度,入口纬度\n"
                    "甲,L1,彩票,113.0,28.2,113.0001,\n乙,L2,彩票,113.0,28.2,,\n", encoding="utf-8")
    parsed = read_table(path, kind="premises", crs="wgs84")
    assert parsed.rejected_rows == {2}
    assert "须同时填写经度和纬度" in parsed.problems[0].problem
    assert parsed.frame.entrance.tolist() == [None, None]


def test_gates_csv(tmp_path: Path) -> None:
    path = tmp_path / "g.csv"
    path.write_text("学校标识码,类型,名称,经度,纬度\nA1,正门,南门,113.0,28.2\nA1,东门,,113.001,28.2\n"
                    ",后门,,113.0,28.2\n", encoding="utf-8")
    parsed = read_table(path, kind="gates", crs="wgs84")
    assert parsed.frame.kind.tolist() == ["main", "other", "back"]
    assert parsed.rejected_rows == {4}
    assert [p.severity for p in parsed.problems] == ["warning", "error"]
    assert list(parsed.frame.columns) == ["school_code", "kind", "name", "attributes",
                                          "source_row", "geometry"]


def test_coordinate_columns_only_stand_in_when_no_feature_has_a_geometry(tmp_path: Path) -> None:
    import pandas as pd
    import pyogrio

    table = pd.DataFrame({"名称": ["甲", "乙"], "许可证号": ["X1", "X2"], "经度": [113.0, 113.1],
                          "纬度": [28.2, 28.3]})
    pyogrio.write_dataframe(table, tmp_path / "t.gpkg", layer="shops", driver="GPKG")
    parsed = read_table(tmp_path / "t.gpkg", kind="premises", crs="wgs84", category="tobacco")
    assert parsed.ok and parsed.frame.geometry.x.tolist() == [113.0, 113.1]
    features = ('{"type":"FeatureCollection","features":['
                '{"type":"Feature","properties":{"名称":"甲","学段":"小学","经度":1,"纬度":2},'
                '"geometry":{"type":"Point","coordinates":[113.0,28.2]}},'
                '{"type":"Feature","properties":{"名称":"乙","学段":"小学","经度":113.1,"纬度":28.3},'
                '"geometry":null}]}')
    (tmp_path / "mixed.geojson").write_text(features, encoding="utf-8")
    parsed = read_table(tmp_path / "mixed.geojson", kind="schools", crs="wgs84")
    assert parsed.frame.geometry.iloc[0].x == 113.0
    assert parsed.rejected_rows == {2} and "经纬度为空" in parsed.problems[0].problem


def test_utf16_text_export(tmp_path: Path) -> None:
    text = "学校名称\t学段\t经度\t纬度\r\n一小\t小学\t121.47\t31.23\r\n"
    (tmp_path / "s.txt").write_bytes(text.encode("utf-16"))
    parsed = read_table(tmp_path / "s.txt", kind="schools", crs="wgs84")
    assert parsed.encoding == "utf-16" and parsed.frame.name.tolist() == ["一小"]
