"""Facility files in XLSX (BD-09), Shapefile (CGCS2000) and GeoPackage, with Chinese columns."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pytest
from openpyxl import Workbook
from shapely.geometry import Point
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tests.factories import add_school
from tests.oracle import GEOD, gcj_to_bd, wgs_to_gcj
from tests.zoneguard.services.facilities.conftest import campus, offset
from zoneguard.errors import ImportProblem
from zoneguard.models import Facility
from zoneguard.services.ingest.files import import_file
from zoneguard.settings import Settings

ORIGIN = (114.30, 30.55)


def _stored(session: Session) -> dict[str, tuple[float, float]]:
    rows = session.execute(select(Facility.code, func.ST_X(Facility.location),
                                  func.ST_Y(Facility.location)))
    return {code: (float(x), float(y)) for code, x, y in rows}


def test_an_xlsx_in_bd09_with_the_short_chinese_headers(
        session: Session, settings: Settings, tmp_path: Path) -> None:
    sid = add_school(session, "FX-1", campus(*ORIGIN), region="420102")
    truth = offset(*ORIGIN, 45, 300)
    bx, by = gcj_to_bd(*wgs_to_gcj(*truth))  # the published forward formulas: the oracle
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["编号", "类型", "名称", "学校代码", "经度", "纬度", "方向", "视场角", "地址"])
    sheet.append(["X-1", "监控摄像头", "东北角监控", "FX-1", bx, by, 225, 60, "解放大道 1 号"])
    sheet.append(["X-2", "护学岗", "东北护学岗", "FX-1", bx, by, None, None, "解放大道 1 号"])
    path = tmp_path / "设施.xlsx"
    book.save(path)
    outcome = import_file(session, path, kind="facilities", crs="bd09", settings=settings)
    assert (outcome.inserted, outcome.rejected) == (2, 0)
    for code, place in _stored(session).items():
        assert GEOD.inv(*truth, *place)[2] < 0.05, code
    camera = session.scalars(select(Facility).where(Facility.code == "X-1")).one()
    assert (camera.kind, camera.school_id, camera.region, camera.direction_deg,
            camera.fov_deg) == ("camera", sid, "420102", 225.0, 60.0)


def test_a_shapefile_in_cgcs2000_and_a_geopackage(
        session: Session, settings: Settings, tmp_path: Path) -> None:
    frame = gpd.GeoDataFrame(
        {"编号": ["S-1", "S-2"], "类型": ["减速带", "anti_ram"], "名称": ["减速带", "升降柱"],
         "区划": ["420102", "420102"]},
        geometry=[Point(114.30, 30.55), Point(114.31, 30.56)], crs="EPSG:4490")
    shp = tmp_path / "facilities.shp"
    frame.to_file(shp, driver="ESRI Shapefile", encoding="utf-8")
    outcome = import_file(session, shp, kind="facilities", crs="cgcs2000", settings=settings,
                          column_map={"区划": "region"})
    assert outcome.inserted == 2
    stored = _stored(session)
    # CGCS2000 and WGS 84 agree to centimetres: the stored point is the given one
    assert GEOD.inv(114.30, 30.55, *stored["S-1"])[2] < 0.1
    kinds = dict(session.execute(select(Facility.code, Facility.kind)).all())
    assert kinds == {"S-1": "speed_bump", "S-2": "anti_ram"}
    gpkg = tmp_path / "facilities.gpkg"
    frame.assign(编号=["G-1", "G-2"]).to_file(gpkg, driver="GPKG", layer="设施")
    assert import_file(session, gpkg, kind="facilities", crs="EPSG:4490", settings=settings,
                       column_map={"区划": "region"}).inserted == 2


def test_a_bad_geopackage_row_writes_nothing(
        session: Session, settings: Settings, tmp_path: Path) -> None:
    frame = gpd.GeoDataFrame(
        {"编号": ["B-1", "B-2"], "类型": ["警示标牌", "垃圾桶"], "名称": ["警示牌", "桶"]},
        geometry=[Point(114.30, 30.55), Point(114.31, 30.56)], crs="EPSG:4326")
    path = tmp_path / "bad.gpkg"
    frame.to_file(path, driver="GPKG")
    with pytest.raises(ImportProblem) as caught:
        import_file(session, path, kind="facilities", crs="wgs84", settings=settings)
    (problem,) = caught.value.extra["report"]["problems"]
    # a layer has no header row: its features are numbered from 1
    assert problem["row"] == 2 and problem["problem"].startswith("无法识别的设施类型“垃圾桶”")
    assert session.scalar(select(func.count()).select_from(Facility)) == 0
