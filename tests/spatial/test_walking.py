"""Walking distance door → gate over the street network, against an independent NetworkX oracle."""

from __future__ import annotations

import json
import random
from datetime import date
from pathlib import Path
from typing import Any

import networkx as nx
import pytest
import shapely
from shapely import ops
from shapely.geometry import LineString, Point, Polygon
from sqlalchemy import text
from sqlalchemy.orm import Session

from spatial.measure import schools_near
from spatial.walking import WalkFailure, WalkResult, make_walker, walk
from tests.conftest import REAL
from tests.factories import add_gate, add_school, write_rules
from tests.oracle import GEOD, from_local, to_local
from zoneguard.imports import read_table
from zoneguard.rules import load_rule_set
from zoneguard.services.ingest.network import import_network
from zoneguard.services.screening import screen
from zoneguard.settings import PROJECT_ROOT, Settings

SNAP_MAX_M = 50.0
TIE_M = 1.0
ORIGIN = (114.30, 22.60)  # synthetic networks, away from the real extracts
CITIES = {"beijing": ("beijing_haidian.osm", "110108"),
          "shenzhen": ("shenzhen_longgang.osm", "440307")}
# 华南师范大学附属龙岗大运学校 (OSM way 533650676) and its gate (OSM node 5176925981).
DAYUN_CODE, DAYUN_GATE = "osm:way/533650676", (114.2154351, 22.6917416)


# --- an independent walk: NetworkX over the stored edges, snapping in a local AEQD plane --------

class Oracle:
    """Shortest walks over the edges read back from the database (lengths re-measured)."""

    def __init__(self, session: Session) -> None:
        rows = session.execute(text(
            "SELECT source, target, ST_AsBinary(geom) AS wkb FROM network_edge")).all()
        self.ends = [(r.source, r.target) for r in rows]
        self.lines = [shapely.from_wkb(r.wkb) for r in rows]
        self.tree = shapely.STRtree(self.lines)
        self.graph = nx.MultiGraph()
        for (a, b), line in zip(self.ends, self.lines, strict=True):
            self.graph.add_edge(a, b, weight=GEOD.geometry_length(line))

    def snaps(self, pt: tuple[float, float]) -> list[tuple[int, float, float, float]]:
        """(edge, snap m, metres from source, metres to target): the 4 nearest within 50 m."""
        found = []
        for i in self.tree.query(Point(pt), predicate="dwithin", distance=0.002):
            local = to_local(self.lines[i], *pt)
            at = local.project(Point(0, 0))
            near = from_local(local.interpolate(at), *pt)
            snap = GEOD.inv(pt[0], pt[1], near.x, near.y)[2]
            head = ops.substring(local, 0, at)
            before = 0.0 if head.length == 0 else GEOD.geometry_length(from_local(head, *pt))
            after = max(GEOD.geometry_length(self.lines[i]) - before, 0.0)
            found.append((int(i), snap, before, after))
        return sorted((f for f in found if f[1] <= SNAP_MAX_M), key=lambda f: f[1])[:4]

    def walk(self, door: tuple[float, float], gate: tuple[float, float]) -> float | None:
        """Door → gate metres over the nearest snaps, else over every snap within 50 m."""
        ends = {"door": self.snaps(door), "gate": self.snaps(gate)}
        if not ends["door"] or not ends["gate"]:
            return None
        ties = {k: [f for f in v if f[1] <= v[0][1] + TIE_M] for k, v in ends.items()}
        got = self._walk(ties)
        return got if got is not None else self._walk(ends)

    def _walk(self, ends: dict[str, list[tuple[int, float, float, float]]]) -> float | None:
        graph = self.graph.copy()
        for name, snaps in ends.items():
            for k, (edge, snap, before, after) in enumerate(snaps):
                source, target = self.ends[edge]
                graph.add_edge(name, (name, k), weight=snap)
                graph.add_edge((name, k), source, weight=before)
                graph.add_edge((name, k), target, weight=after)
        for i, d in enumerate(ends["door"]):
            for j, g in enumerate(ends["gate"]):
                if d[0] == g[0]:
                    graph.add_edge(("door", i), ("gate", j), weight=abs(d[2] - g[2]))
        try:
            return float(nx.dijkstra_path_length(graph, "door", "gate"))
        except nx.NetworkXNoPath:
            return None


def _import(session: Session, city: str) -> None:
    name, region = CITIES[city]
    import_network(session, path=REAL / name, region=region)


def _school_at_gate(session: Session, gate: tuple[float, float], code: str) -> int:
    square = from_local(Polygon([(-10, 0), (10, 0), (10, 20), (-10, 20)]), *gate)
    sid = add_school(session, code, square)
    add_gate(session, sid, *gate)
    return sid


def _random_pairs(session: Session, n: int, seed: int) -> list[tuple[tuple[float, float], ...]]:
    """Doors near a random street (0-90 m off it) and gates near another one 50-500 m away."""
    lines = [shapely.from_wkb(w) for w in session.execute(text(
        "SELECT ST_AsBinary(geom) FROM network_edge ORDER BY id")).scalars()]
    rng = random.Random(seed)

    def near_street(line: LineString, off_max: float) -> tuple[float, float]:
        p = line.interpolate(rng.random(), normalized=True)
        lon, lat, _ = GEOD.fwd(p.x, p.y, rng.uniform(0, 360), rng.uniform(0, off_max))
        return (lon, lat)

    pairs = []
    while len(pairs) < n:
        door = near_street(rng.choice(lines), 90)
        gate = near_street(rng.choice(lines), 30)
        if 50 <= GEOD.inv(door[0], door[1], gate[0], gate[1])[2] <= 500:
            pairs.append((door, gate))
    return pairs


@pytest.mark.parametrize("city", sorted(CITIES))
def test_walks_on_real_networks_match_an_independent_networkx_oracle(
        session: Session, city: str) -> None:
    _import(session, city)
    oracle = Oracle(session)
    compared = failures = 0
    for k, (door, gate) in enumerate(_random_pairs(session, 60, seed=8)):
        sid = _school_at_gate(session, gate, f"w{k}")
        got = walk(session, door=door, school_id=sid, max_snap_m=SNAP_MAX_M,
                   box_margin_m=5000)
        want = oracle.walk(door, gate)
        if want is None:
            assert isinstance(got, WalkFailure), (door, gate, got)
            failures += 1
            continue
        assert isinstance(got, WalkResult), (door, gate, got)
        assert got.distance_m == pytest.approx(want, abs=0.05), (door, gate)
        compared += 1
    assert compared >= 20 and failures >= 1


@pytest.mark.parametrize("city", sorted(CITIES))
def test_a_walk_is_never_shorter_than_the_straight_line_and_its_path_measures_it(
        session: Session, city: str) -> None:
    _import(session, city)
    checked = 0
    for k, (door, gate) in enumerate(_random_pairs(session, 30, seed=21)):
        sid = _school_at_gate(session, gate, f"s{k}")
        got = walk(session, door=door, school_id=sid, max_snap_m=SNAP_MAX_M)
        if isinstance(got, WalkFailure):
            continue
        straight = GEOD.inv(door[0], door[1], gate[0], gate[1])[2]
        assert got.distance_m >= straight - 1e-6
        assert got.straight_m == pytest.approx(straight, abs=1e-6)
        drawn = GEOD.geometry_length(LineString(got.path))
        assert drawn == pytest.approx(got.distance_m, abs=0.05)
        assert got.path[0] == door and got.path[-1] == gate
        checked += 1
    assert checked >= 15


def test_the_clip_box_never_changes_a_walk_shorter_than_twice_its_margin(
        session: Session) -> None:
    _import(session, "shenzhen")
    same = 0
    for k, (door, gate) in enumerate(_random_pairs(session, 30, seed=5)):
        sid = _school_at_gate(session, gate, f"c{k}")
        wide = walk(session, door=door, school_id=sid, max_snap_m=SNAP_MAX_M, box_margin_m=5000)
        if isinstance(wide, WalkFailure) or wide.distance_m > 1000:
            continue
        clipped = walk(session, door=door, school_id=sid, max_snap_m=SNAP_MAX_M)
        assert isinstance(clipped, WalkResult)
        assert clipped.distance_m == pytest.approx(wide.distance_m, abs=1e-6)
        same += 1
    assert same >= 10


# --- synthetic networks: fences, gates, snaps, disconnection ----------------------------------

def _local_lines(*coords: list[tuple[float, float]]) -> list[LineString]:
    return [from_local(LineString(c), *ORIGIN) for c in coords]


def _here(x: float, y: float) -> tuple[float, float]:
    p = from_local(Point(x, y), *ORIGIN)
    return (p.x, p.y)


def _geojson(tmp_path: Path, features: list[tuple[LineString, dict[str, Any]]]) -> Path:
    body = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "geometry": shapely.geometry.mapping(g), "properties": props}
        for g, props in features]}
    path = tmp_path / "survey.geojson"
    path.write_text(json.dumps(body), encoding="utf-8")
    return path


# A straight footway (0,0)→(200,0) and a detour (0,0)→(0,60)→(200,60)→(200,0), in metres.
STRAIGHT = [(0.0, 0.0), (200.0, 0.0)]
DETOUR = [(0.0, 0.0), (0.0, 60.0), (200.0, 60.0), (200.0, 0.0)]
FENCE = [(100.0, -30.0), (100.0, 30.0)]
DOOR, GATE = _here(-10, 0), _here(205, 0)


def _walk_synthetic(session: Session, path: Path) -> WalkResult | WalkFailure:
    crs = None if path.suffix == ".osm" else "EPSG:4326"
    import_network(session, path=path, region="4403", crs=crs, replace=True)
    sid = session.execute(text("SELECT id FROM school WHERE code = 'walked'")).scalar()
    return walk(session, door=DOOR, school_id=sid or _gate_school(session),
                max_snap_m=SNAP_MAX_M)


def test_a_fence_across_the_way_forces_a_detour_that_lengthens_the_walk(
        session: Session, tmp_path: Path) -> None:
    straight, detour, fence = _local_lines(STRAIGHT, DETOUR, FENCE)
    open_ = _walk_synthetic(session, _geojson(tmp_path, [(straight, {"highway": "footway"}),
                                                         (detour, {"highway": "footway"})]))
    fenced = _walk_synthetic(session, _geojson(tmp_path, [
        (straight, {"highway": "footway"}), (detour, {"highway": "footway"}),
        (fence, {"barrier": "fence"})]))
    assert isinstance(open_, WalkResult) and isinstance(fenced, WalkResult)
    geodesic = GEOD.geometry_length
    assert open_.distance_m == pytest.approx(10 + geodesic(straight) + 5, abs=0.05)
    assert fenced.distance_m == pytest.approx(10 + geodesic(detour) + 5, abs=0.05)
    assert fenced.distance_m > open_.distance_m + 100


def _osm(tmp_path: Path, gate_tags: dict[str, str]) -> Path:
    """The same layout in OSM XML; the fence shares node 3 with the straight way."""
    nodes = {1: (0, 0), 2: (200, 0), 3: (100, 0), 4: (0, 60), 5: (200, 60),
             6: (100, -30), 7: (100, 30)}
    xml = ['<?xml version="1.0" encoding="UTF-8"?>', '<osm version="0.6">']
    for nid, (x, y) in nodes.items():
        lon, lat = _here(x, y)
        tags = "".join(f'<tag k="{k}" v="{v}"/>' for k, v in gate_tags.items()) if nid == 3 else ""
        xml.append(f'<node id="{nid}" version="1" lat="{lat:.9f}" lon="{lon:.9f}">{tags}</node>')
    for wid, refs, tags in ((10, [1, 3, 2], {"highway": "footway"}),
                            (11, [1, 4, 5, 2], {"highway": "footway"}),
                            (12, [6, 3, 7], {"barrier": "fence"})):
        nds = "".join(f'<nd ref="{r}"/>' for r in refs)
        tg = "".join(f'<tag k="{k}" v="{v}"/>' for k, v in tags.items())
        xml.append(f'<way id="{wid}" version="1">{nds}{tg}</way>')
    xml.append("</osm>")
    path = tmp_path / "gate.osm"
    path.write_text("\n".join(xml), encoding="utf-8")
    return path


@pytest.mark.parametrize(("gate_tags", "through"), [
    ({"barrier": "gate"}, True),
    ({"barrier": "gate", "access": "private"}, False),
    ({"barrier": "gate", "access": "private", "foot": "yes"}, True),
    ({"barrier": "gate", "locked": "yes"}, False),
    ({}, True),  # an untagged shared node is a passage (docs/walking.md)
])
def test_a_gate_in_the_fence_lets_the_walk_through_unless_it_is_closed_to_pedestrians(
        session: Session, tmp_path: Path, gate_tags: dict[str, str], through: bool) -> None:
    got = _walk_synthetic(session, _osm(tmp_path, gate_tags))
    assert isinstance(got, WalkResult)
    assert (got.distance_m < 250) is through


def test_a_network_split_in_two_gives_no_path_and_a_review(
        session: Session, settings: Settings, tmp_path: Path) -> None:
    left, right = _local_lines([(0, 0), (90, 0)], [(110, 0), (200, 0)])
    got = _walk_synthetic(session, _geojson(tmp_path, [(left, {}), (right, {})]))
    assert isinstance(got, WalkFailure) and got.kind == "no_path"
    assert "路网不连通" in got.reason
    result = _screen_walking(session, settings, tmp_path, _here(40, 5))
    (conflict,) = result.conflicts
    assert conflict.verdict.value == "review" and conflict.distance_m is None
    assert "路网不连通" in conflict.reasons[0] and "直线距离 " in conflict.reasons[0]


@pytest.mark.parametrize(("x", "y"), [(205.0, 0.0), (100.0, 3.0)])
def test_a_door_at_the_gate_walks_only_its_two_snaps(session: Session, tmp_path: Path,
                                                      x: float, y: float) -> None:
    straight, = _local_lines(STRAIGHT)
    import_network(session, path=_geojson(tmp_path, [(straight, {})]), crs="wgs84")
    campus = from_local(Polygon([(x - 10, y), (x + 10, y), (x + 10, y + 20), (x - 10, y + 20)]),
                        *ORIGIN)
    sid = add_school(session, "at-door", campus)
    add_gate(session, sid, *_here(x, y))
    got = walk(session, door=_here(x, y), school_id=sid, max_snap_m=SNAP_MAX_M)
    assert isinstance(got, WalkResult)
    assert got.distance_m == pytest.approx(2 * max(y, x - 200), abs=0.01)
    assert got.network_m == 0


def test_a_school_without_gates_is_walked_to_where_a_path_meets_its_boundary(
        session: Session, tmp_path: Path) -> None:
    straight, spur = _local_lines(STRAIGHT, [(150, 0), (150, 80)])
    import_network(session, path=_geojson(tmp_path, [(straight, {}), (spur, {})]),
                   crs="wgs84")
    campus = from_local(Polygon([(120, 50), (180, 50), (180, 120), (120, 120)]), *ORIGIN)
    sid = add_school(session, "gateless", campus)
    got = walk(session, door=DOOR, school_id=sid, max_snap_m=SNAP_MAX_M)
    assert isinstance(got, WalkResult) and got.target == "boundary" and got.gate_id is None
    assert got.distance_m == pytest.approx(10 + 150 + 50, abs=0.05)


# --- the verdicts: review whenever the walk cannot be trusted ------------------------------------

def _screen_walking(session: Session, settings: Settings, tmp_path: Path,
                    point: tuple[float, float]) -> Any:
    rules = load_rule_set(write_rules(tmp_path / "rules"))
    return screen(session, category="entertainment", point=point, rule_set=rules,
                  settings=settings, store=False, on=date(2026, 1, 1))


def _gate_school(session: Session) -> int:
    campus = from_local(Polygon([(205, -5), (225, -5), (225, 15), (205, 15)]), *ORIGIN)
    sid = add_school(session, "walked", campus)
    add_gate(session, sid, *GATE)
    return sid


def test_no_network_around_the_school_is_review(session: Session, settings: Settings,
                                                tmp_path: Path) -> None:
    _gate_school(session)
    result = _screen_walking(session, settings, tmp_path, _here(60, 0))
    assert result.verdict.value == "review"
    assert "未导入步行路网" in " ".join(result.conflicts[0].reasons)


def test_a_door_too_far_from_any_street_is_review(session: Session, settings: Settings,
                                                  tmp_path: Path) -> None:
    straight, = _local_lines(STRAIGHT)
    import_network(session, path=_geojson(tmp_path, [(straight, {})]), crs="EPSG:4326")
    _gate_school(session)
    result = _screen_walking(session, settings, tmp_path, _here(100, 80))
    (conflict,) = result.conflicts
    assert conflict.verdict.value == "review" and conflict.distance_m is None
    assert "场所入口距最近的步行道路 80.0 米，超过 50 米的接入上限" in conflict.reasons[0]


def test_a_walk_inside_the_distance_is_prohibited_with_the_path_drawn(
        session: Session, settings: Settings, tmp_path: Path) -> None:
    straight, detour = _local_lines(STRAIGHT, DETOUR)
    import_network(session, path=_geojson(tmp_path, [(straight, {}), (detour, {})]),
                   crs="EPSG:4326")
    _gate_school(session)
    result = _screen_walking(session, settings, tmp_path, _here(60, 10))
    (conflict,) = result.conflicts
    assert conflict.verdict.value == "prohibited"
    assert conflict.distance_m == pytest.approx(10 + 140 + 5, abs=0.05)
    drawn = result.as_dict()["conflicts"][0]
    assert drawn["line"] == drawn["path"] and len(drawn["path"]) >= 4
    assert "步行至最近校门 155.00 米" in conflict.reasons[0]


def test_guangdong_walking_and_national_boundary_disagree_near_a_shenzhen_school(
        session: Session, settings: Settings) -> None:
    _import(session, "shenzhen")
    schools = read_table(REAL / "shenzhen_longgang.osm", kind="schools", crs=None).frame
    row = schools[schools.code == DAYUN_CODE].iloc[0]
    sid = add_school(session, row.code, row.geometry, levels=tuple(row.levels), name=row["name"])
    add_gate(session, sid, *DAYUN_GATE)
    rules = load_rule_set(PROJECT_ROOT / "data" / "rules")
    # South of the campus across 龙飞大道's carriageways: 68 m straight, the gate is a walk away.
    door = (114.21633, 22.69066)
    verdicts = {}
    for region in ("440307", "430103"):
        result = screen(session, category="entertainment", point=door, region=region,
                        rule_set=rules, settings=settings, store=False, on=date(2026, 1, 1))
        verdicts[region] = result
    national, guangdong = verdicts["430103"], verdicts["440307"]
    # The national 200 m is a default, not statute: it sends the case to review, never 禁止.
    assert national.verdict.value == "review"
    assert national.conflicts[0].rule.rule.id == "cn.entertainment.school"
    assert any("非法定距离" in r for r in national.conflicts[0].reasons)
    # Guangdong walks, but the campus is 68 m away in a straight line: the two metrics
    # disagree, so the case is reviewed with both numbers rather than allowed.
    (gd_far,) = guangdong.conflicts
    assert guangdong.verdict.value == "review" and gd_far.rule.rule.id == "gd.entertainment.school"
    assert "两种测量结果不一致" in gd_far.reasons[-1] and "超出 200 米" in gd_far.reasons[-1]
    walker = make_walker(session, max_snap_m=SNAP_MAX_M, reach_m=200)
    walked = walker(national.conflicts[0].school, door)
    assert isinstance(walked, WalkResult) and walked.distance_m > 400
    assert national.conflicts[0].distance_m < 100
    # Next to the gate the two rule sets agree.
    near_gate = (114.21522, 22.69165)
    both = [screen(session, category="entertainment", point=near_gate, region=r,
                   rule_set=rules, settings=settings, store=False, on=date(2026, 1, 1))
            for r in ("440307", "430103")]
    assert [b.verdict.value for b in both] == ["prohibited", "review"]
    gd = both[0].conflicts[0]
    assert gd.rule.rule.id == "gd.entertainment.school" and gd.distance_m is not None
    assert "步行至最近校门" in gd.reasons[0] and "（直线 " in gd.reasons[0]
    assert gd.path is not None and gd.path[-1] == DAYUN_GATE


def test_without_any_network_the_walker_answers_as_walk_without_routing(
        session: Session) -> None:
    session.execute(text("DELETE FROM network_edge"))
    gated = _gate_school(session)
    outline = shapely.Polygon([_here(-50, -50), _here(50, -50), _here(50, 50), _here(-50, 50)])
    gateless = add_school(session, "no-gates", outline)
    point_only = add_school(session, "point-only", Point(*_here(0, 400)))
    door = _here(60, 0)
    walker = make_walker(session, max_snap_m=SNAP_MAX_M, reach_m=200)
    for sid in (gated, gateless, point_only):
        [school] = [s for s in _candidates(session, door) if s.school_id == sid]
        assert walker(school, door) == walk(session, door=door, school_id=sid,
                                            max_snap_m=SNAP_MAX_M)
    kinds = {s.school_id: walker(s, door) for s in _candidates(session, door)}
    assert {k: v.kind for k, v in kinds.items() if isinstance(v, WalkFailure)} == {
        gated: "no_network", gateless: "no_target", point_only: "no_target"}


def _candidates(session: Session, door: tuple[float, float]) -> list[Any]:
    return schools_near(session, lon=door[0], lat=door[1], radius_m=1_000,
                        on=date(2026, 1, 1))
