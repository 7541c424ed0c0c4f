"""Walking distance: the shortest legal pedestrian path from a premises door to a school gate.

Both ends are snapped to the nearest point of the network (`network_edge`, pgRouting tables
built by spatial.network) and routed with pgRouting's `pgr_withPoints` on the undirected
graph clipped to a box around the school and the door. The distance reported is
door→snap (geodesic) + the walked network length (geodesic edge lengths, partial edges by
the fraction located in the local UTM zone) + snap→gate, in metres. Targets are the
school's gates, or, for a school without gates, the points where a walkable path meets
the campus boundary. Anything that prevents a trustworthy number (no network, a snap beyond
`max_snap_m`, no path within the box) is a `WalkFailure` with a reason, never a distance.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import shapely
from shapely import ops
from sqlalchemy import Connection, text
from sqlalchemy.orm import Session

from spatial.crs import from_wgs84, to_wgs84, wgs84_geod
from spatial.measure import SchoolCandidate

Point = tuple[float, float]
DB = Session | Connection
MIN_BOX_MARGIN_M = 500.0
#: Edges whose snap is within this many metres of the best one are all offered to the router
#: (a gate on a barrier node touches the edges on both sides).
SNAP_TIE_M = 1.0
MAX_SNAPS = 4
MAX_BOUNDARY_TARGETS = 64
_END = 1e-9  # a fraction this close to 0 or 1 is the edge's end vertex
# Reasons are read by people (officials): in Chinese.
NO_NETWORK = "该校周边未导入步行路网"
NO_TARGET_POINT = "该校未登记校门且仅有位置点，无法确定步行终点"
NO_TARGET_BOUNDARY = "该校未登记校门，且没有步行道路通达校园边界"


@dataclass(frozen=True)
class WalkResult:
    """A walked path: total metres, its parts, the target reached and the path to draw."""

    distance_m: float
    network_m: float
    door_snap_m: float
    target_snap_m: float
    straight_m: float
    target: str  # "gate" or "boundary"
    gate_id: int | None
    target_point: Point
    path: list[Point] = field(default_factory=list)


@dataclass(frozen=True)
class WalkFailure:
    """Why no walking distance could be measured (the verdict must then be review)."""

    kind: str  # no_network | snap_too_far | no_path | no_target
    reason: str


Walker = Callable[[SchoolCandidate, Point], WalkResult | WalkFailure]


@dataclass(frozen=True)
class _Snap:
    pid: int
    edge_id: int
    fraction: float
    snap_m: float
    near: Point
    vertex: int | None  # the edge end when the snap falls on it

    def key(self, index: int) -> int:
        """The id pgRouting knows it by: its vertex, or -index for a point inside the edge."""
        return self.vertex if self.vertex is not None else -index


_CONTEXT_SQL = """
SELECT ST_XMin(f) AS xmin, ST_YMin(f) AS ymin, ST_XMax(f) AS xmax, ST_YMax(f) AS ymax,
       s.boundary IS NOT NULL AS has_boundary,
       g.id AS gate_id, ST_X(g.location) AS gate_lon, ST_Y(g.location) AS gate_lat
FROM school s
CROSS JOIN LATERAL (SELECT COALESCE(s.boundary, s.location)::box2d AS f) b
LEFT JOIN school_gate g ON g.school_id = s.id
WHERE s.id = :school_id
ORDER BY g.id
"""

_BOUNDARY_TARGETS_SQL = """
SELECT DISTINCT ST_X(p.geom) AS lon, ST_Y(p.geom) AS lat
FROM school s
JOIN network_edge e ON e.geom && s.boundary AND ST_Intersects(e.geom, ST_Boundary(s.boundary))
CROSS JOIN LATERAL ST_DumpPoints(ST_Intersection(e.geom, ST_Boundary(s.boundary))) p
WHERE s.id = :school_id
ORDER BY 1, 2
LIMIT :limit
"""

# The nearest point and its fraction along the edge are located in the UTM zone of the point
# (as zg_nearest_point does); the snap distance is geodesic.
_SNAP_SQL = """
SELECT p.pid, k.id AS edge_id, k.source, k.target, k.fraction,
       ST_Distance(geography(k.near), geography(q.pt), true) AS snap_m,
       ST_X(k.near) AS lon, ST_Y(k.near) AS lat
FROM unnest(CAST(:pids AS bigint[]), CAST(:lons AS float8[]), CAST(:lats AS float8[]))
     AS p(pid, lon, lat)
CROSS JOIN LATERAL (SELECT ST_SetSRID(ST_MakePoint(p.lon, p.lat), 4326) AS pt) q
CROSS JOIN LATERAL (SELECT zg_utm_srid(q.pt) AS srid) z
CROSS JOIN LATERAL (SELECT ST_Transform(q.pt, z.srid) AS pt) u
CROSS JOIN LATERAL (
    SELECT c.id, c.source, c.target, ST_Transform(ST_ClosestPoint(c.line, u.pt), 4326) AS near,
           ST_LineLocatePoint(c.line, ST_ClosestPoint(c.line, u.pt)) AS fraction
    FROM (
        SELECT e.id, e.source, e.target, ST_Transform(e.geom, z.srid) AS line
        FROM network_edge e
        WHERE ST_DWithin(geography(e.geom), geography(q.pt), :radius_m, true)
        ORDER BY ST_Distance(geography(e.geom), geography(q.pt), true), e.id
        LIMIT :limit
    ) c
) k
ORDER BY p.pid, snap_m, k.id
"""

_NEAREST_SQL = """
SELECT min(ST_Distance(geography(e.geom), geography(q.pt), true)) AS nearest_m,
       bool_or(e.geom && ST_MakeEnvelope(:xmin, :ymin, :xmax, :ymax, 4326)) AS in_box
FROM (SELECT ST_SetSRID(ST_MakePoint(:lon, :lat), 4326) AS pt) q
CROSS JOIN LATERAL (
    SELECT geom FROM network_edge ORDER BY geom <-> q.pt LIMIT 8
) e
"""

# pgRouting runs the edges and points queries itself; their values are bound to this outer
# statement and quoted into them server-side with format(%L).
_ROUTE_SQL = """
SELECT start_pid, end_pid, path_seq, node, edge, agg_cost
FROM pgr_withPoints(
    format('SELECT id, source, target, cost, reverse_cost FROM network_edge '
           'WHERE geom && ST_MakeEnvelope(%L, %L, %L, %L, 4326) OR id = ANY(%L::bigint[])',
           CAST(:xmin AS float8), CAST(:ymin AS float8), CAST(:xmax AS float8),
           CAST(:ymax AS float8), CAST(:edge_ids AS bigint[])),
    format('SELECT pid, edge_id, fraction FROM unnest(%L::bigint[], %L::bigint[], '
           '%L::float8[]) AS t(pid, edge_id, fraction)',
           CAST(:pids AS bigint[]), CAST(:edge_ids AS bigint[]), CAST(:fractions AS float8[])),
    CAST(:starts AS bigint[]), CAST(:ends AS bigint[]), directed => false)
ORDER BY start_pid, end_pid, path_seq
"""

_EDGES_SQL = """
SELECT id, source, target, ST_AsBinary(geom) AS wkb FROM network_edge
WHERE id = ANY(CAST(:ids AS bigint[]))
"""


def walk(
    db: DB,
    *,
    door: Point,
    school_id: int,
    max_snap_m: float,
    box_margin_m: float = MIN_BOX_MARGIN_M,
) -> WalkResult | WalkFailure:
    """Shortest walk in metres from `door` (lon, lat EPSG:4326) to the school's nearest gate."""
    rows = db.execute(text(_CONTEXT_SQL), {"school_id": school_id}).all()
    if not rows:
        return WalkFailure("no_target", f"学校 {school_id} 不存在")
    first = rows[0]
    gates = [(r.gate_id, (r.gate_lon, r.gate_lat)) for r in rows if r.gate_id is not None]
    xs = [first.xmin, first.xmax, door[0], *(p[0] for _, p in gates)]
    ys = [first.ymin, first.ymax, door[1], *(p[1] for _, p in gates)]
    box = _expand(min(xs), min(ys), max(xs), max(ys), box_margin_m)
    target = "gate"
    targets: list[tuple[int | None, Point]] = list(gates)
    if not gates:
        if not first.has_boundary:
            return WalkFailure("no_target", NO_TARGET_POINT)
        target = "boundary"
        found = db.execute(text(_BOUNDARY_TARGETS_SQL),
                           {"school_id": school_id, "limit": MAX_BOUNDARY_TARGETS}).all()
        targets = [(None, (r.lon, r.lat)) for r in found]
        if not targets:
            return WalkFailure("no_target", NO_TARGET_BOUNDARY)
    points = [door, *(p for _, p in targets)]
    snaps = _snap(db, points, max_snap_m)
    if not snaps.get(1):
        return _too_far(db, door, "场所入口", box, max_snap_m)
    if not any(snaps.get(i) for i in range(2, len(points) + 1)):
        where = "校门" if target == "gate" else "校园边界"
        return _too_far(db, targets[0][1], where, box, max_snap_m)
    nearest = {pid: _ties(found) for pid, found in snaps.items()}
    got = _route(db, door, nearest, targets, target, box, box_margin_m)
    if isinstance(got, WalkFailure) and nearest != snaps:
        # The nearest street may be an isolated piece (a courtyard path): try the others
        # within the snap limit before calling the network disconnected.
        wider = _route(db, door, snaps, targets, target, box, box_margin_m)
        return wider if isinstance(wider, WalkResult) else got
    return got


def make_walker(db: DB, *, max_snap_m: float, reach_m: float) -> Walker:
    """A walker for `judge`, bound to a session; the box margin is max(3 × reach, 500 m).

    Without any imported network every walk fails the same way, and the walker answers
    without queries (a nationwide scan with no network would otherwise route each pair).
    """
    margin = max(3.0 * reach_m, MIN_BOX_MARGIN_M)
    cache: dict[tuple[int, Point], WalkResult | WalkFailure] = {}
    network: list[bool] = []  # learnt at the first walk: screenings that never walk pay nothing

    def walker(school: SchoolCandidate, door: Point) -> WalkResult | WalkFailure:
        if not network:
            network.append(bool(db.execute(text(_ANY_EDGE_SQL)).scalar_one()))
        if not network[0]:
            return _without_network(school)
        key = (school.school_id, door)
        if key not in cache:
            cache[key] = walk(db, door=door, school_id=school.school_id,
                              max_snap_m=max_snap_m, box_margin_m=margin)
        return cache[key]

    return walker


_ANY_EDGE_SQL = "SELECT EXISTS (SELECT 1 FROM network_edge)"


def _without_network(school: SchoolCandidate) -> WalkFailure:
    """What `walk` answers for this school when no network edge exists at all."""
    if school.gate_id is not None:
        return WalkFailure("no_network", NO_NETWORK)
    if school.precision == "point":
        return WalkFailure("no_target", NO_TARGET_POINT)
    return WalkFailure("no_target", NO_TARGET_BOUNDARY)


def _expand(xmin: float, ymin: float, xmax: float, ymax: float,
            margin_m: float) -> tuple[float, float, float, float]:
    """Grow a lon/lat box by `margin_m` metres on the ellipsoid (never by degrees)."""
    far_lat = ymax if abs(ymax) > abs(ymin) else ymin
    west, _, _ = wgs84_geod().fwd(xmin, far_lat, 270.0, margin_m)
    east, _, _ = wgs84_geod().fwd(xmax, far_lat, 90.0, margin_m)
    _, south, _ = wgs84_geod().fwd(xmin, ymin, 180.0, margin_m)
    _, north, _ = wgs84_geod().fwd(xmin, ymax, 0.0, margin_m)
    return float(west), float(south), float(east), float(north)


def _snap(db: DB, points: list[Point], max_snap_m: float) -> dict[int, list[_Snap]]:
    """Edges within `max_snap_m` of each point (pid = 1-based index), at most MAX_SNAPS."""
    # pgRouting drops a point placed exactly on an edge end: such a snap routes from the vertex.
    rows = db.execute(text(_SNAP_SQL), {
        "pids": list(range(1, len(points) + 1)), "lons": [p[0] for p in points],
        "lats": [p[1] for p in points], "radius_m": max_snap_m + SNAP_TIE_M,
        "limit": MAX_SNAPS,
    }).all()
    out: dict[int, list[_Snap]] = {}
    for r in rows:
        if r.snap_m > max_snap_m:
            continue
        fraction = min(max(r.fraction, 0.0), 1.0)
        vertex = r.source if fraction <= _END else r.target if fraction >= 1 - _END else None
        out.setdefault(r.pid, []).append(
            _Snap(r.pid, r.edge_id, fraction, r.snap_m, (r.lon, r.lat), vertex))
    return out


def _ties(found: list[_Snap]) -> list[_Snap]:
    """The nearest snaps: every edge within SNAP_TIE_M of the best one."""
    best = min(s.snap_m for s in found)
    return [s for s in found if s.snap_m <= best + SNAP_TIE_M]


def _too_far(db: DB, point: Point, what: str, box: tuple[float, float, float, float],
             max_snap_m: float) -> WalkFailure:
    row = db.execute(text(_NEAREST_SQL), {"lon": point[0], "lat": point[1], "xmin": box[0],
                                          "ymin": box[1], "xmax": box[2], "ymax": box[3]}).one()
    if row.nearest_m is None or not row.in_box:
        return WalkFailure("no_network", NO_NETWORK)
    return WalkFailure("snap_too_far", f"{what}距最近的步行道路 {row.nearest_m:.1f} 米，"
                                       f"超过 {max_snap_m:g} 米的接入上限")


def _route(db: DB, door: Point, offered: dict[int, list[_Snap]],
           targets: list[tuple[int | None, Point]], target: str,
           box: tuple[float, float, float, float], margin_m: float) -> WalkResult | WalkFailure:
    starts = offered[1]
    ends = [s for pid in sorted(offered) if pid > 1 for s in offered[pid]]
    snaps = [*starts, *ends]
    inner = [(i + 1, s) for i, s in enumerate(snaps) if s.vertex is None]
    rows = db.execute(text(_ROUTE_SQL), {
        "xmin": box[0], "ymin": box[1], "xmax": box[2], "ymax": box[3],
        "pids": [i for i, _ in inner], "edge_ids": [s.edge_id for _, s in inner],
        "fractions": [s.fraction for _, s in inner],
        "starts": sorted({s.key(i + 1) for i, s in enumerate(starts)}),
        "ends": sorted({s.key(len(starts) + i + 1) for i, s in enumerate(ends)}),
    }).all()
    paths: dict[tuple[int, int], list[Any]] = {}
    for r in rows:
        paths.setdefault((r.start_pid, r.end_pid), []).append(r)
    best: tuple[float, int, int] | None = None
    for a, start in enumerate(starts, start=1):
        for b, end in enumerate(ends, start=len(starts) + 1):
            ka, kb = start.key(a), end.key(b)
            same = ka == kb or (start.edge_id == end.edge_id
                                and abs(start.fraction - end.fraction) < _END)
            if not same and (ka, kb) not in paths:
                continue
            walked = 0.0 if same else paths[(ka, kb)][-1].agg_cost
            total = walked + start.snap_m + end.snap_m
            if best is None or total < best[0]:
                best = (total, a, b)
    if best is None:
        to = "校门" if target == "gate" else "校园边界"
        return WalkFailure("no_path", f"在周边 {margin_m:g} 米范围内，没有步行道路连通场所入口"
                                      f"与学校{to}（路网不连通）")
    total, a, b = best
    start, end = snaps[a - 1], snaps[b - 1]
    gate_id, target_point = targets[end.pid - 2]
    steps = paths.get((start.key(a), end.key(b)), []) if total > start.snap_m + end.snap_m else []
    path = _draw(db, door, steps, snaps, target_point, start, end)
    _, _, straight = wgs84_geod().inv(door[0], door[1], target_point[0], target_point[1])
    return WalkResult(distance_m=total, network_m=total - start.snap_m - end.snap_m,
                      door_snap_m=start.snap_m, target_snap_m=end.snap_m,
                      straight_m=float(straight), target=target, gate_id=gate_id,
                      target_point=target_point, path=path)


def _draw(db: DB, door: Point, steps: list[Any], snaps: list[_Snap], target: Point,
          start: _Snap, end: _Snap) -> list[Point]:
    """The path as lon/lat points: door, snap, the walked edges, snap, target."""
    coords: list[Point] = [door, start.near]
    if steps:
        ids = sorted({int(s.edge) for s in steps if s.edge >= 0})
        edges = {r.id: r for r in db.execute(text(_EDGES_SQL), {"ids": ids})}
        srid = _utm(door)
        for here, there in zip(steps, steps[1:], strict=False):
            edge = edges[int(here.edge)]
            line = _project(shapely.from_wkb(edge.wkb), srid)
            f0 = _position(here.node, edge, snaps, line, srid)
            f1 = _position(there.node, edge, snaps, line, srid)
            piece = ops.substring(line, f0, f1, normalized=True)
            coords.extend(_unproject(shapely.get_coordinates(piece), srid))
    coords.extend([end.near, target])
    out = [coords[0]]
    for p in coords[1:]:
        if abs(p[0] - out[-1][0]) > 1e-10 or abs(p[1] - out[-1][1]) > 1e-10:
            out.append(p)
    return out


def _position(node: int, edge: Any, snaps: list[_Snap], line: Any, srid: str) -> float:
    """Fraction along `edge` of a path node (a vertex, or a snapped point when negative)."""
    if node == edge.source:
        return 0.0
    if node == edge.target:
        return 1.0
    snap = snaps[-node - 1]
    if snap.edge_id == edge.id:
        return snap.fraction
    near = _project(shapely.Point(snap.near), srid)
    return float(line.line_locate_point(near, normalized=True))


def _utm(pt: Point) -> str:
    zone = min(60, max(1, int((pt[0] + 180.0) // 6.0) + 1))
    return f"EPSG:{(32600 if pt[1] >= 0 else 32700) + zone}"


def _project(geom: Any, crs: str) -> Any:
    def fwd(xy: Any) -> Any:
        return np.column_stack(from_wgs84(xy[:, 0], xy[:, 1], crs))

    return shapely.transform(geom, fwd)


def _unproject(xy: Any, crs: str) -> list[Point]:
    lon, lat = to_wgs84(xy[:, 0], xy[:, 1], crs)
    return [(float(a), float(b)) for a, b in zip(lon, lat, strict=True)]
