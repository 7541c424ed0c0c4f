"""OpenStreetMap readers (.osm XML, .osm.pbf): school campuses, gates and premises.

OSM data is always WGS 84. One pass with pyosmium (node locations + area assembly):

* **Schools** - closed ways and multipolygon relations tagged ``amenity=school|kindergarten|
  college|university`` become campuses (MultiPolygon, precision ``boundary``), code
  ``osm:way/<id>`` or ``osm:relation/<id>``. Nodes with those tags become point-only schools
  (``osm:node/<id>``) unless a campus of the same name exists. Levels: ``kindergarten`` ->
  kindergarten; ``college`` and ``university`` -> higher (in China a 学院 tagged college is
  tertiary); ``school`` -> from ``isced:level`` (0 kindergarten, 1 primary, 2-3 secondary,
  4 vocational, 5+ higher), else ``school`` / ``school:type`` / ``school:level`` words, else
  Chinese name hints (:data:`NAME_HINTS`), else the default primary;secondary, which
  protects the most and is documented rather than guessed per school.
* **Premises** - nodes, closed ways and multipolygons (buildings or sites: location is the
  centroid, or a point on the surface when the centroid falls outside) with a tag in
  :data:`PREMISES_TAGS`; the first matching row decides. ``licence_no`` is
  ``osm:node/<id>`` (``osm:way/<id>``...). ``alcohol``, ``convenience``, ``kiosk``, ``bar``
  and ``pub`` are categories of their own: they matter only where a rule file names them.
  The entrance of an area premises is its ``entrance=*`` node (``main`` preferred).
* **Gates** - ``barrier=gate`` / ``entrance=*`` nodes (not emergency/garage/exit) on a
  campus outline; kind from ``entrance=main`` (main), ``secondary|side`` (side),
  ``service|back`` (back), otherwise other.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import osmium
import pandas as pd
import shapely
from osmium.filter import KeyFilter

from zoneguard.domain import GateKind, Level
from zoneguard.imports.readers import RawTable
from zoneguard.imports.report import FileUnusable

SCHOOL_AMENITIES = ("school", "kindergarten", "college", "university")

#: (key, value, category), in priority order: regulated categories first.
PREMISES_TAGS: tuple[tuple[str, str, str], ...] = (
    ("amenity", "internet_cafe", "internet_cafe"),
    ("amenity", "karaoke_box", "entertainment"),
    ("amenity", "nightclub", "entertainment"),
    ("leisure", "amusement_arcade", "entertainment"),
    ("leisure", "adult_gaming_centre", "entertainment"),
    ("shop", "lottery", "lottery"),
    ("shop", "tobacco", "tobacco"),
    ("shop", "e-cigarette", "tobacco"),
    ("amenity", "fuel", "gas_station"),
    ("shop", "fireworks", "fireworks"),
    ("shop", "alcohol", "alcohol"),
    ("amenity", "bar", "bar"),
    ("amenity", "pub", "pub"),
    ("shop", "convenience", "convenience"),
    ("shop", "kiosk", "kiosk"),
)

#: Substrings of a Chinese school name and the levels they imply (all hits are united).
NAME_HINTS: tuple[tuple[str, tuple[Level, ...]], ...] = (
    ("幼儿园", (Level.KINDERGARTEN,)),
    ("小学", (Level.PRIMARY,)),
    ("中学", (Level.SECONDARY,)),
    ("初中", (Level.SECONDARY,)),
    ("高中", (Level.SECONDARY,)),
    ("九年一贯", (Level.PRIMARY, Level.SECONDARY)),
    ("特殊教育", (Level.SPECIAL,)),
    ("职业技术学院", (Level.HIGHER,)),
    ("职业学院", (Level.HIGHER,)),
    ("职业技术学校", (Level.VOCATIONAL,)),
    ("中等职业", (Level.VOCATIONAL,)),
    ("中专", (Level.VOCATIONAL,)),
    ("技工学校", (Level.VOCATIONAL,)),
)
_ISCED = {0: Level.KINDERGARTEN, 1: Level.PRIMARY, 2: Level.SECONDARY, 3: Level.SECONDARY,
          4: Level.VOCATIONAL}
_SCHOOL_WORDS = {"kindergarten": Level.KINDERGARTEN, "primary": Level.PRIMARY,
                 "elementary": Level.PRIMARY, "secondary": Level.SECONDARY,
                 "middle": Level.SECONDARY, "high": Level.SECONDARY,
                 "vocational": Level.VOCATIONAL, "special": Level.SPECIAL}
_GATE_KINDS = {"main": GateKind.MAIN, "secondary": GateKind.SIDE, "side": GateKind.SIDE,
               "service": GateKind.BACK, "back": GateKind.BACK}
_NOT_GATES = {"emergency", "garage", "exit", "no"}
_ADDRESS_KEYS = ("addr:province", "addr:city", "addr:district", "addr:street", "addr:housenumber")
_WKB = osmium.geom.WKBFactory()


@dataclass
class _Feature:
    code: str
    tags: dict[str, str]
    geometry: Any
    ring_refs: list[int] = field(default_factory=list)


@dataclass
class _Scan:
    areas: list[_Feature] = field(default_factory=list)
    nodes: list[_Feature] = field(default_factory=list)
    doors: dict[int, tuple[float, float, dict[str, str]]] = field(default_factory=dict)
    unclosed: int = 0
    expected: dict[str, dict[str, str]] = field(default_factory=dict)


def _is_school(tags: dict[str, str]) -> bool:
    return tags.get("amenity") in SCHOOL_AMENITIES


def _wanted(tags: dict[str, str]) -> bool:
    return _is_school(tags) or premises_category(tags) is not None


def _is_premises(category: str | None) -> Callable[[dict[str, str]], bool]:
    def relevant(tags: dict[str, str]) -> bool:
        found = premises_category(tags)
        return found is not None and category in (None, found)

    return relevant


def premises_category(tags: dict[str, str]) -> str | None:
    """Return the premises category of an OSM object's tags (see PREMISES_TAGS), or None."""
    for key, value, category in PREMISES_TAGS:
        if value in (v.strip() for v in tags.get(key, "").split(";")):
            return category
    return None


def school_levels(tags: dict[str, str]) -> list[str]:
    """Return the school levels of an OSM school object (see the module docstring)."""
    amenity = tags.get("amenity")
    if amenity == "kindergarten":
        return [Level.KINDERGARTEN.value]
    if amenity in ("college", "university"):
        return [Level.HIGHER.value]
    levels: set[Level] = set()
    for low, high in re.findall(r"(\d)(?:\s*-\s*(\d))?", tags.get("isced:level", "")):
        for n in range(int(low), int(high or low) + 1):
            levels.add(_ISCED.get(n, Level.HIGHER))
    for key in ("school", "school:type", "school:level"):
        levels.update(_SCHOOL_WORDS[w] for w in re.split(r"[;,\s]+", tags.get(key, ""))
                      if w in _SCHOOL_WORDS)
    name = tags.get("name", "")
    for hint, hinted in ([] if levels else NAME_HINTS):
        if hint in name:
            levels.update(hinted)
    levels = levels or {Level.PRIMARY, Level.SECONDARY}
    return [level.value for level in Level if level in levels]


def _scan(path: Path) -> _Scan:
    scan = _Scan()
    processor = osmium.FileProcessor(str(path)).with_locations()
    processor = processor.with_areas(KeyFilter("amenity", "shop", "leisure"))
    for item in processor:
        obj: Any = item  # pyosmium yields a union of OSM object types
        if obj.is_area():
            tags = dict(obj.tags)
            if not _wanted(tags):
                continue
            kind = "way" if obj.from_way() else "relation"
            try:
                geom = shapely.from_wkb(_WKB.create_multipolygon(obj))
            except RuntimeError:
                continue
            refs = [n.ref for ring in obj.outer_rings() for n in ring]
            scan.areas.append(_Feature(f"osm:{kind}/{obj.orig_id()}", tags, geom, refs))
        elif obj.is_node() and len(obj.tags):
            tags = dict(obj.tags)
            loc = obj.location
            if tags.get("barrier") == "gate" or tags.get("entrance", "no") not in _NOT_GATES:
                scan.doors[obj.id] = (loc.lon, loc.lat, tags)
            if _wanted(tags):
                point = shapely.Point(loc.lon, loc.lat)
                scan.nodes.append(_Feature(f"osm:node/{obj.id}", tags, point))
        elif len(obj.tags) and _wanted(dict(obj.tags)):
            if obj.is_way() and not obj.is_closed():
                scan.unclosed += 1
            elif obj.is_way() or obj.tags.get("type") == "multipolygon":
                osm_type = "way" if obj.is_way() else "relation"
                scan.expected[f"osm:{osm_type}/{obj.id}"] = dict(obj.tags)
    return scan


#: What a kind of import is called in a message.
_KIND_WORDS = {"schools": "学校", "gates": "校门", "premises": "场所"}


def _incomplete(scan: _Scan, relevant: Callable[[dict[str, str]], bool]) -> list[str]:
    built = {a.code for a in scan.areas}
    missing = [code for code, tags in scan.expected.items() if code not in built and relevant(tags)]
    return [f"{len(missing)} 个 OSM 轮廓在本数据中不完整（缺少节点），已跳过："
            f"{'、'.join(missing[:20])}"] if missing else []


def read_osm(path: Path, *, kind: str, category: str | None) -> RawTable:
    """Read schools, gates or premises from an OSM file into a RawTable (WGS 84)."""
    try:
        scan = _scan(path)
    except RuntimeError as exc:  # libosmium reports XML/PBF damage as RuntimeError
        raise FileUnusable(f"无法读取该 OSM 文件（文件不完整或已损坏？）：{exc}") from exc
    warnings = _incomplete(scan, _is_school if kind != "premises" else _is_premises(category))
    if scan.unclosed:
        warnings.append(f"{scan.unclosed} 条带标签的 OSM 线未闭合，已跳过")
    if kind == "schools":
        rows = _schools(scan, warnings)
    elif kind == "gates":
        rows = _gates(scan)
    else:
        rows = _premises(scan, category, warnings)
    if not rows:
        raise FileUnusable(f"该 OSM 文件中没有可导入的{_KIND_WORDS.get(kind, kind)}")
    geometry = np.asarray([r.pop("geometry") for r in rows], dtype=object)
    attributes = [r.pop("attributes") for r in rows]
    frame = pd.DataFrame(rows, dtype=object)
    return RawTable(frame, geometry, list(range(1, len(rows) + 1)), "EPSG:4326", "osm",
                    warnings=warnings, attributes=attributes)


def _attributes(feature: _Feature) -> dict[str, Any]:
    osm_type, osm_id = feature.code.removeprefix("osm:").split("/")
    return {"osm_type": osm_type, "osm_id": int(osm_id), **feature.tags}


def _name(feature: _Feature) -> str | None:
    tags = feature.tags
    return tags.get("name") or tags.get("name:zh") or tags.get("name:en") or tags.get("brand")


def _address(tags: dict[str, str]) -> str | None:
    return tags.get("addr:full") or " ".join(tags[k] for k in _ADDRESS_KEYS if k in tags) or None


def _schools(scan: _Scan, warnings: list[str]) -> list[dict[str, Any]]:
    campuses = [a for a in scan.areas if _is_school(a.tags)]
    names = {_name(a) for a in campuses} - {None}
    points = [n for n in scan.nodes if _is_school(n.tags)]
    kept = [n for n in points if _name(n) not in names]
    if len(kept) < len(points):
        warnings.append(f"{len(points) - len(kept)} 个 OSM 学校点与同名校园重复，已跳过")
    rows, unnamed = [], 0
    for feature in campuses + kept:
        name = _name(feature)
        if name is None:
            unnamed += 1
            name = f"{feature.tags['amenity']} {feature.code} (未命名 / no name in OSM)"
        rows.append({"code": feature.code, "name": name, "levels": ";".join(school_levels(
            feature.tags)), "address": _address(feature.tags), "geometry": feature.geometry,
            "attributes": _attributes(feature)})
    if unnamed:
        warnings.append(f"{unnamed} 所 OSM 学校没有名称，以其 OSM 编号命名")
    return rows


def _gates(scan: _Scan) -> list[dict[str, Any]]:
    rows = []
    for campus in (a for a in scan.areas if _is_school(a.tags)):
        for ref in dict.fromkeys(campus.ring_refs):
            if ref in scan.doors:
                lon, lat, tags = scan.doors[ref]
                kind = _GATE_KINDS.get(tags.get("entrance", ""), GateKind.OTHER).value
                rows.append({"school_code": campus.code, "kind": kind,
                             "name": tags.get("name"), "geometry": shapely.Point(lon, lat),
                             "attributes": {"osm_type": "node", "osm_id": ref, **tags}})
    return rows


def _location(geom: Any) -> Any:
    if geom.geom_type == "Point":
        return geom
    centroid = geom.centroid
    return centroid if geom.contains(centroid) else geom.point_on_surface()


def _premises(scan: _Scan, category: str | None, warnings: list[str]) -> list[dict[str, Any]]:
    rows, other = [], 0
    for feature in scan.nodes + scan.areas:
        found = premises_category(feature.tags)
        if found is None:
            continue
        if category is not None and found != category:
            other += 1
            continue
        doors = [scan.doors[r] for r in feature.ring_refs if r in scan.doors]
        doors.sort(key=lambda d: d[2].get("entrance") != "main")
        name = _name(feature) or f"{found} {feature.code} (未命名 / no name in OSM)"
        rows.append({
            "licence_no": feature.code, "name": name, "category": found,
            "address": _address(feature.tags), "operator": feature.tags.get("operator"),
            "entrance_lon": doors[0][0] if doors else None,
            "entrance_lat": doors[0][1] if doors else None,
            "geometry": _location(feature.geometry), "attributes": _attributes(feature),
        })
    if other:
        warnings.append(f"{other} 个不属于“{category}”类别的 OSM 场所已跳过")
    return rows
