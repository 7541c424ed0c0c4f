"""Test data builders: schools, gates and premises written straight into the test session."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

from shapely import MultiPolygon, Polygon
from shapely.geometry.base import BaseGeometry
from sqlalchemy import text
from sqlalchemy.orm import Session

RULES_YAML = """\
jurisdiction: CN
name: test rules
version: "t1"
rules:
  - id: t.internet_cafe
    category: internet_cafe
    protects: [primary, secondary]
    distance_m: 200
    metric: boundary
    existing: violation
    distance_kind: statutory
    citations: [{authority: 测试机关, title: test basis 200, confidence: C}]
    effective_from: 2000-01-01
  - id: t.tobacco
    category: tobacco
    protects: [primary, secondary, kindergarten]
    distance_m: 100
    metric: boundary
    existing: review
    distance_kind: statutory
    citations: [{authority: 测试机关, title: test basis 100, confidence: C}]
    effective_from: 2000-01-01
  - id: t.lottery
    category: lottery
    protects: [primary, secondary, kindergarten]
    distance_m: 50
    metric: boundary
    existing: exempt
    distance_kind: statutory
    citations: [{authority: 测试机关, title: test basis 50, confidence: C}]
    effective_from: 2000-01-01
  - id: t.fireworks
    category: fireworks
    protects: [primary, secondary, kindergarten]
    distance_m: 100
    metric: gate
    existing: violation
    distance_kind: statutory
    citations: [{authority: 测试机关, title: test basis gate, confidence: C}]
    effective_from: 2000-01-01
  - id: t.entertainment
    category: entertainment
    protects: [primary, secondary]
    distance_m: 200
    metric: walking
    existing: violation
    distance_kind: statutory
    citations: [{authority: 测试机关, title: test basis walking, confidence: C}]
    effective_from: 2000-01-01
"""


def write_rules(directory: Path, body: str = RULES_YAML, name: str = "cn.yaml") -> Path:
    """Write one rule file into `directory` and return the directory."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / name).write_text(body, encoding="utf-8")
    return directory


def add_school(
    session: Session,
    code: str,
    geom: BaseGeometry,
    *,
    levels: tuple[str, ...] = ("primary",),
    name: str | None = None,
    region: str | None = None,
    enrolment: int | None = None,
    opened_on: date | None = None,
) -> int:
    """Insert a school with a campus polygon (or a point) in EPSG:4326; return its id."""
    is_area = geom.geom_type in ("Polygon", "MultiPolygon")
    if isinstance(geom, Polygon):
        geom = MultiPolygon([geom])
    params: dict[str, Any] = {
        "code": code, "name": name or code, "levels": list(levels), "region": region,
        "enrolment": enrolment, "opened_on": opened_on, "wkt": geom.wkt,
        "precision": "boundary" if is_area else "point",
    }
    sql = (
        "INSERT INTO school (code, name, levels, region, enrolment, opened_on, boundary, "
        "location, precision) VALUES (:code, :name, :levels, :region, :enrolment, :opened_on, "
        + ("ST_GeomFromText(:wkt, 4326), ST_PointOnSurface(ST_GeomFromText(:wkt, 4326)), "
           if is_area else "NULL, ST_GeomFromText(:wkt, 4326), ")
        + ":precision) RETURNING id"
    )
    return int(session.execute(text(sql), params).scalar_one())


def add_gate(session: Session, school_id: int, lon: float, lat: float, kind: str = "main") -> int:
    """Insert a gate of a school; return its id."""
    return int(session.execute(
        text("INSERT INTO school_gate (school_id, kind, location) VALUES "
             "(:sid, :kind, ST_SetSRID(ST_MakePoint(:lon, :lat), 4326)) RETURNING id"),
        {"sid": school_id, "kind": kind, "lon": lon, "lat": lat},
    ).scalar_one())


def add_premises(
    session: Session,
    category: str,
    lon: float,
    lat: float,
    *,
    name: str | None = None,
    licence_no: str | None = None,
    region: str = "420102",
    status: str = "active",
    address: str | None = None,
    issued_on: date | None = None,
    entrance: tuple[float, float] | None = None,
) -> int:
    """Insert a premises at (lon, lat) EPSG:4326 (door at `entrance`); return its id."""
    return int(session.execute(
        text("INSERT INTO premises (category, licence_no, name, address, region, location, "
             "status, issued_on, entrance) VALUES (:category, :licence, :name, :address, "
             ":region, ST_SetSRID(ST_MakePoint(:lon, :lat), 4326), :status, :issued_on, "
             "CASE WHEN CAST(:elon AS float8) IS NULL THEN NULL "
             "ELSE ST_SetSRID(ST_MakePoint(:elon, :elat), 4326) END) RETURNING id"),
        {"category": category, "licence": licence_no or f"L-{category}-{lon:.6f}-{lat:.6f}",
         "name": name or f"{category} {lon:.5f},{lat:.5f}", "address": address,
         "region": region, "lon": lon, "lat": lat, "status": status, "issued_on": issued_on,
         "elon": None if entrance is None else entrance[0],
         "elat": None if entrance is None else entrance[1]},
    ).scalar_one())


def add_finding(
    session: Session,
    school_id: int,
    premises_id: int,
    *,
    rule_id: str,
    verdict: str = "prohibited",
    distance_m: float | None = 50.0,
    threshold_m: float | None = 200.0,
    metric: str = "boundary",
    state: str = "found",
    assignee: str | None = None,
    deadline: date | None = None,
    line: tuple[tuple[float, float], tuple[float, float]] | None = None,
    scan_id: int | None = None,
) -> int:
    """Insert a finding (a premises × school × rule) with its measured line; return its id.

    The current step is due on the deadline (as for a case under rectification).
    """
    wkt = None if line is None else \
        f"LINESTRING({line[0][0]} {line[0][1]}, {line[1][0]} {line[1][1]})"
    return int(session.execute(
        text("INSERT INTO finding (school_id, premises_id, rule_id, metric, distance_m, "
             "threshold_m, verdict, state, assignee, deadline, step_due, line, rule_set_version, "
             "first_scan_id, last_scan_id) VALUES (:school, :premises, :rule, :metric, :d, :t, "
             ":verdict, :state, :assignee, :deadline, :deadline, ST_GeomFromText(:wkt, 4326), "
             "'rs-test', "
             ":scan, :scan) RETURNING id"),
        {"school": school_id, "premises": premises_id, "rule": rule_id, "metric": metric,
         "d": distance_m, "t": threshold_m, "verdict": verdict, "state": state,
         "assignee": assignee, "deadline": deadline, "wkt": wkt, "scan": scan_id},
    ).scalar_one())
