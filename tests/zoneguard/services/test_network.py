"""Network import: tag rules, splitting at shared nodes and barriers, lengths, replace, CRS."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import osmium
import pytest
import shapely
from shapely.geometry import LineString
from sqlalchemy import text
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from spatial.datums import gcj02_to_wgs84
from spatial.network import LINEAR_BARRIERS, exclusion, node_block
from tests.conftest import REAL
from tests.oracle import GEOD
from zoneguard.cli.main import app
from zoneguard.errors import Conflict, CrsProblem, ImportProblem, ValidationError
from zoneguard.services.ingest.network import import_network, network_status

SHENZHEN, BEIJING = REAL / "shenzhen_longgang.osm", REAL / "beijing_haidian.osm"


@pytest.mark.parametrize(("tags", "walkable"), [
    ({"highway": "footway"}, True),
    ({"highway": "steps"}, True),
    ({"highway": "residential"}, True),
    ({"highway": "primary"}, True),
    ({"highway": "primary", "sidewalk": "no"}, False),
    ({"highway": "primary", "sidewalk": "no", "foot": "yes"}, True),
    ({"highway": "secondary", "sidewalk:left": "no", "sidewalk:right": "none"}, False),
    ({"highway": "motorway"}, False),
    ({"highway": "trunk_link"}, False),
    ({"highway": "trunk", "foot": "yes"}, True),
    ({"highway": "trunk", "sidewalk": "both"}, True),
    ({"highway": "trunk", "sidewalk": "separate"}, False),
    ({"highway": "cycleway"}, False),
    ({"highway": "cycleway", "foot": "designated"}, True),
    ({"highway": "footway", "foot": "no"}, False),
    ({"highway": "service", "access": "private"}, False),
    ({"highway": "service", "access": "private", "foot": "yes"}, True),
    ({"highway": "pedestrian", "area": "yes"}, False),
    ({"highway": "construction"}, False),
    ({"highway": "proposed"}, False),
    ({"highway": "footway", "barrier": "fence"}, False),
    ({"building": "yes"}, False),
])
def test_tag_rules_decide_which_ways_are_walkable(tags: dict[str, str], walkable: bool) -> None:
    assert (exclusion(tags) is None) is walkable


@pytest.mark.parametrize(("tags", "blocks"), [
    ({"barrier": "gate"}, None),
    ({"barrier": "gate", "access": "private"}, "gate"),
    ({"barrier": "gate", "access": "no", "foot": "yes"}, None),
    ({"barrier": "lift_gate", "locked": "yes"}, "lift_gate"),
    ({"barrier": "bollard"}, None),
    ({"barrier": "fence"}, "fence"),
    ({"barrier": "wall"}, "wall"),
    ({"barrier": "turnstile", "foot": "no"}, "turnstile"),
    ({"entrance": "main"}, None),
])
def test_barrier_nodes_block_only_when_closed_to_pedestrians(
        tags: dict[str, str], blocks: str | None) -> None:
    assert node_block(tags) == blocks


def _walkable_ways(path: Path) -> tuple[list[tuple[list[int], LineString]], list[Any]]:
    """Walkable ways and linear barriers read independently with osmium."""
    ways, barriers = [], []
    for obj in osmium.FileProcessor(str(path), osmium.osm.NODE | osmium.osm.WAY).with_locations():
        if not obj.is_way():
            continue
        tags = dict(obj.tags)
        coords = [(n.lon, n.lat) for n in obj.nodes if n.location.valid()]
        if len(coords) < 2:
            continue
        refs = [n.ref for n in obj.nodes if n.location.valid()]
        if tags.get("barrier") in LINEAR_BARRIERS:
            barriers.append((refs, LineString(coords)))
        elif "highway" in tags and exclusion(tags) is None:
            ways.append((refs, LineString(coords)))
    return ways, barriers


@pytest.mark.parametrize("path", [SHENZHEN, BEIJING], ids=["shenzhen", "beijing"])
def test_osm_ways_are_split_exactly_at_shared_nodes_ends_and_barriers(
        session: Session, path: Path) -> None:
    import_network(session, path=path, region="44")
    ways, _ = _walkable_ways(path)
    uses = Counter(n for refs, _ in ways for n in dict.fromkeys(refs))
    loops = Counter(n for refs, _ in ways for n in refs if refs.count(n) > 1)
    junctions = {n for n in uses if uses[n] > 1 or loops[n]}
    ends = {refs[i] for refs, _ in ways for i in (0, -1)}
    stored = set(session.execute(text(
        "SELECT osm_node_id FROM network_vertex WHERE osm_node_id IS NOT NULL")).scalars())
    blocked = set(session.execute(text(
        "SELECT osm_node_id FROM network_vertex WHERE barrier IS NOT NULL "
        "AND osm_node_id IS NOT NULL")).scalars())
    assert stored == junctions | ends | blocked
    assert junctions - ends  # real junctions in the middle of ways were split


@pytest.mark.parametrize("path", [SHENZHEN, BEIJING], ids=["shenzhen", "beijing"])
def test_edge_lengths_are_geodesic_and_add_up_to_the_walkable_ways(
        session: Session, path: Path) -> None:
    result = import_network(session, path=path)
    rows = session.execute(text(
        "SELECT length_m, cost, reverse_cost, ST_AsBinary(geom) AS wkb FROM network_edge")).all()
    for r in rows:
        assert r.length_m == pytest.approx(GEOD.geometry_length(shapely.from_wkb(r.wkb)),
                                           abs=1e-3)
        assert r.cost == r.reverse_cost == r.length_m
    ways, _ = _walkable_ways(path)
    total = sum(GEOD.geometry_length(line) for _, line in ways)
    assert sum(r.length_m for r in rows) == pytest.approx(total, rel=1e-9, abs=0.5)
    assert result.report["edges"] == len(rows)


def test_a_pbf_way_cut_by_the_extract_is_not_bridged_across_the_gap(session: Session) -> None:
    pbf = REAL / "helsinki.osm.pbf"
    result = import_network(session, path=pbf, region="11")
    steps, nodes = set(), set()
    for obj in osmium.FileProcessor(str(pbf), osmium.osm.NODE | osmium.osm.WAY)\
            .with_locations():
        if not obj.is_way():
            continue
        pts = [(n.lon, n.lat) if n.location.valid() else None for n in obj.nodes]
        nodes.update(p for p in pts if p)
        steps.update(frozenset(pair) for pair in zip(pts, pts[1:], strict=False)
                     if None not in pair)
    checked = 0
    for wkb in session.execute(text("SELECT ST_AsBinary(geom) FROM network_edge")).scalars():
        coords = [tuple(c) for c in shapely.from_wkb(wkb).coords]
        for a, b in zip(coords, coords[1:], strict=False):
            if a in nodes and b in nodes:  # not a point cut at a fence crossing
                assert frozenset((a, b)) in steps
                checked += 1
    assert checked > 4000 and "道路在缺点处断开" in result.warnings[0]


def test_motorways_without_foot_access_are_left_out(session: Session) -> None:
    result = import_network(session, path=SHENZHEN)
    highways = set(session.execute(text(
        "SELECT DISTINCT tags->>'highway' FROM network_edge")).scalars())
    assert not highways & {"motorway", "motorway_link", "trunk", "trunk_link", "construction"}
    assert result.report["excluded"]["highway=motorway without foot access"] == 38


def test_no_edge_crosses_a_fence_or_wall_except_through_a_shared_node(
        session: Session) -> None:
    result = import_network(session, path=BEIJING)
    _, barriers = _walkable_ways(BEIJING)
    fences = [line for _, line in barriers]
    shared = {tuple(c) for _, line in barriers for c in line.coords}
    tree = shapely.STRtree(fences)
    rows = session.execute(text("SELECT ST_AsBinary(geom) FROM network_edge")).scalars()
    crossings = 0
    for wkb in rows:
        edge = shapely.from_wkb(wkb)
        ends = {edge.coords[0], edge.coords[-1]}
        for j in tree.query(edge, predicate="intersects"):
            for pt in shapely.get_parts(edge.intersection(fences[j])):
                if pt.geom_type != "Point":
                    continue
                crossings += 1
                at_end = any(pt.distance(shapely.Point(e)) < 1e-9 for e in ends)
                assert at_end or (pt.x, pt.y) in shared
    assert crossings > 0 and result.report["barrier_crossings_cut"] == 2
    cut = session.execute(text("SELECT count(*) FROM network_vertex WHERE barrier IN "
                               "('fence', 'wall') AND osm_node_id IS NULL")).scalar_one()
    assert cut == 4  # each cut leaves one dead end on either side


def test_a_blocking_point_gets_one_vertex_per_edge_end(session: Session) -> None:
    import_network(session, path=BEIJING)
    uses = session.execute(text("""
        SELECT v.id, count(e.id) FROM network_vertex v
        JOIN network_edge e ON v.id IN (e.source, e.target)
        WHERE v.barrier IS NOT NULL GROUP BY v.id""")).all()
    assert uses and all(n == 1 for _, n in uses)


def test_a_second_import_needs_replace_and_replace_swaps_only_that_region(
        session: Session) -> None:
    import_network(session, path=SHENZHEN, region="440307")
    import_network(session, path=BEIJING, region="110108")
    with pytest.raises(Conflict, match="--replace"):
        import_network(session, path=SHENZHEN, region="440307")
    before = session.execute(text("SELECT max(id) FROM network_edge")).scalar_one()
    again = import_network(session, path=SHENZHEN, region="440307", replace=True)
    assert again.replaced_edges == again.report["edges"] == 904
    rows = dict(session.execute(text(
        "SELECT region, count(*) FROM network_edge GROUP BY region")).all())
    assert rows == {"440307": 904, "110108": 619}
    assert session.execute(text("SELECT min(id) FROM network_edge WHERE region = '440307'"))\
        .scalar_one() > before
    status = {s["region"]: s for s in network_status(session)}
    assert status["440307"]["edges"] == 904 and status["110108"]["vertices"] == 489
    record = session.execute(text("SELECT kind, inserted, report->>'replaced_edges' FROM import "
                                  "WHERE id = :i"), {"i": again.import_id}).one()
    assert tuple(record) == ("network", 904, "904")


def _geojson(tmp_path: Path, features: list[tuple[Any, dict[str, Any]]],
             name: str = "lines.geojson") -> Path:
    body = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "geometry": shapely.geometry.mapping(g), "properties": p}
        for g, p in features]}
    path = tmp_path / name
    path.write_text(json.dumps(body), encoding="utf-8")
    return path


def test_a_failed_replace_leaves_the_old_network_untouched(session: Session,
                                                            tmp_path: Path) -> None:
    import_network(session, path=SHENZHEN, region="440307")
    points = _geojson(tmp_path, [(shapely.Point(114.2, 22.69), {})])
    with pytest.raises(ImportProblem, match="应为线数据"):
        import_network(session, path=points, region="440307", crs="wgs84", replace=True)
    only_fence = _geojson(tmp_path, [(LineString([(114.2, 22.69), (114.21, 22.69)]),
                                      {"barrier": "fence"})], "fence.geojson")
    with pytest.raises(ImportProblem, match="没有可步行的道路"):
        import_network(session, path=only_fence, region="440307", crs="wgs84", replace=True)
    assert session.execute(text("SELECT count(*) FROM network_edge")).scalar_one() == 904


def test_survey_lines_need_a_crs_and_are_converted_from_gcj02(session: Session,
                                                              tmp_path: Path) -> None:
    line = LineString([(114.2000, 22.6900), (114.2010, 22.6900)])
    path = _geojson(tmp_path, [(line, {"name": "survey"})])
    with pytest.raises(CrsProblem, match="--crs"):
        import_network(session, path=path)
    import_network(session, path=path, crs="gcj02")
    got = session.execute(text("SELECT ST_X(ST_StartPoint(geom)), ST_Y(ST_StartPoint(geom)) "
                               "FROM network_edge")).one()
    lon, lat = gcj02_to_wgs84(114.2000, 22.6900)
    assert got[0] == pytest.approx(float(lon), abs=1e-9)
    assert got[1] == pytest.approx(float(lat), abs=1e-9)
    assert GEOD.inv(got[0], got[1], 114.2, 22.69)[2] > 300  # the datum shift was applied


def test_osm_is_always_wgs84(session: Session) -> None:
    with pytest.raises(ImportProblem, match="一律是 WGS 84"):
        import_network(session, path=SHENZHEN, crs="gcj02")
    with pytest.raises(ValidationError, match="GB/T 2260"):
        import_network(session, path=SHENZHEN, region="44x")


def test_survey_lines_connect_where_one_ends_on_another(session: Session,
                                                        tmp_path: Path) -> None:
    main = LineString([(114.2000, 22.6900), (114.2020, 22.6900)])
    branch = LineString([(114.2010, 22.6900), (114.2010, 22.6910)])  # ends on main's interior
    crossing = LineString([(114.2015, 22.6895), (114.2015, 22.6905)])  # no shared vertex
    result = import_network(session, path=_geojson(tmp_path, [(main, {}), (branch, {}),
                                                              (crossing, {})]), crs="wgs84")
    assert result.report["edges"] == 4  # main split in two at the T; the crossing stays apart
    degree = dict(session.execute(text("""
        SELECT v.id, count(*) FROM network_vertex v
        JOIN network_edge e ON v.id IN (e.source, e.target) GROUP BY v.id""")).all())
    assert sorted(degree.values()) == [1, 1, 1, 1, 1, 3]


def test_cli_status_and_a_missing_file(session: Session) -> None:
    runner = CliRunner()
    missing = runner.invoke(app, ["network", "import", "/nonexistent/city.osm.pbf"])
    assert missing.exit_code == 1 and "文件不存在" in missing.output
    status = runner.invoke(app, ["network", "status", "--json"])
    assert status.exit_code == 0 and json.loads(status.output) == []
