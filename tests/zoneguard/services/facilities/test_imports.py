"""Facility files through the import pipeline: datums, all-or-nothing, re-import, scope."""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from tests.factories import add_gate, add_school
from tests.oracle import GEOD, wgs_to_gcj
from tests.zoneguard.services.facilities.conftest import campus, offset, requirement_rules
from zoneguard.errors import Forbidden, ImportProblem
from zoneguard.models import Facility, Finding
from zoneguard.scope import Scope
from zoneguard.services.facilities.check import run_check
from zoneguard.services.ingest.files import import_file
from zoneguard.settings import Settings

ON = date(2026, 6, 1)
HEADER = "设施编号,设施类型,设施名称,学校标识码,经度,纬度,朝向,视场角,行政区划代码\n"
ORIGIN = (114.30, 30.55)


def _csv(tmp_path: Path, rows: list[str], name: str = "facilities.csv") -> Path:
    path = tmp_path / name
    path.write_text(HEADER + "".join(r + "\n" for r in rows), encoding="utf-8")
    return path


def _stored(session: Session, code: str) -> tuple[float, float]:
    row = session.execute(select(func.ST_X(Facility.location), func.ST_Y(Facility.location))
                          .where(Facility.code == code)).one()
    return float(row[0]), float(row[1])


def test_a_gcj02_csv_with_chinese_headers_lands_on_the_true_place(
        session: Session, settings: Settings, tmp_path: Path) -> None:
    sid = add_school(session, "FI-1", campus(*ORIGIN), region="420102")
    truth = offset(*ORIGIN, 90, 120)
    gx, gy = wgs_to_gcj(*truth)  # the published forward formula: the test's oracle
    path = _csv(tmp_path, [f"F-1,警示标牌,安全区域警示牌,FI-1,{gx:.8f},{gy:.8f},,,420102",
                           f"F-2,监控摄像头,校门监控,FI-1,{gx:.8f},{gy:.8f},180,90,420102"])
    outcome = import_file(session, path, kind="facilities", crs="gcj02", settings=settings)
    assert (outcome.inserted, outcome.updated, outcome.rejected) == (2, 0, 0)
    assert GEOD.inv(*truth, *_stored(session, "F-1"))[2] < 0.01
    camera = session.scalars(select(Facility).where(Facility.code == "F-2")).one()
    assert (camera.kind, camera.school_id, camera.direction_deg, camera.fov_deg) == \
        ("camera", sid, 180.0, 90.0)


def test_one_bad_row_writes_nothing_and_says_why_in_chinese(
        session: Session, settings: Settings, tmp_path: Path) -> None:
    path = _csv(tmp_path, ["F-1,警示标牌,警示牌,,114.3,30.55,,,420102",
                           "F-2,路灯,路灯,,114.3,30.55,,,420102",
                           "F-3,警示标牌,警示牌,,114.3,30.55,90,,420102"])
    with pytest.raises(ImportProblem) as caught:
        import_file(session, path, kind="facilities", crs="wgs84", settings=settings)
    problems = {(p["row"], p["column"]): p["problem"]
                for p in caught.value.extra["report"]["problems"]}
    assert problems[(3, "设施类型")].startswith("无法识别的设施类型“路灯”；可填：")
    assert problems[(4, "视场角")] == "监控摄像头的朝向与视场角须同时填写"
    assert session.scalar(select(func.count()).select_from(Facility)) == 0


def test_reimport_updates_by_code_and_unknown_schools_are_refused(
        session: Session, settings: Settings, tmp_path: Path) -> None:
    rows = ["F-1,护学岗,正门护学岗,,114.3,30.55,,,420102"]
    first = import_file(session, _csv(tmp_path, rows), kind="facilities", crs="wgs84",
                        settings=settings)
    again = import_file(session, _csv(tmp_path, rows), kind="facilities", crs="wgs84",
                        settings=settings)
    assert (first.inserted, again.inserted, again.updated, again.unchanged) == (1, 0, 0, 1)
    moved = import_file(session, _csv(tmp_path, ["F-1,护学岗,正门护学岗,,114.301,30.55,,,420102"]),
                        kind="facilities", crs="wgs84", settings=settings)
    assert (moved.inserted, moved.updated) == (0, 1)
    assert _stored(session, "F-1") == (114.301, 30.55)
    with pytest.raises(ImportProblem) as caught:
        import_file(session, _csv(tmp_path, ["F-9,护学岗,岗,NO-SUCH,114.3,30.55,,,420102"]),
                    kind="facilities", crs="wgs84", settings=settings)
    (problem,) = caught.value.extra["report"]["problems"]
    assert (problem["row"], problem["problem"]) == (2, "没有登记此学校标识码的学校")
    assert session.scalar(select(func.count()).select_from(Facility)) == 1


def test_a_geojson_file_and_a_region_beyond_the_scope(
        session: Session, settings: Settings, tmp_path: Path) -> None:
    path = tmp_path / "signs.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "geometry": {"type": "Point", "coordinates": [114.3, 30.55]},
         "properties": {"设施类型": "交通标志", "名称": "限速 30", "行政区划代码": "420102"}}]},
        ensure_ascii=False), encoding="utf-8")
    bureau = Scope(categories=frozenset({"tobacco"}), region_prefix="4301")
    with pytest.raises(Forbidden, match="权限范围以外的设施"):
        import_file(session, path, kind="facilities", crs="EPSG:4326", settings=settings,
                    scope=bureau)
    assert session.scalar(select(func.count()).select_from(Facility)) == 0
    with pytest.raises(Forbidden, match="只能导入场所登记和设施"):
        import_file(session, path, kind="schools", crs="EPSG:4326", settings=settings,
                    scope=bureau)
    outcome = import_file(session, path, kind="facilities", crs="EPSG:4326", settings=settings)
    assert outcome.inserted == 1
    code = session.scalar(select(Facility.code))
    assert code is not None and code.startswith("gen:")  # derived from kind, name and place


def test_an_imported_sign_resolves_the_missing_facility_finding(
        session: Session, settings: Settings, tmp_path: Path) -> None:
    rules = requirement_rules(tmp_path / "rules")
    sid = add_school(session, "FI-2", campus(*ORIGIN), region="420102")
    add_gate(session, sid, *offset(*ORIGIN, 180, 50), kind="main")
    run_check(session, rules=rules, on=ON)
    finding = session.scalars(select(Finding).where(
        Finding.school_id == sid, Finding.rule_id == "t.warning_sign")).one()
    assert finding.state == "found"
    sign = offset(*ORIGIN, 90, 50 + 150)  # 150 m east of the east wall: within 200 m
    import_file(session, _csv(tmp_path, [f"F-5,警示标牌,警示牌,FI-2,{sign[0]},{sign[1]},,,420102"]),
                kind="facilities", crs="wgs84", settings=settings)
    run_check(session, rules=rules, on=ON)
    session.refresh(finding)
    assert finding.state == "resolved"
    assert session.execute(text("SELECT count(*) FROM import WHERE kind = 'facilities'")) \
        .scalar_one() == 1


def test_a_full_reimport_counts_and_only_on_request_retires_the_absent(
        session: Session, settings: Settings, tmp_path: Path) -> None:
    rows = ["F-1,警示标牌,东侧警示牌,,114.3,30.55,,,420102",
            "F-2,警示标牌,西侧警示牌,,114.2,30.55,,,420102",
            "F-3,警示标牌,别区警示牌,,114.1,30.55,,,420103",
            "F-4,护学岗,正门护学岗,,114.3,30.55,,,420102",
            "F-5,警示标牌,无区划警示牌,,114.3,30.55,,,"]
    import_file(session, _csv(tmp_path, rows), kind="facilities", crs="wgs84", settings=settings)
    # the signs of 420102 again, without F-2: F-3 (other region), F-4 (other kind) and F-5
    # (no region) belong to other registries and are never counted
    signs = _csv(tmp_path, [rows[0]], name="signs.csv")
    counted = import_file(session, signs, kind="facilities", crs="wgs84", settings=settings)
    assert (counted.missing, counted.closed, counted.unchanged) == (1, 0, 1)
    closed = import_file(session, signs, kind="facilities", crs="wgs84", settings=settings,
                         close_missing=True)
    assert (closed.missing, closed.closed) == (1, 1)
    status = dict(session.execute(select(Facility.code, Facility.status)).all())
    assert status == {"F-1": "active", "F-2": "retired", "F-3": "active", "F-4": "active",
                      "F-5": "active"}
    retired = session.scalars(select(Facility).where(Facility.code == "F-2")).one()
    beijing_today = datetime.now(ZoneInfo(settings.timezone)).date()
    assert (retired.retired_on, retired.import_id) == (beijing_today, closed.import_id)
    dry = import_file(session, _csv(tmp_path, [rows[3]], name="posts.csv"), kind="facilities",
                      crs="wgs84", settings=settings, close_missing=True, dry_run=True)
    assert (dry.missing, dry.closed) == (0, 0)
    back = import_file(session, _csv(tmp_path, rows[:2], name="both.csv"), kind="facilities",
                       crs="wgs84", settings=settings)
    assert (back.updated, back.missing) == (1, 0)  # listed again: back in service
    session.refresh(retired)
    assert (retired.status, retired.retired_on) == ("active", None)


def test_a_row_takes_its_schools_region_and_a_bureau_imports_for_its_schools(
        session: Session, settings: Settings, tmp_path: Path) -> None:
    add_school(session, "FR-1", campus(*ORIGIN), region="420102")
    add_school(session, "FR-2", campus(112.9, 28.2), region="430102")
    bureau = Scope(categories=frozenset({"tobacco"}), region_prefix="4201")
    ours = _csv(tmp_path, ["F-1,警示标牌,警示牌,FR-1,114.3,30.55,,,"])
    outcome = import_file(session, ours, kind="facilities", crs="wgs84", settings=settings,
                          scope=bureau)
    assert outcome.inserted == 1
    assert session.scalar(select(Facility.region).where(Facility.code == "F-1")) == "420102"
    theirs = _csv(tmp_path, ["F-2,警示标牌,警示牌,FR-2,112.9,28.2,,,"], name="theirs.csv")
    with pytest.raises(Forbidden, match="权限范围以外的设施"):
        import_file(session, theirs, kind="facilities", crs="wgs84", settings=settings,
                    scope=bureau)
    # a region within the key's scope does not carry a school of another province in
    disguised = _csv(tmp_path, ["F-3,警示标牌,警示牌,FR-2,112.9,28.2,,,420102"], name="d.csv")
    with pytest.raises(ImportProblem) as caught:
        import_file(session, disguised, kind="facilities", crs="wgs84", settings=settings,
                    scope=bureau)
    (problem,) = caught.value.extra["report"]["problems"]
    assert (problem["row"], problem["column"], problem["problem"]) == (
        2, "行政区划代码", "与学校 FR-2 登记的区划 430102 不一致")
    assert session.scalar(select(func.count()).select_from(Facility)) == 1


def test_reimporting_a_gcj02_file_changes_nothing(
        session: Session, settings: Settings, tmp_path: Path) -> None:
    # converted coordinates carry all 17 digits: the comparison must not round them
    gx, gy = wgs_to_gcj(*offset(*ORIGIN, 37, 123.456))
    path = _csv(tmp_path, [f"F-7,警示标牌,警示牌,,{gx:.10f},{gy:.10f},,,420102"])
    first = import_file(session, path, kind="facilities", crs="gcj02", settings=settings)
    again = import_file(session, path, kind="facilities", crs="gcj02", settings=settings)
    assert (first.inserted, again.inserted, again.updated, again.unchanged) == (1, 0, 0, 1)
