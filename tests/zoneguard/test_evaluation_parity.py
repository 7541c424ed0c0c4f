"""Every path that judges a (premises, school) pair gives the same verdict for it.

A synthetic city with every metric (boundary, gate, walking over an imported street
network, a rule without a distance, an enrolment threshold, a point-only school, a
gateless campus, doors, licence dates before and after a rule) is judged by the screening
of each premises, by a full rescan, and by each school's sheet (which the school map draws);
the three sets of (premises, school, rule, verdict, 存量) must be equal, and the zones drawn
around each school must be the distances of the rules that protect it.
"""

from __future__ import annotations

import json
import random
from datetime import date, timedelta
from pathlib import Path

import pytest
import shapely
from shapely.geometry import LineString, Point, box
from sqlalchemy import text
from sqlalchemy.orm import Session

from tests.factories import add_gate, add_premises, add_school, write_rules
from tests.oracle import from_local
from tests.zoneguard.test_evaluation import PROVINCE, RULES
from zoneguard.evaluation import zone_distances
from zoneguard.maps.data import zone_specs
from zoneguard.queries.nearby import premises_near, school_by_code
from zoneguard.rules import load_rule_set
from zoneguard.services.ingest.network import import_network
from zoneguard.services.scan.run import run_scan
from zoneguard.services.screening import screen
from zoneguard.settings import Settings

LON, LAT = 113.70, 24.80
REGION = "720102"
WALKING = """\
  - id: e.entertainment
    category: entertainment
    protects: [primary, secondary]
    distance_m: 200
    distance_kind: statutory
    inclusive: false
    metric: walking
    existing: review
    citations: [{authority: 测试省文化和旅游厅, title: 测试通知, article: 第二条,
                 text: 距离不得少于200米, confidence: C}]
    effective_from: 2020-01-01
"""
CATEGORIES = ("internet_cafe", "tobacco", "lottery", "fireworks", "bar", "gas_station",
              "entertainment")


def at(x: float, y: float) -> tuple[float, float]:
    p = from_local(Point(x, y), LON, LAT)
    return p.x, p.y


def _streets(tmp_path: Path) -> Path:
    """A 100 m grid of footways over the city, 1 km square, as GeoJSON in WGS 84."""
    lines = [LineString([(x, -500), (x, 500)]) for x in range(-500, 501, 100)]
    lines += [LineString([(-500, y), (500, y)]) for y in range(-500, 501, 100)]
    features = [{"type": "Feature", "properties": {"highway": "footway"},
                 "geometry": shapely.geometry.mapping(from_local(line, LON, LAT))}
                for line in lines]
    path = tmp_path / "streets.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}),
                    encoding="utf-8")
    return path


@pytest.fixture
def city(session: Session, settings: Settings, tmp_path: Path) -> Settings:
    rules_dir = write_rules(tmp_path / "rules", RULES + WALKING)
    write_rules(rules_dir, PROVINCE, name="72.yaml")
    import_network(session, path=_streets(tmp_path), crs="EPSG:4326", region=REGION)
    # Campuses whose walls sit between streets, so doors and gates snap onto the grid.
    a = add_school(session, "P-A", from_local(box(-180, -180, -20, -20), LON, LAT),
                   region=REGION, enrolment=900, name="甲小学")
    add_gate(session, a, *at(-100, -20))
    b = add_school(session, "P-B", from_local(box(20, 20, 180, 180), LON, LAT),
                   region="430103", enrolment=188, name="乙小学",
                   levels=("primary", "kindergarten"))
    add_gate(session, b, *at(20, 100))
    add_gate(session, b, *at(180, 100))
    add_school(session, "P-C", from_local(box(20, -180, 180, -20), LON, LAT),
               region=REGION, enrolment=None, name="丙中学", levels=("secondary",))
    add_school(session, "P-D", Point(*at(-100, 100)), region=REGION, enrolment=600,
               name="丁小学", opened_on=date(2019, 9, 1))
    rng = random.Random(20261203)
    for n in range(70):
        x, y = rng.uniform(-420, 420), rng.uniform(-420, 420)
        door = None
        if n % 3 == 0:
            door = at(x + rng.uniform(-15, 15), y + rng.uniform(-15, 15))
        issued = date(2018, 1, 1) + timedelta(days=rng.randrange(0, 3000))
        add_premises(session, CATEGORIES[n % len(CATEGORIES)], *at(x, y),
                     licence_no=f"PAR-{n}", region=REGION if n % 4 else "430103",
                     issued_on=issued, entrance=door)
    return settings.model_copy(update={"rules_dir": rules_dir, "review_margin_m": 3.0})


def test_screening_scan_and_school_sheet_agree_on_every_pair(session: Session,
                                                              city: Settings) -> None:
    rules = load_rule_set(city.effective_rules_dir)
    today = date.today()
    premises = session.execute(text(
        "SELECT id, category, region, issued_on, ST_X(location) AS lon, ST_Y(location) AS lat, "
        "ST_X(entrance) AS elon, ST_Y(entrance) AS elat FROM premises "
        "WHERE licence_no LIKE 'PAR-%'")).all()
    by_screening = set()
    for p in premises:
        door = None if p.elon is None else (p.elon, p.elat)
        result = screen(session, category=p.category, point=(p.lon, p.lat), entrance=door,
                        region=p.region, issued_on=p.issued_on, rule_set=rules, settings=city,
                        store=False, on=today)
        by_screening |= {(p.id, c.school.school_id, c.rule.rule.id, c.verdict.value, c.existing)
                         for c in result.conflicts}

    run_scan(session, trigger="manual", settings=city, region="72")
    run_scan(session, trigger="manual", settings=city, region="43")
    by_scan = {tuple(row) for row in session.execute(text(
        "SELECT f.premises_id, f.school_id, f.rule_id, f.verdict, f.existing FROM finding f "
        "JOIN premises p ON p.id = f.premises_id WHERE p.licence_no LIKE 'PAR-%' "
        "AND f.state <> 'resolved'"))}

    by_sheet = set()
    for code in ("P-A", "P-B", "P-C", "P-D"):
        school = school_by_code(session, code)
        for item in premises_near(session, school, rule_set=rules, settings=city, on=today):
            by_sheet |= {(item.premises["id"], school["id"], j.rule.rule.id, j.verdict.value,
                          j.existing) for j in item.judgements if j.verdict.value != "allowed"}

    assert len(by_screening) > 25  # the city exercises the rules, not an empty comparison
    verdicts = {v for *_, v, _ in by_screening}
    assert verdicts == {"prohibited", "review"}
    metrics = {rule for _, _, rule, _, _ in by_screening}
    assert {"e.entertainment", "e.lottery", "e.bar", "e.gas", "e.cafe"} <= metrics
    assert by_scan == by_screening
    assert by_sheet == by_screening


def test_zones_drawn_are_the_distances_of_the_protecting_rules(session: Session,
                                                               city: Settings) -> None:
    rules = load_rule_set(city.effective_rules_dir)
    today = date.today()
    rows = [dict(r._mapping) for r in session.execute(text(
        "SELECT id, levels, region, enrolment FROM school WHERE code LIKE 'P-%' ORDER BY id"))]
    specs = zone_specs(rules, rows, categories=CATEGORIES, on=today)
    for row in rows:
        expected: dict[float, set[str]] = {}
        for category in CATEGORIES:
            for r in rules.applicable(category=category, levels=row["levels"],
                                      region=row["region"], on=today,
                                      enrolment=row["enrolment"]):
                d = r.rule.distance_m if r.rule.distance_m is not None else r.rule.review_within_m
                expected.setdefault(float(d or 0), set()).add(category)
        drawn = {z.distance_m: set(z.categories) for z in specs if z.school_id == row["id"]}
        assert drawn == expected
        listed = zone_distances(rules, categories=CATEGORIES, levels=row["levels"],
                                region=row["region"], on=today, enrolment=row["enrolment"])
        assert {z.distance_m for z in listed} == set(expected)
