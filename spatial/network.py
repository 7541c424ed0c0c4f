"""The pedestrian network: tag rules, splitting at junctions and barriers, geodesic lengths.

Pure Python (no database). `read_osm` (.osm, .osm.pbf) and `lines_source` (surveyed lines
already in WGS 84) produce a `NetworkSource`; `build_network` turns it into vertices and
edges for pgRouting. The rules are documented in docs/walking.md:

* a way is walkable when `exclusion(tags)` is None (footway, path, pedestrian, steps, roads
  with assumed sidewalks...; never motorways/trunks without foot access, `foot=no`,
  private access, `area=yes`, construction/proposed);
* ways are split at every node shared by two walkable ways (or used twice by one), at
  their ends, at blocking barrier nodes (`node_block`) and where they cross a linear
  barrier (fence, wall...) without a shared node;
* a blocking point gets one vertex per edge end, so nothing connects across it;
* lengths are geodesic on the WGS 84 ellipsoid (GeographicLib through pyproj.Geod), metres.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import osmium
import shapely
from numpy.typing import NDArray

from spatial.crs import wgs84_geod

#: Ordinary pedestrian ways and roads.
WALKABLE = frozenset({
    "footway", "path", "pedestrian", "steps", "living_street", "residential", "service",
    "unclassified", "road", "track", "crossing", "corridor", "platform",
    "tertiary", "tertiary_link", "secondary", "secondary_link", "primary", "primary_link",
})
#: Roads walked on their sidewalks, unless `sidewalk=no` and foot access is not granted.
SIDEWALK_ROADS = frozenset({"tertiary", "tertiary_link", "secondary", "secondary_link",
                            "primary", "primary_link"})
#: Motor roads: walkable only with `foot=yes|designated|permissive` or a sidewalk tag.
MOTOR_ROADS = frozenset({"motorway", "motorway_link", "trunk", "trunk_link"})
#: Ways walkable only with explicit foot access.
FOOT_IF_ALLOWED = frozenset({"cycleway", "bridleway"})
NOT_BUILT = frozenset({"construction", "proposed", "planned", "abandoned", "disused", "razed"})
FOOT_YES = frozenset({"yes", "designated", "permissive"})
FOOT_NO = frozenset({"no", "private", "use_sidepath"})
NO_ACCESS = frozenset({"no", "private"})
#: Barriers that stop a pedestrian, as lines (ways) or as nodes on a way.
LINEAR_BARRIERS = frozenset({"fence", "wall", "city_wall", "retaining_wall", "hedge",
                             "guard_rail", "jersey_barrier"})
_NO_SIDEWALK = frozenset({"no", "none"})
_MISSING = frozenset({"", "None", "nan", "NaN", "<NA>", "NaT"})
_SIDEWALK_KEYS = ("sidewalk", "sidewalk:both", "sidewalk:left", "sidewalk:right")


def exclusion(tags: dict[str, str]) -> str | None:
    """Why a way is not walkable (a short reason), or None when it is walkable."""
    highway, foot, access = tags.get("highway"), tags.get("foot"), tags.get("access")
    foot_ok = foot in FOOT_YES
    if tags.get("barrier") in LINEAR_BARRIERS:
        return f"barrier={tags['barrier']}"
    if highway is None:
        return "no highway tag"
    if highway in NOT_BUILT:
        return f"highway={highway}"
    if tags.get("area") == "yes":
        return "area=yes"
    if foot in FOOT_NO:
        return f"foot={foot}"
    if access in NO_ACCESS and not foot_ok:
        return f"access={access}"
    if highway in MOTOR_ROADS:
        sidewalk = any(tags.get(k, "no") not in (*_NO_SIDEWALK, "separate")
                       for k in _SIDEWALK_KEYS)
        return None if foot_ok or sidewalk else f"highway={highway} without foot access"
    if highway in FOOT_IF_ALLOWED:
        return None if foot_ok else f"highway={highway} without foot=yes|designated"
    if highway in SIDEWALK_ROADS and not foot_ok and _no_sidewalk(tags):
        return f"highway={highway} with sidewalk=no"
    return None if highway in WALKABLE else f"highway={highway}"


def _no_sidewalk(tags: dict[str, str]) -> bool:
    if tags.get("sidewalk") in _NO_SIDEWALK or tags.get("sidewalk:both") in _NO_SIDEWALK:
        return True
    return all(tags.get(f"sidewalk:{s}") in _NO_SIDEWALK for s in ("left", "right"))


def node_block(tags: dict[str, str]) -> str | None:
    """The barrier value when a node with these tags stops pedestrians, else None."""
    barrier = tags.get("barrier")
    if barrier is None or barrier == "entrance" or tags.get("foot") in FOOT_YES:
        return None
    if (barrier in LINEAR_BARRIERS or tags.get("foot") in FOOT_NO
            or tags.get("access") in NO_ACCESS or tags.get("locked") == "yes"):
        return barrier
    return None


@dataclass
class Way:
    """A line of the source: node keys (OSM ids or coordinate keys), WGS 84 coords, tags."""

    ref: str
    nodes: list[int]
    coords: NDArray[np.float64]
    tags: dict[str, str]


@dataclass
class NetworkSource:
    """What a file holds for the network, before splitting."""

    ways: list[Way] = field(default_factory=list)
    barriers: list[Way] = field(default_factory=list)
    blocking_nodes: dict[int, str] = field(default_factory=dict)
    excluded: Counter[str] = field(default_factory=Counter)
    osm: bool = True
    warnings: list[str] = field(default_factory=list)


@dataclass
class Edge:
    """One edge: vertex indexes into `Network.vertices`, geometry, geodesic length."""

    source: int
    target: int
    coords: NDArray[np.float64]
    length_m: float
    tags: dict[str, str]
    way_ref: str


@dataclass
class Vertex:
    """One vertex: position, OSM node id (OSM sources), blocking barrier value."""

    lon: float
    lat: float
    osm_node_id: int | None
    barrier: str | None


@dataclass
class Network:
    """Vertices and edges ready for the pgRouting tables, with counts for the report."""

    vertices: list[Vertex]
    edges: list[Edge]
    report: dict[str, Any]


def read_osm(path: Path) -> NetworkSource:
    """Read walkable ways, linear barriers and blocking barrier nodes of an OSM file."""
    source = NetworkSource()
    missing = 0
    processor = osmium.FileProcessor(str(path), osmium.osm.NODE | osmium.osm.WAY)
    for item in processor.with_locations():
        obj: Any = item
        if obj.is_node():
            if "barrier" in obj.tags and (value := node_block(dict(obj.tags))) is not None:
                source.blocking_nodes[obj.id] = value
            continue
        tags = dict(obj.tags)
        if "highway" not in tags and tags.get("barrier") not in LINEAR_BARRIERS:
            continue
        # A node missing from the extract breaks the way: its runs of present nodes are kept.
        runs: list[list[tuple[int, float, float]]] = [[]]
        for n in obj.nodes:
            if n.location.valid():
                runs[-1].append((n.ref, n.lon, n.lat))
                continue
            missing += 1
            if runs[-1]:
                runs.append([])
        reason = exclusion(tags)
        if reason is not None and "highway" in tags:
            source.excluded[reason] += 1
        for run in (r for r in runs if len(r) > 1):
            way = Way(f"osm:way/{obj.id}", [r[0] for r in run],
                      np.array([r[1:] for r in run], dtype=np.float64), tags)
            if tags.get("barrier") in LINEAR_BARRIERS:
                source.barriers.append(way)
            elif reason is None:
                source.ways.append(way)
    if missing:
        source.warnings.append(f"数据中缺少 {missing} 个道路节点：道路在缺点处断开，"
                               "分段保留")
    return source


def lines_source(geoms: Iterable[Any], attributes: list[dict[str, Any]]) -> NetworkSource:
    """A source from surveyed lines (WGS 84 shapely geometries) and their attributes.

    Attributes are OSM-like tags; a line without a `highway` value counts as a footway.
    Lines connect where they share a vertex (to 1e-7 degree) or where one ends on another.
    """
    source = NetworkSource(osm=False)
    keys: dict[tuple[float, float], int] = {}
    for row, (geom, attrs) in enumerate(zip(geoms, attributes, strict=True), start=1):
        tags = {str(k): str(v) for k, v in attrs.items() if str(v) not in _MISSING}
        if tags.get("barrier") not in LINEAR_BARRIERS:
            tags.setdefault("highway", "footway")
        for part in shapely.get_parts(shapely.line_merge(geom) if geom is not None else []):
            if part.geom_type != "LineString" or part.is_empty:
                continue
            coords = np.asarray(shapely.get_coordinates(part), dtype=np.float64)
            nodes = [keys.setdefault((round(x, 7), round(y, 7)), -len(keys) - 1)
                     for x, y in coords]
            way = Way(f"row:{row}", nodes, coords, tags)
            if tags.get("barrier") in LINEAR_BARRIERS:
                source.barriers.append(way)
            elif (reason := exclusion(tags)) is None:
                source.ways.append(way)
            else:
                source.excluded[reason] += 1
    _insert_t_junctions(source.ways)
    return source


def _lines(coords: list[NDArray[np.float64]]) -> NDArray[np.object_]:
    """Shapely LineStrings of many coordinate arrays at once."""
    index = np.repeat(np.arange(len(coords)), [len(c) for c in coords])
    return np.asarray(shapely.linestrings(np.concatenate(coords), indices=index), dtype=object)


def _insert_t_junctions(ways: list[Way], tol_deg: float = 5e-8) -> None:
    """Add a way's end as a vertex of another way whose interior it touches."""
    if not ways:
        return
    lines = _lines([w.coords for w in ways])
    tree = shapely.STRtree(lines)
    for way in list(ways):
        for end, node in ((way.coords[0], way.nodes[0]), (way.coords[-1], way.nodes[-1])):
            pt = shapely.Point(end)
            for j in tree.query(pt, predicate="dwithin", distance=tol_deg):
                other = ways[int(j)]
                if node not in other.nodes:
                    _insert_vertex(other, pt, node)


def _insert_vertex(way: Way, pt: shapely.Point, node: int) -> None:
    """Insert point `pt` (keyed `node`) into `way` on the segment it lies on."""
    at = float(shapely.line_locate_point(shapely.LineString(way.coords), pt))
    ends = np.hypot(*np.diff(way.coords, axis=0).T).cumsum()
    i = min(int(np.searchsorted(ends, at)) + 1, len(way.nodes) - 1)
    way.coords = np.insert(way.coords, i, [pt.x, pt.y], axis=0)
    way.nodes.insert(i, node)


def _cut_at_barriers(source: NetworkSource) -> int:
    """Cut walkable ways where they cross a linear barrier without sharing a node."""
    if not source.barriers or not source.ways:
        return 0
    fences = _lines([b.coords for b in source.barriers])
    ways_idx, fence_idx = shapely.STRtree(fences).query(
        _lines([w.coords for w in source.ways]), predicate="intersects")
    cuts = 0
    for i, j in zip(ways_idx.tolist(), fence_idx.tolist(), strict=True):
        way, barrier = source.ways[i], source.barriers[j]
        shared = set(barrier.nodes)
        crossing = shapely.intersection(shapely.LineString(way.coords), fences[j])
        for pt in shapely.get_parts(crossing):
            if pt.geom_type != "Point":
                continue  # a way running along a fence is not cut by it
            at = np.flatnonzero((np.abs(way.coords - [pt.x, pt.y]) < 1e-9).all(axis=1))
            if any(way.nodes[k] in shared for k in at):
                continue  # a shared node is a passage unless tagged as a blocking barrier
            cuts += 1
            source.blocking_nodes[-(10**15) - cuts] = str(barrier.tags["barrier"])
            _insert_vertex(way, pt, -(10**15) - cuts)
    return cuts


def build_network(source: NetworkSource) -> Network:
    """Split the walkable ways into pgRouting edges and number their vertices."""
    crossings = _cut_at_barriers(source)
    uses = Counter(n for way in source.ways for n in _dedupe(way)[0])
    vertices: list[Vertex] = []
    shared: dict[int, int] = {}

    def vertex(node: int, lon: float, lat: float) -> int:
        block = source.blocking_nodes.get(node)
        if block is None and node in shared:
            return shared[node]
        vertices.append(Vertex(lon, lat, node if source.osm and node > 0 else None, block))
        if block is None:
            shared[node] = len(vertices) - 1
        return len(vertices) - 1

    edges: list[Edge] = []
    for way in source.ways:
        nodes, coords = _dedupe(way)
        if len(nodes) < 2:
            continue
        splits = [i for i, n in enumerate(nodes)
                  if i in (0, len(nodes) - 1) or uses[n] > 1 or n in source.blocking_nodes]
        for a, b in zip(splits, splits[1:], strict=False):
            part = coords[a:b + 1]
            length = float(wgs84_geod().line_length(part[:, 0], part[:, 1]))
            edges.append(Edge(vertex(nodes[a], *part[0]), vertex(nodes[b], *part[-1]), part,
                              max(length, 1e-3), way.tags, way.ref))
    report = {"ways_walkable": len({w.ref for w in source.ways}),
              "linear_barriers": len({b.ref for b in source.barriers}),
              "barrier_crossings_cut": crossings,
              "blocking_points": sum(v.barrier is not None for v in vertices),
              "excluded": dict(source.excluded.most_common()), "vertices": len(vertices),
              "edges": len(edges), "length_km": round(sum(e.length_m for e in edges) / 1e3, 3)}
    return Network(vertices, edges, report)


def _dedupe(way: Way) -> tuple[list[int], NDArray[np.float64]]:
    """Drop consecutive repeats of a node (a degenerate zero-length segment)."""
    keep = [0] + [i for i in range(1, len(way.nodes)) if way.nodes[i] != way.nodes[i - 1]]
    return [way.nodes[i] for i in keep], way.coords[keep]
