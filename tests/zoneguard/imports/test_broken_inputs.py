"""Every broken input gives the specified outcome: a clear ImportProblem or a row problem."""

from __future__ import annotations

import json
import math
import random
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import geopandas as gpd
import openpyxl
import pyogrio
import pytest
import shapely
from shapely.geometry import Polygon

from zoneguard.errors import ImportProblem
from zoneguard.imports import read_table

REAL = Path(__file__).resolve().parents[3] / "data" / "real"
SCHOOL_HEADER = "学校名称,学段,学校标识码,经度,纬度\n"


def write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_bytes(text.encode(encoding))
    return path


def problem_of(path: Path, **kwargs: object) -> ImportProblem:
    kwargs.setdefault("kind", "schools")
    kwargs.setdefault("crs", "wgs84")
    with pytest.raises(ImportProblem) as info:
        read_table(path, **kwargs)  # type: ignore[arg-type]
    assert info.value.extra["report"]["file_name"] == path.name
    return info.value


def feature_collection(*geometries: Mapping[str, Any], **props: object) -> str:
    features = [{"type": "Feature", "properties": {"名称": f"学校{i}", "学段": "小学", **props},
                 "geometry": g} for i, g in enumerate(geometries)]
    return json.dumps({"type": "FeatureCollection", "features": features}, ensure_ascii=False)


def test_random_bytes_are_an_unreadable_encoding(tmp_path: Path) -> None:
    data = random.Random(7).randbytes(4096)
    (tmp_path / "noise.csv").write_bytes(data)
    error = problem_of(tmp_path / "noise.csv")
    assert "无法识别文件编码" in error.detail
    assert "UTF-8" in error.detail


def test_xlsx_renamed_to_csv_is_named(tmp_path: Path) -> None:
    workbook = openpyxl.Workbook()
    workbook.active.append(["名称", "经度"])
    workbook.save(tmp_path / "book.csv")
    assert "XLSX" in problem_of(tmp_path / "book.csv").detail


def test_truncated_geojson_is_corrupt(tmp_path: Path) -> None:
    text = (REAL / "changsha_tianxin_tobacco.geojson").read_text(encoding="utf-8")
    write(tmp_path / "cut.geojson", text[:5000])
    error = problem_of(tmp_path / "cut.geojson", kind="premises", crs="gcj02",
                       category="tobacco")
    assert "文件不完整或已损坏" in error.detail


def test_truncated_xlsx_is_corrupt(tmp_path: Path) -> None:
    workbook = openpyxl.Workbook()
    workbook.active.append(["名称", "学段", "经度", "纬度"])
    workbook.save(tmp_path / "full.xlsx")
    data = (tmp_path / "full.xlsx").read_bytes()
    (tmp_path / "cut.xlsx").write_bytes(data[: len(data) // 2])
    assert "文件不完整或已损坏" in problem_of(tmp_path / "cut.xlsx").detail


def test_truncated_osm_is_corrupt(tmp_path: Path) -> None:
    data = (REAL / "helsinki.osm.pbf").read_bytes()
    (tmp_path / "cut.osm.pbf").write_bytes(data[: len(data) // 3])
    assert "文件不完整或已损坏" in problem_of(tmp_path / "cut.osm.pbf", crs=None).detail


def test_text_in_a_number_column_is_a_row_problem(tmp_path: Path) -> None:
    path = write(tmp_path / "s.csv", SCHOOL_HEADER + "一小,小学,1,121.47,31.23\n"
                 "二小,小学,2,东经121度,31.23\n三小,小学,3,121.48,31.24\n")
    parsed = read_table(path, kind="schools", crs="wgs84")
    assert parsed.rejected_rows == {3}
    (problem,) = parsed.problems
    assert (problem.row, problem.column, problem.value) == (3, "经度", "东经121度")
    assert problem.problem == "不是数字"
    assert len(parsed.valid_frame()) == 2


def test_swapped_coordinates_are_detected_and_named(tmp_path: Path) -> None:
    path = write(tmp_path / "s.csv", SCHOOL_HEADER + "一小,小学,1,31.23,121.47\n")
    parsed = read_table(path, kind="schools", crs="wgs84")
    (problem,) = parsed.problems
    assert problem.row == 2 and "经纬度疑似颠倒" in problem.problem


def test_swapped_coordinates_in_range_are_caught_by_the_china_check(tmp_path: Path) -> None:
    body = "名称,学段,经度,纬度,区划代码\n一小,小学,39.90,116.40,110108\n"
    path = write(tmp_path / "s.csv", body)
    parsed = read_table(path, kind="schools", crs="wgs84")
    assert parsed.rejected_rows == {2}
    assert "经纬度疑似颠倒" in parsed.problems[-1].problem


def test_china_check_only_applies_to_chinese_data(tmp_path: Path) -> None:
    body = "名称,学段,经度,纬度\n巴黎小学,小学,2.35,48.85\n"
    assert read_table(write(tmp_path / "a.csv", body), kind="schools", crs="wgs84").ok
    parsed = read_table(write(tmp_path / "b.csv", body), kind="schools", crs="gcj02")
    assert "在中国境外" in parsed.problems[-1].problem
    parsed = read_table(write(tmp_path / "c.csv", body), kind="schools", crs="wgs84",
                        region="310104")
    assert "在中国境外" in parsed.problems[-1].problem


def test_missing_coordinates_and_out_of_range(tmp_path: Path) -> None:
    path = write(tmp_path / "s.csv", SCHOOL_HEADER + "一小,小学,1,,\n二小,小学,2,200,95\n")
    parsed = read_table(path, kind="schools", crs="wgs84")
    assert [p.row for p in parsed.problems] == [2, 3]
    assert "经纬度为空" in parsed.problems[0].problem
    assert "超出坐标系" in parsed.problems[1].problem


def test_bowtie_polygon_is_refused_with_a_clear_message(tmp_path: Path) -> None:
    bowtie = {"type": "Polygon", "coordinates": [
        [[121.0, 31.0], [121.01, 31.01], [121.01, 31.0], [121.0, 31.01], [121.0, 31.0]]]}
    path = write(tmp_path / "b.geojson", feature_collection(bowtie))
    parsed = read_table(path, kind="schools", crs="EPSG:4326")
    assert parsed.rejected_rows == {1}
    (problem,) = parsed.problems
    assert problem.severity == "error" and "校园边界自相交" in problem.problem
    assert "碎成 2 块" in problem.problem


def test_an_invalid_polygon_that_repairs_into_one_piece_is_kept_and_reported(
        tmp_path: Path) -> None:
    # the courtyard (hole) touches the outer wall along an edge: invalid, one piece repaired
    shell = [[121.0, 31.0], [121.01, 31.0], [121.01, 31.01], [121.0, 31.01], [121.0, 31.0]]
    hole = [[121.0, 31.002], [121.005, 31.002], [121.005, 31.008], [121.0, 31.008],
            [121.0, 31.002]]
    path = write(tmp_path / "h.geojson",
                 feature_collection({"type": "Polygon", "coordinates": [shell, hole]}))
    parsed = read_table(path, kind="schools", crs="EPSG:4326")
    assert parsed.ok
    (problem,) = parsed.problems
    assert problem.severity == "warning" and "已自动修复" in problem.problem
    geom = parsed.frame.geometry.iloc[0]
    assert geom.geom_type == "MultiPolygon" and geom.is_valid and len(geom.geoms) == 1
    assert parsed.frame.precision.iloc[0] == "boundary"


def test_degenerate_and_empty_polygons_are_rejected(tmp_path: Path) -> None:
    flat = {"type": "Polygon", "coordinates": [
        [[121.0, 31.0], [121.01, 31.0], [121.02, 31.0], [121.0, 31.0]]]}
    two = {"type": "Polygon", "coordinates": [[[121.0, 31.0], [121.01, 31.0], [121.0, 31.0],
                                               [121.0, 31.0]]]}
    empty = {"type": "Polygon", "coordinates": []}
    line = {"type": "LineString", "coordinates": [[121.0, 31.0], [121.01, 31.0]]}
    path = write(tmp_path / "d.geojson", feature_collection(flat, two, empty, line))
    parsed = read_table(path, kind="schools", crs="EPSG:4326")
    assert parsed.rejected_rows == {1, 2, 3, 4}
    text = [p.problem for p in sorted(parsed.problems, key=lambda p: p.row)]
    assert "校园边界退化" in text[0] and "校园边界退化" in text[1]
    assert "经纬度为空" in text[2]
    assert "LineString" in text[3]


def test_zip_without_a_shapefile(tmp_path: Path) -> None:
    with zipfile.ZipFile(tmp_path / "x.zip", "w") as archive:
        archive.writestr("readme.txt", "学校名单")
    error = problem_of(tmp_path / "x.zip")
    assert "没有 .shp 文件" in error.detail and "readme.txt" in error.detail


def test_zip_that_is_not_a_zip(tmp_path: Path) -> None:
    write(tmp_path / "x.zip", "not a zip at all")
    assert "不是有效的 ZIP 压缩包" in problem_of(tmp_path / "x.zip").detail


def test_file_over_max_bytes(tmp_path: Path) -> None:
    path = write(tmp_path / "s.csv", SCHOOL_HEADER + "一小,小学,1,121.47,31.23\n" * 100)
    error = problem_of(path, max_bytes=1000)
    assert "的上限" in error.detail


def test_empty_and_header_only_files(tmp_path: Path) -> None:
    assert "文件是空的" in problem_of(write(tmp_path / "e.csv", "")).detail
    assert "文件是空的" in problem_of(write(tmp_path / "b.csv", "\n\n  \n")).detail
    assert "没有数据行" in problem_of(write(tmp_path / "h.csv", SCHOOL_HEADER)).detail
    assert "文件是空的" in problem_of(write(tmp_path / "e.geojson", "")).detail
    empty_fc = '{"type": "FeatureCollection", "features": []}'
    assert "没有任何要素" in problem_of(write(tmp_path / "n.geojson", empty_fc)).detail


def test_missing_crs(tmp_path: Path) -> None:
    path = write(tmp_path / "s.csv", SCHOOL_HEADER + "一小,小学,1,121.47,31.23\n")
    error = problem_of(path, crs=None)
    assert "请选择坐标系" in error.detail
    assert "gcj02" in error.detail and "bd09" in error.detail and "cgcs2000" in error.detail


def test_unknown_crs(tmp_path: Path) -> None:
    path = write(tmp_path / "s.csv", SCHOOL_HEADER + "一小,小学,1,121.47,31.23\n")
    assert "无法识别的坐标系" in problem_of(path, crs="mars").detail


def test_declared_crs_must_be_confirmed(tmp_path: Path) -> None:
    point = {"type": "Point", "coordinates": [121.47, 31.23]}
    path = write(tmp_path / "s.geojson", feature_collection(point))
    error = problem_of(path, crs=None)
    assert "文件声明的坐标系是 EPSG:4326" in error.detail and "--crs EPSG:4326" in error.detail
    assert not any("declares" in w for w in read_table(path, kind="schools", crs="wgs84").warnings)


def test_osm_refuses_a_non_wgs84_crs() -> None:
    error = problem_of(REAL / "beijing_haidian.osm", crs="gcj02")
    assert "一律是 WGS 84" in error.detail


def test_unknown_format_and_legacy_excel(tmp_path: Path) -> None:
    assert "无法识别的文件格式" in problem_of(write(tmp_path / "s.dwg", "x")).detail
    assert "请另存为 .xlsx" in problem_of(write(tmp_path / "s.xls", "x")).detail


def test_missing_required_columns_name_the_aliases(tmp_path: Path) -> None:
    path = write(tmp_path / "s.csv", "学校名称,经度,纬度\n一小,121.47,31.23\n")
    error = problem_of(path)
    assert "缺少必需的列：学段" in error.detail and "--column" in error.detail
    path = write(tmp_path / "p.csv", "名称,经度,纬度\n烟酒店,121.47,31.23\n")
    error = problem_of(path, kind="premises")
    assert "许可证号" in error.detail and "场所类别" in error.detail


def test_column_map_naming_a_missing_column(tmp_path: Path) -> None:
    path = write(tmp_path / "s.csv", SCHOOL_HEADER + "一小,小学,1,121.47,31.23\n")
    error = problem_of(path, column_map={"学校": "name"})
    assert "在文件中不存在" in error.detail


def test_unquoted_comma_is_a_row_problem(tmp_path: Path) -> None:
    path = write(tmp_path / "s.csv", SCHOOL_HEADER + "一小,小学,1,121.47,31.23,多余\n")
    parsed = read_table(path, kind="schools", crs="wgs84")
    assert parsed.rejected_rows == {2} and "未加引号的逗号" in parsed.problems[0].problem


def test_gbk_csv_reads_chinese(tmp_path: Path) -> None:
    path = write(tmp_path / "gbk.csv", SCHOOL_HEADER + "海淀区实验小学,小学,1,116.31,39.96\n",
                 encoding="gbk")
    parsed = read_table(path, kind="schools", crs="wgs84")
    assert parsed.encoding == "gb18030"
    assert parsed.frame.name.tolist() == ["海淀区实验小学"]
    assert parsed.frame.levels.tolist() == [["primary"]]


def test_utf8_bom_and_tab_separated(tmp_path: Path) -> None:
    text = SCHOOL_HEADER.replace(",", "\t") + "一小\t小学\t1\t121.47\t31.23\n"
    parsed = read_table(write(tmp_path / "s.tsv", "\ufeff" + text), kind="schools", crs="wgs84")
    assert parsed.encoding == "utf-8-sig" and parsed.frame.code.tolist() == ["1"]


def gbk_shapefile(folder: Path) -> Path:
    frame = gpd.GeoDataFrame(
        {"名称": ["北京市第一中学", "海淀区实验小学"], "学段": ["中学", "小学"]},
        geometry=[shapely.Point(116.30, 39.90), shapely.Point(116.31, 39.91)], crs="EPSG:4326")
    path = folder / "gbk.shp"
    pyogrio.write_dataframe(frame, path, encoding="GBK")
    path.with_suffix(".cpg").unlink()
    dbf = bytearray(path.with_suffix(".dbf").read_bytes())
    dbf[29] = 0  # no language driver id either: the text must be detected
    path.with_suffix(".dbf").write_bytes(bytes(dbf))
    return path


def test_gbk_shapefile_without_cpg_reads_chinese(tmp_path: Path) -> None:
    parsed = read_table(gbk_shapefile(tmp_path), kind="schools", crs="wgs84")
    assert parsed.frame.name.tolist() == ["北京市第一中学", "海淀区实验小学"]
    assert parsed.frame.levels.tolist() == [["secondary"], ["primary"]]
    assert parsed.encoding == "GB18030"
    assert any("没有配套的 .cpg" in w for w in parsed.warnings)


def test_zipped_gbk_shapefile_reads_chinese(tmp_path: Path) -> None:
    shp = gbk_shapefile(tmp_path)
    with zipfile.ZipFile(tmp_path / "schools.zip", "w") as archive:
        for part in tmp_path.glob("gbk.*"):
            archive.write(part, f"学校/{part.name}")
    parsed = read_table(tmp_path / "schools.zip", kind="schools", crs="wgs84")
    assert parsed.frame.name.tolist() == ["北京市第一中学", "海淀区实验小学"]
    assert parsed.declared_crs == "EPSG:4326" and shp.exists()


def test_zip_with_two_shapefiles(tmp_path: Path) -> None:
    gbk_shapefile(tmp_path)
    with zipfile.ZipFile(tmp_path / "two.zip", "w") as archive:
        for part in tmp_path.glob("gbk.*"):
            archive.write(part, part.name)
            archive.write(part, "other" + part.suffix)
    assert "有多个 Shapefile" in problem_of(tmp_path / "two.zip").detail


def test_row_level_value_problems(tmp_path: Path) -> None:
    path = write(tmp_path / "s.csv", "学校名称,学段,学校标识码,在校生数,建校日期,经度,纬度\n"
                 "一小,小学,1,-5,2001-01-01,121.47,31.23\n"
                 "二小,培训机构,2,100,2001-02-30,121.48,31.23\n"
                 "三小,小学,1,100,2001,121.49,31.23\n"
                 ",小学,4,many,,121.50,31.23\n")
    parsed = read_table(path, kind="schools", crs="wgs84")
    found = {(p.row, p.column): p.problem for p in parsed.problems}
    assert "不能是负数" in found[(2, "在校生数")]
    assert "无法识别的学段" in found[(3, "学段")]
    assert "不是实际存在的日期" in found[(3, "建校日期")]
    assert "学校标识码重复（第 2 行也是）" in found[(4, "学校标识码")]
    assert "学校名称为空" in found[(5, "学校名称")]
    assert "不是数字" in found[(5, "在校生数")]
    assert parsed.rejected_rows == {2, 3, 4, 5}
    assert str(parsed.frame.enrolment.dtype) == "Int64"


def test_premises_row_problems(tmp_path: Path) -> None:
    path = write(tmp_path / "p.csv", "名称,许可证号,类别,状态,经度,纬度,区划代码\n"
                 "甲网吧,A1,网吧,正常,121.47,31.23,310104\n"
                 "乙网吧,A1,网吧,,121.48,31.23,310104\n"
                 "丙,A1,彩票,,121.48,31.23,310104\n"
                 "丁,A2,酒吧,,121.48,31.23,310104\n"
                 "戊,A3,网吧,停业,121.48,31.23,徐汇区\n")
    parsed = read_table(path, kind="premises", crs="wgs84", known_categories={
        "internet_cafe", "lottery"})
    found = {(p.row, p.column): p.problem for p in parsed.problems}
    assert "许可证号重复" in found[(3, "许可证号")]
    assert "不在现行规则中" in found[(5, "类别")]
    assert "GB/T 2260" in found[(6, "区划代码")]
    assert parsed.rejected_rows == {3, 5, 6}
    assert parsed.frame.status.tolist()[:2] == ["active", "active"]
    assert parsed.frame.category.tolist()[2] == "lottery"


def test_unclosed_quote_is_malformed(tmp_path: Path) -> None:
    path = write(tmp_path / "s.csv", SCHOOL_HEADER + '"一小,小学,1,121.47,31.23\n')
    assert "CSV 格式有误" in problem_of(path).detail


def test_infinite_coordinates_are_a_row_problem_not_a_crash(tmp_path: Path) -> None:
    path = tmp_path / "inf.gpkg"
    gpd.GeoDataFrame(
        {"code": ["a", "b"], "name": ["x", "y"], "levels": ["小学", "小学"]},
        geometry=[Polygon([(114, 30), (math.inf, 30), (114.01, 30.01)]),
                  Polygon([(114, 30), (114.01, 30), (114.01, 30.01)])], crs=4326,
    ).to_file(path)
    parsed = read_table(path, kind="schools", crs="EPSG:4326")
    assert parsed.rejected_rows == {1}
    assert [p.problem for p in parsed.problems] == [
        "坐标不是有限的数（Infinity 或 NaN）"]


def test_a_file_level_refusal_is_one_chinese_sentence_naming_the_file(tmp_path: Path) -> None:
    assert problem_of(write(tmp_path / "空表.csv", "")).detail == "空表.csv：文件是空的（0 字节）"
