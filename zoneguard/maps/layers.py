"""Overlay builders: rows of `maps.data` → GeoJSON features with Chinese popups and styles.

Popups are `[label, value]` pairs that the page script writes as text; the optional GCJ-02
shift (an Amap basemap) moves the drawn coordinates only.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable
from typing import Any
from urllib.parse import quote

import shapely

from spatial.crs import geometry_from_wgs84
from zoneguard import regions
from zoneguard.maps import style
from zoneguard.maps.basemaps import Basemap
from zoneguard.maps.data import ZoneSpec

Feature = dict[str, Any]


def point(lon: float, lat: float) -> dict[str, Any]:
    """A GeoJSON point."""
    return {"type": "Point", "coordinates": [lon, lat]}


def feature(geometry: dict[str, Any], **props: Any) -> Feature:
    """A GeoJSON feature."""
    return {"type": "Feature", "geometry": geometry, "properties": props}


def overlay(layer_id: str, name: str, features: list[Feature], *, group: str = "",
            style_: dict[str, Any] | None = None, **options: Any) -> dict[str, Any]:
    """An overlay of the map spec."""
    return {"id": layer_id, "name": f"{name}（{len(features)}）", "group": group, "type": "geojson",
            "data": {"type": "FeatureCollection", "features": features},
            "style": style_ or {}, **options}


def shift_for_display(overlays: list[dict[str, Any]], basemap: Basemap) -> None:
    """Move every overlay geometry to the basemap's datum (GCJ-02 for Amap), in place."""
    if basemap.display_crs is None:
        return
    feats = [f for ov in overlays if ov["type"] == "geojson" for f in ov["data"]["features"]]
    if not feats:
        return
    geoms = shapely.from_geojson([json.dumps(f["geometry"]) for f in feats])
    shifted = geometry_from_wgs84(geoms, basemap.display_crs)
    for feat, geom in zip(feats, shapely.to_geojson(shifted), strict=True):
        feat["geometry"] = json.loads(geom)


def bounds(overlays: list[dict[str, Any]]) -> list[list[float]] | None:
    """Leaflet bounds [[south, west], [north, east]] of every drawn geometry."""
    feats = [f for ov in overlays if ov["type"] == "geojson" for f in ov["data"]["features"]]
    if not feats:
        return None
    minx, miny, maxx, maxy = shapely.total_bounds(
        shapely.from_geojson([json.dumps(f["geometry"]) for f in feats]))
    return [[float(miny), float(minx)], [float(maxy), float(maxx)]]


def school_features(rows: Iterable[dict[str, Any]]) -> list[Feature]:
    """Campus polygons (or points) with name, code, levels, enrolment."""
    return [feature(
        row["geometry"], id=row["id"], _title=row["name"], _tooltip=row["name"],
        _popup=[["学校标识码", row["code"]], ["学段", style.levels_label(row["levels"])],
                ["在校生", row["enrolment"]], ["行政区划", regions.labelled(row["region"])],
                ["地址", row["address"]],
                ["位置精度", "校园边界" if row["precision"] == "boundary" else "仅有点位"]],
        _links=[{"href": "/maps/schools/" + quote(str(row["code"]), safe=":/"),
                 "text": "本校地图（一校一图）"}],
    ) for row in rows]


def gate_features(rows: Iterable[dict[str, Any]], names: dict[int, str]) -> list[Feature]:
    """School gates."""
    kinds = {"main": "正门", "side": "侧门", "back": "后门", "other": "其他门"}
    return [feature(point(row["lon"], row["lat"]), id=row["id"],
                    _title=f"{names.get(row['school_id'], '')} {kinds.get(row['kind'], '')}",
                    _popup=[["名称", row["name"]], ["类型", kinds.get(row["kind"], row["kind"])]])
            for row in rows]


def zone_features(specs: list[ZoneSpec], geoms: list[dict[str, Any]],
                  names: dict[int, str]) -> list[Feature]:
    """Zones (display buffers) with their school, distance and categories."""
    cats = {(z.school_id, z.distance_m): z.categories for z in specs}
    distances = sorted({z.distance_m for z in specs})
    out = []
    for row in geoms:
        colour = style.zone_colour(distances.index(row["distance_m"]))
        categories = cats.get((row["id"], row["distance_m"]), ())
        out.append(feature(
            row["geometry"], school_id=row["id"], distance_m=row["distance_m"],
            _title=f"{names.get(row['id'], '')} 周边 {row['distance_m']:g} 米范围",
            _popup=[["适用类别", "、".join(style.category_label(c) for c in categories)],
                    ["说明", "示意范围（测地缓冲区），判定以逐点测距为准"]],
            _style={"color": colour, "fillColor": colour}))
    return out


def premises_feature(row: dict[str, Any]) -> Feature:
    """A premises with its category, licence, verdict, distance, rule and finding link."""
    verdict = row.get("verdict") or "none"
    closed = row.get("state") in style.CLOSED_STATES
    rows = [["类别", style.category_label(row["category"])], ["许可证号", row["licence_no"]],
            ["地址", row["address"]], ["经营状态", style.STATUS_LABELS.get(row["status"])],
            ["结论", style.verdict_label(row.get("verdict"))]]
    links = []
    if row.get("finding_id") is not None:
        rows += [["涉及学校", row["school_name"]], ["距离", style.distance_text(row["distance_m"])],
                 ["测量方式", style.metric_label(row["metric"])], ["规则", row["rule_id"]],
                 ["处置状态", style.state_label(row["state"])]]
        links.append({"href": f"/api/v1/findings/{row['finding_id']}",
                      "text": f"查看问题记录 #{row['finding_id']}"})
    return feature(
        point(row["lon"], row["lat"]), id=row["id"], _category=row["category"],
        _verdict=verdict, _title=row["name"], _popup=rows, _links=links,
        _style={"fillColor": style.category_colour(row["category"]),
                "color": style.VERDICT_COLOURS[verdict], "weight": 1 if verdict == "none" else 3,
                "fillOpacity": 0.35 if closed else 0.85, "radius": 6,
                **({"dashArray": "3 2"} if row.get("state") in ("rectifying", "to_accept")
                   else {})})


def line_features(rows: Iterable[dict[str, Any]]) -> list[Feature]:
    """Measured lines of findings, labelled with their distance."""
    return [feature(
        row["geometry"], id=row["id"], _verdict=row["verdict"],
        _tooltip=style.distance_text(row["distance_m"]), _tooltip_permanent=True,
        _title=f"{row['premises_name']} → {row['school_name']}",
        _popup=[["距离", style.distance_text(row["distance_m"])],
                ["规定距离", style.distance_text(row["threshold_m"])],
                ["测量方式", style.metric_label(row["metric"])],
                ["结论", style.verdict_label(row["verdict"])], ["规则", row["rule_id"]],
                ["处置状态", style.state_label(row["state"])]],
        _links=[{"href": f"/api/v1/findings/{row['id']}", "text": f"查看问题记录 #{row['id']}"}],
        _style={"color": style.VERDICT_COLOURS.get(row["verdict"], style.LINE_COLOUR)})
        for row in rows]


def premises_filters(rows: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """Category and verdict toggles with their counts."""
    cats = Counter(r["category"] for r in rows)
    verdicts = Counter(r.get("verdict") or "none" for r in rows)
    return filters_from_counts(cats, verdicts)


def filters_from_counts(cats: dict[str, int], verdicts: dict[str, int]) -> dict[str, Any]:
    """Toggles for the layer control from counts per category and per verdict."""
    return {
        "categories": [{"value": c, "label": style.category_label(c), "count": n}
                       for c, n in sorted(cats.items())],
        "verdicts": [{"value": v, "label": style.verdict_label(v), "count": verdicts.get(v, 0)}
                     for v in style.VERDICT_ORDER if verdicts.get(v, 0) or v != "allowed"],
    }


def legend(categories: Iterable[str], *, zones: Iterable[float] = (), lines: bool = True,
           extra: list[dict[str, str]] | None = None) -> list[dict[str, str]]:
    """Legend entries: campus, zones, categories, verdict rings, lines, state styles."""
    items = [{"label": "学校校园", "colour": style.SCHOOL_COLOUR, "shape": "area"}]
    items += [{"label": f"{d:g} 米范围", "colour": style.zone_colour(i), "shape": "area"}
              for i, d in enumerate(sorted(zones))]
    items += [{"label": style.category_label(c), "colour": style.category_colour(c)}
              for c in sorted(set(categories))]
    items += [{"label": f"描边：{style.verdict_label(v)}", "colour": "transparent",
               "border": style.VERDICT_COLOURS[v], "shape": "ring"}
              for v in ("prohibited", "review")]
    if lines:
        items.append({"label": "测量线（标注距离）", "colour": style.LINE_COLOUR, "shape": "line"})
    items.append({"label": "虚线描边：整改中/待验收；淡色：已销号/豁免", "colour": "#999999",
                  "shape": "ring"})
    return items + (extra or [])
