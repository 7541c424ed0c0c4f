"""Measurement against independent oracles: adversarial campuses, thresholds ± 0.3 m, datums."""

from __future__ import annotations

import gzip
import random
from datetime import date
from pathlib import Path

import numpy as np
import pytest
from shapely import affinity
from shapely.geometry import MultiPolygon, Point, Polygon
from shapely.geometry.base import BaseGeometry
from sqlalchemy import text
from sqlalchemy.orm import Session

from spatial.crs import geometry_to_wgs84
from spatial.datums import wgs84_to_bd09, wgs84_to_gcj02
from spatial.measure import schools_near
from tests.conftest import REAL
from tests.factories import add_school, write_rules
from tests.oracle import GEOD, distance_m, from_local, to_local
from zoneguard.rules import load_rule_set
from zoneguard.services.screening import screen
from zoneguard.settings import Settings

L_SHAPE = Polygon([(0, 0), (300, 0), (300, 100), (100, 100), (100, 300), (0, 300)])
HOLED = Polygon([(0, 0), (400, 0), (400, 400), (0, 400)],
                [[(100, 100), (300, 100), (300, 300), (100, 300)]])
TWO_PARTS = MultiPolygon([Polygon([(0, 0), (120, 0), (120, 120), (0, 120)]),
                          Polygon([(270, 0), (390, 0), (390, 120), (270, 120)])])
SHAPES = {"concave": L_SHAPE, "holed": HOLED, "multipart": TWO_PARTS}
CITIES = {"wuhan": (114.30, 30.50), "shanghai": (121.47, 31.23), "urumqi": (87.60, 43.80)}
THRESHOLDS = {"internet_cafe": 200.0, "tobacco": 100.0, "lottery": 50.0}
OFFSETS = (-0.3, -0.05, -0.01, 0.01, 0.05, 0.3)


def _place(campus_local: BaseGeometry, target: float, rng: random.Random) -> Point:
    """A point at exactly `target` metres from the campus (in its local plane)."""
    centre = campus_local.centroid
    angle = rng.uniform(0, 2 * np.pi)
    p = Point(centre.x + 600 * np.cos(angle), centre.y + 600 * np.sin(angle))
    in_hole = campus_local.geom_type == "Polygon" and campus_local.interiors and target < 95
    if in_hole and rng.random() < 0.5:
        p = Point(50 + rng.uniform(-20, 20), 50 + rng.uniform(-20, 20))  # inside the hole
    for _ in range(60):
        near = campus_local.boundary.interpolate(campus_local.boundary.project(p))
        d = p.distance(near)
        p = Point(near.x + (p.x - near.x) * target / d, near.y + (p.y - near.y) * target / d)
        if abs(campus_local.distance(p) - target) < 1e-7:
            break
    assert abs(campus_local.distance(p) - target) < 1e-6
    return p


def _in_crs(geom: BaseGeometry, crs: str) -> BaseGeometry:
    """Express a WGS 84 geometry in GCJ-02 or BD-09 with the published forward formulas."""
    from shapely import transform

    if crs == "wgs84":
        return geom
    forward = wgs84_to_gcj02 if crs == "gcj02" else wgs84_to_bd09
    return transform(geom, lambda xy: np.column_stack(forward(xy[:, 0], xy[:, 1])))


@pytest.fixture
def zero_margin(tmp_path: Path, settings: Settings) -> tuple[Settings, object]:
    rules_dir = write_rules(tmp_path / "rules")
    cfg = settings.model_copy(update={"review_margin_m": 0.0, "rules_dir": rules_dir})
    return cfg, load_rule_set(rules_dir)


@pytest.mark.parametrize("crs", ["wgs84", "gcj02", "bd09"])
def test_adversarial_cases_classified_right_and_within_a_centimetre(
    session: Session, zero_margin: tuple[Settings, object], crs: str
) -> None:
    cfg, rules = zero_margin
    rng = random.Random(20261123)
    worst = 0.0
    cases = 0
    for c_index, (city, (lon0, lat0)) in enumerate(CITIES.items()):
        for s_index, (shape_name, shape) in enumerate(SHAPES.items()):
            # each campus 20 km from the others so only one school is within reach
            clon, clat = lon0 + 0.2 * s_index, lat0 + 0.2 * c_index
            local = affinity.translate(shape, -150, -150)
            campus = from_local(local, clon, clat)
            stored = geometry_to_wgs84(_in_crs(campus, crs), crs)
            add_school(session, f"{city}-{shape_name}-{crs}", stored,
                       levels=("primary", "kindergarten"))
            for category, threshold in THRESHOLDS.items():
                for offset in OFFSETS:
                    target = threshold + offset
                    p_local = _place(local, target, rng)
                    p = from_local(p_local, clon, clat)
                    oracle, _ = distance_m(p.x, p.y, campus)
                    assert abs(oracle - target) < 1e-3, (oracle, target)
                    given = _in_crs(p, crs)
                    result = screen(session, category=category, point=(given.x, given.y),
                                    crs=crs, settings=cfg, rule_set=rules, store=False,
                                    on=date(2026, 1, 1))
                    expected = "prohibited" if target <= threshold else "allowed"
                    assert result.verdict.value == expected, (city, shape_name, category, offset)
                    near = schools_near(session, lon=result.point[0], lat=result.point[1],
                                        radius_m=threshold + 50, on=date(2026, 1, 1))
                    assert len(near) == 1
                    worst = max(worst, abs(near[0].boundary_m - oracle))
                    if expected == "prohibited":
                        assert abs(result.conflicts[0].distance_m - oracle) < 0.01
                    cases += 1
    assert cases == len(CITIES) * len(SHAPES) * len(THRESHOLDS) * len(OFFSETS)
    assert worst < 0.01, f"worst deviation from the oracle {worst * 1000:.2f} mm"


def test_inside_campus_and_inside_hole(session: Session,
                                       zero_margin: tuple[Settings, object]) -> None:
    cfg, rules = zero_margin
    lon0, lat0 = 114.3, 30.5
    campus = from_local(affinity.translate(HOLED, -200, -200), lon0, lat0)
    add_school(session, "holed", campus)
    inside = from_local(Point(-150, -150), lon0, lat0)  # in the ring itself
    hole = from_local(Point(0, 0), lon0, lat0)  # centre of the 200 m hole: 100 m from the ring
    r_in = screen(session, category="internet_cafe", point=(inside.x, inside.y),
                  settings=cfg, rule_set=rules, store=False)
    assert r_in.verdict.value == "prohibited" and r_in.conflicts[0].distance_m == 0
    r_hole = screen(session, category="lottery", point=(hole.x, hole.y), settings=cfg,
                    rule_set=rules, store=False)
    assert r_hole.verdict.value == "allowed"  # 100 m from the ring > 50 m
    near = schools_near(session, lon=hole.x, lat=hole.y, radius_m=150, on=date.today())
    oracle, _ = distance_m(hole.x, hole.y, campus)
    assert abs(near[0].boundary_m - oracle) < 0.01 and abs(oracle - 100) < 0.01


def test_measured_line_endpoints_realise_the_distance(
    session: Session, zero_margin: tuple[Settings, object]
) -> None:
    cfg, rules = zero_margin
    lon0, lat0 = 121.47, 31.23
    campus = from_local(affinity.translate(L_SHAPE, -150, -150), lon0, lat0)
    add_school(session, "l", campus)
    p = from_local(Point(40, 40), lon0, lat0)  # in the notch of the L
    result = screen(session, category="internet_cafe", point=(p.x, p.y), settings=cfg,
                    rule_set=rules, store=False)
    (plon, plat), (slon, slat) = result.conflicts[0].line  # type: ignore[misc]
    _, _, length = GEOD.inv(plon, plat, slon, slat)
    assert abs(length - result.conflicts[0].distance_m) < 0.005
    oracle, near = distance_m(p.x, p.y, campus)
    _, _, gap = GEOD.inv(near[0], near[1], slon, slat)
    assert gap < 0.05  # the same nearest point on the campus, within 5 cm
    assert abs(to_local(Point(slon, slat), lon0, lat0).distance(
        affinity.translate(L_SHAPE, -150, -150).boundary)) < 0.01


def test_geodesic_distances_match_geographiclib_test_set(session: Session) -> None:
    lines = []
    with gzip.open(REAL / "GeodTest-short.dat.gz", "rt") as handle:
        for raw in handle:
            f = raw.split()
            if float(f[6]) < 1000:
                lines.append((float(f[1]), float(f[0]), float(f[4]), float(f[3]), float(f[6])))
    assert len(lines) == 897
    rows = session.execute(text(
        "SELECT zg_distance_m(ST_SetSRID(ST_MakePoint(x2, y2), 4326), "
        "ST_SetSRID(ST_MakePoint(x1, y1), 4326)) FROM unnest(:x1, :y1, :x2, :y2) "
        "AS t(x1, y1, x2, y2)"),
        {"x1": [r[0] for r in lines], "y1": [r[1] for r in lines],
         "x2": [r[2] for r in lines], "y2": [r[3] for r in lines]}).scalars().all()
    errors = np.abs(np.array(rows) - np.array([r[4] for r in lines]))
    assert errors.max() < 0.01, f"max error {errors.max() * 1000:.3f} mm"
