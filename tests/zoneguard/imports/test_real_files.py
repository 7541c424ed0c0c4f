"""The real files of data/real read with the right counts, levels and coordinates."""

from __future__ import annotations

import json
import math
import xml.etree.ElementTree as ET
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import shapely
from pyproj import Geod

from zoneguard.imports import ParsedImport, read_table

REAL = Path(__file__).resolve().parents[3] / "data" / "real"
GEOD = Geod(ellps="WGS84")

# --- an independent datum oracle: the published forward formulas, inverted by brute force ---
_A, _EE, _XPI = 6378245.0, 0.00669342162296594323, math.pi * 3000.0 / 180.0


def wgs_to_gcj(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    x, y = lon - 105.0, lat - 35.0
    dlat = (-100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * np.sqrt(np.abs(x))
            + (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0
            + (20.0 * np.sin(y * np.pi) + 40.0 * np.sin(y / 3.0 * np.pi)) * 2.0 / 3.0
            + (160.0 * np.sin(y / 12.0 * np.pi) + 320 * np.sin(y * np.pi / 30.0)) * 2.0 / 3.0)
    dlon = (300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * np.sqrt(np.abs(x))
            + (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0
            + (20.0 * np.sin(x * np.pi) + 40.0 * np.sin(x / 3.0 * np.pi)) * 2.0 / 3.0
            + (150.0 * np.sin(x / 12.0 * np.pi) + 300.0 * np.sin(x / 30.0 * np.pi)) * 2.0 / 3.0)
    rad = lat / 180.0 * np.pi
    magic = 1 - _EE * np.sin(rad) ** 2
    dlat = (dlat * 180.0) / ((_A * (1 - _EE)) / (magic * np.sqrt(magic)) * np.pi)
    dlon = (dlon * 180.0) / (_A / np.sqrt(magic) * np.cos(rad) * np.pi)
    return lon + dlon, lat + dlat


def gcj_to_bd(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    z = np.sqrt(lon * lon + lat * lat) + 0.00002 * np.sin(lat * _XPI)
    theta = np.arctan2(lat, lon) + 0.000003 * np.cos(lon * _XPI)
    return z * np.cos(theta) + 0.0065, z * np.sin(theta) + 0.006


def wgs_to_bd(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return gcj_to_bd(*wgs_to_gcj(lon, lat))


def classic_bd_decrypt(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The published one-step BD-09 -> GCJ-02 formula (approximate; used upstream)."""
    x, y = lon - 0.0065, lat - 0.006
    z = np.sqrt(x * x + y * y) - 0.00002 * np.sin(y * _XPI)
    theta = np.arctan2(y, x) - 0.000003 * np.cos(x * _XPI)
    return z * np.cos(theta), z * np.sin(theta)


def invert(forward: Any, lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Solve forward(x) = (lon, lat) by fixed-point iteration to 1e-13 degrees."""
    x, y = lon.copy(), lat.copy()
    for _ in range(100):
        fx, fy = forward(x, y)
        x, y = x + (lon - fx), y + (lat - fy)
        if max(np.abs(lon - fx).max(), np.abs(lat - fy).max()) < 1e-13:
            break
    return x, y


def distances_m(frame_geoms: Any, lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    xs, ys = shapely.get_x(frame_geoms), shapely.get_y(frame_geoms)
    return np.asarray(GEOD.inv(xs, ys, lon, lat)[2])


# --- Shanghai: Amap school points, WGS 84 ---

@pytest.fixture(scope="module")
def shanghai() -> ParsedImport:
    return read_table(REAL / "shanghai_schools_amap.csv", kind="schools", crs="wgs84")


def test_shanghai_reads_every_school_with_readme_level_counts(shanghai: ParsedImport) -> None:
    frame = shanghai.frame
    assert len(frame) == 6151 and shanghai.encoding == "utf-8"
    counts = Counter(";".join(levels) for levels in frame.levels if levels)
    # README: kindergartens 2,312, universities 1,903, middle 990, primary 933, other 13
    assert counts == {"kindergarten": 2312, "higher": 1903, "secondary": 990, "primary": 933,
                      "vocational": 2}
    assert (frame.precision == "point").all() and frame.crs.to_epsg() == 4326


def test_shanghai_other_types_are_unknown_level_problems(shanghai: ParsedImport) -> None:
    problems = shanghai.problems
    assert len(problems) == 11 and len(shanghai.rejected_rows) == 11
    assert all(p.column == "type" and "无法识别的学段" in p.problem for p in problems)
    kinds = Counter(p.problem.split("“")[1].split("”")[0] for p in problems)
    assert kinds == {"成人教育": 4, "宿舍": 2, "出版社": 2, "剧场": 1, "游乐场": 1, "综合体育馆": 1}
    vocational = shanghai.frame[shanghai.frame.levels.apply(lambda v: v == ["vocational"])]
    assert sorted(vocational.name) == ["上海市宝山区第一职工业余中学", "上海电机学院继续教育学院"]


def test_shanghai_rows_codes_and_attributes(shanghai: ParsedImport) -> None:
    frame = shanghai.frame
    assert frame.source_row.iloc[0] == 2 and frame.source_row.iloc[-1] == 6152
    first = frame.iloc[0]
    assert first["name"] == "上海市卢湾高级中学" and first["address"] == "斜土路885号"
    assert first["attributes"]["adname"] == "黄浦区" and first["attributes"]["pname"] == "上海市"
    assert first.geometry.equals_exact(shapely.Point(121.46436687022374, 31.204217797406105), 0)
    assert frame.code.str.fullmatch(r"gen:[0-9a-f]{16}").all() and frame.code.is_unique
    assert any("没有学校标识码列" in w for w in shanghai.warnings)
    json.dumps(frame.attributes.tolist())
    again = read_table(REAL / "shanghai_schools_amap.csv", kind="schools", crs="wgs84")
    assert again.frame.code.tolist() == frame.code.tolist()


# --- Changsha: tobacco retailers, geometry GCJ-02 though the file says CRS84 ---

@pytest.fixture(scope="module")
def changsha() -> ParsedImport:
    return read_table(REAL / "changsha_tianxin_tobacco.geojson", kind="premises", crs="gcj02",
                      category="tobacco")


def _changsha_source() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    data = json.loads((REAL / "changsha_tianxin_tobacco.geojson").read_text(encoding="utf-8"))
    features = data["features"]
    gx, gy = np.array([f["geometry"]["coordinates"] for f in features]).T
    bx = np.array([f["properties"]["经度"] for f in features], dtype=float)
    by = np.array([f["properties"]["纬度"] for f in features], dtype=float)
    return gx, gy, bx, by


def test_changsha_reads_all_retailers_with_a_crs_warning(changsha: ParsedImport) -> None:
    frame = changsha.frame
    assert len(frame) == 1386 and changsha.ok and changsha.problems == []
    assert changsha.declared_crs == "EPSG:4326" and changsha.source_crs == "gcj02"
    assert "文件声明的坐标系是 EPSG:4326，但所选坐标系是 gcj02；按 gcj02 换算" in changsha.warnings
    assert any("许可证号由“id”列生成" in w for w in changsha.warnings)
    assert frame.licence_no.iloc[0] == "changsha_tianxin_tobacco#1" and frame.licence_no.is_unique
    assert (frame.category == "tobacco").all() and (frame.status == "active").all()
    assert frame.name.iloc[0] == "红大自选批发部" and frame.attributes.iloc[0]["纬度"] == 28.179366


def test_changsha_geometry_is_exactly_the_inverse_of_gcj02(changsha: ParsedImport) -> None:
    gx, gy, _, _ = _changsha_source()
    lon, lat = invert(wgs_to_gcj, gx, gy)
    assert distances_m(changsha.frame.geometry.values, lon, lat).max() < 0.001


def test_changsha_lands_on_its_own_bd09_attributes(changsha: ParsedImport) -> None:
    _, _, bx, by = _changsha_source()
    # upstream derived the GCJ-02 geometry from 经度/纬度 with the one-step bd_decrypt
    lon, lat = invert(wgs_to_gcj, *classic_bd_decrypt(bx, by))
    assert distances_m(changsha.frame.geometry.values, lon, lat).max() < 0.001
    # the exact BD-09 inverse differs only by that upstream approximation (decimetres)
    exact = distances_m(changsha.frame.geometry.values, *invert(wgs_to_bd, bx, by))
    assert exact.max() < 0.15 and np.median(exact) < 0.08
    # and the datum shift itself is hundreds of metres: GCJ-02 taken as WGS 84 is wrong
    assert distances_m(changsha.frame.geometry.values, *_changsha_source()[:2]).min() > 300


# --- OSM extracts ---

def _xml_campuses(path: Path) -> set[str]:
    """Independent count: closed ways / multipolygons tagged as schools, all nodes present."""
    root = ET.parse(path).getroot()
    nodes = {n.get("id") for n in root.iter("node")}
    ways = {}
    found = set()
    for way in root.iter("way"):
        refs = [nd.get("ref") for nd in way.iter("nd")]
        tags = {t.get("k"): t.get("v") for t in way.iter("tag")}
        ways[way.get("id")] = refs
        if (tags.get("amenity") in {"school", "kindergarten", "college", "university"}
                and refs[0] == refs[-1] and all(r in nodes for r in refs)):
            found.add(f"osm:way/{way.get('id')}")
    for rel in root.iter("relation"):
        tags = {t.get("k"): t.get("v") for t in rel.iter("tag")}
        if tags.get("type") == "multipolygon" and tags.get("amenity") in {"school", "university"}:
            found.add(f"osm:relation/{rel.get('id')}")
    return found


@pytest.mark.parametrize(
    ("name", "campuses", "points", "levels"),
    [
        ("beijing_haidian.osm", 9, 2, {"中国农业大学附属实验小学": ["primary"],
                                       "北京石油学院附属中学": ["secondary"],
                                       "未来之星实验幼儿园": ["kindergarten"],
                                       "中国矿业大学（北京）": ["higher"],
                                       "中国农业大学东校区幼儿园": ["kindergarten"]}),
        ("shenzhen_longgang.osm", 8, 1, {"龙岗外国语学校": ["primary", "secondary"],
                                         "深圳信息职业技术学院": ["higher"],
                                         "香港中文大学（深圳）": ["higher"],
                                         "启蒙星幼儿园": ["kindergarten"]}),
    ],
)
def test_chinese_osm_schools(name: str, campuses: int, points: int,
                             levels: dict[str, list[str]]) -> None:
    parsed = read_table(REAL / name, kind="schools", crs=None)
    frame = parsed.frame
    assert parsed.ok and parsed.source_crs == "EPSG:4326" and parsed.warnings == []
    assert Counter(frame.precision) == {"boundary": campuses, "point": points}
    boundary = frame[frame.precision == "boundary"]
    assert set(boundary.code) == _xml_campuses(REAL / name)
    assert all(g.geom_type == "MultiPolygon" and g.is_valid for g in boundary.geometry)
    by_name = dict(zip(frame.name, frame.levels, strict=True))
    for school, expected in levels.items():
        assert by_name[school] == expected
    assert all(str(r["osm_id"]) in c for r, c in zip(frame.attributes, frame.code, strict=True))


def test_beijing_campus_outline_matches_the_xml() -> None:
    parsed = read_table(REAL / "beijing_haidian.osm", kind="schools", crs="wgs84")
    root = ET.parse(REAL / "beijing_haidian.osm").getroot()
    nodes = {n.get("id"): (float(n.attrib["lon"]), float(n.attrib["lat"]))
             for n in root.iter("node")}
    way = next(w for w in root.iter("way") if w.get("id") == "167304641")
    ring = shapely.Polygon([nodes[nd.get("ref")] for nd in way.iter("nd")])
    geom = parsed.frame.set_index("code").geometry["osm:way/167304641"]
    assert geom.symmetric_difference(ring).area < 1e-12


def test_osm_premises_and_gates() -> None:
    beijing = read_table(REAL / "beijing_haidian.osm", kind="premises", crs=None)
    assert Counter(beijing.frame.category) == {"convenience": 18, "kiosk": 6, "alcohol": 1,
                                               "gas_station": 1}
    fuel = beijing.frame[beijing.frame.category == "gas_station"].iloc[0]
    assert fuel.licence_no == "osm:way/161289849" and fuel.geometry.geom_type == "Point"
    assert beijing.frame.licence_no.str.match(r"osm:(node|way)/\d+$").all()
    shenzhen = read_table(REAL / "shenzhen_longgang.osm", kind="premises", crs=None)
    assert Counter(shenzhen.frame.category) == {"gas_station": 2, "convenience": 1}
    only_fuel = read_table(REAL / "shenzhen_longgang.osm", kind="premises", crs=None,
                           category="加油站")
    assert len(only_fuel.frame) == 2
    gates = read_table(REAL / "beijing_haidian.osm", kind="gates", crs=None)
    assert len(gates.frame) == 3 and set(gates.frame.school_code) <= set(
        read_table(REAL / "beijing_haidian.osm", kind="schools", crs=None).frame.code)


def test_helsinki_pbf_outside_china_reads_without_china_check() -> None:
    schools = read_table(REAL / "helsinki.osm.pbf", kind="schools", crs=None)
    assert len(schools.frame) == 9 and schools.ok
    assert any("osm:way/17429106" in w for w in schools.warnings)  # nodes outside the extract
    assert Counter(";".join(v) for v in schools.frame.levels) == {"higher": 6,
                                                                    "primary;secondary": 3}
    premises = read_table(REAL / "helsinki.osm.pbf", kind="premises", crs=None)
    assert len(premises.frame) == 113 and premises.ok
    assert Counter(premises.frame.category) == {"pub": 51, "bar": 22, "kiosk": 15,
                                                "entertainment": 9, "convenience": 9,
                                                "alcohol": 7}
    gates = read_table(REAL / "helsinki.osm.pbf", kind="gates", crs=None)
    assert Counter(gates.frame.kind) == {"other": 7, "main": 4}
    pubs_only = read_table(REAL / "helsinki.osm.pbf", kind="premises", crs=None,
                           known_categories={"pub"})
    assert len(pubs_only.valid_frame()) == 51 and len(pubs_only.rejected_rows) == 62
