"""Shared pieces of the registry services: pages, boxes, text and region filters, CRS input."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import shapely
from sqlalchemy import ColumnElement, Select, func, select
from sqlalchemy.orm import Session

from spatial.crs import geometry_to_wgs84
from spatial.errors import CrsError
from zoneguard.errors import CrsProblem, ValidationError

BBox = tuple[float, float, float, float]
XY = tuple[float, float]
_GEOJSON_DIGITS = 8  # 1e-8 degree is about 1 mm


@dataclass(frozen=True)
class Page:
    """One page of rows and the number of rows matching the filters."""

    items: list[dict[str, Any]]
    total: int


def check_bbox(bbox: BBox) -> BBox:
    """Validate a WGS 84 lon/lat box (minx, miny, maxx, maxy); raise ValidationError."""
    minx, miny, maxx, maxy = bbox
    if not all(math.isfinite(v) for v in bbox):
        raise ValidationError("bbox 的值须为有限的数字")
    if not (-180 <= minx <= maxx <= 180 and -90 <= miny <= maxy <= 90):
        raise ValidationError("bbox 须为 最小经度,最小纬度,最大经度,最大纬度，经度在 -180 至 180、"
                              "纬度在 -90 至 90 之间（不支持跨 180 度经线的范围）")
    return bbox


def envelope(bbox: BBox) -> ColumnElement[Any]:
    """SQL polygon of a WGS 84 box (EPSG:4326)."""
    minx, miny, maxx, maxy = check_bbox(bbox)
    return func.ST_MakeEnvelope(minx, miny, maxx, maxy, 4326)


def like_pattern(text: str) -> str:
    """An ILIKE pattern matching `text` anywhere, with its wildcards escaped."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def region_clause(column: Any, prefix: str) -> ColumnElement[bool]:
    """Rows whose region code starts with `prefix`."""
    result: ColumnElement[bool] = column.startswith(prefix, autoescape=True)
    return result


def fetch_page(
    session: Session, stmt: Select[*tuple[Any, ...]], id_col: Any, limit: int, offset: int
) -> Page:
    """Run a filtered select as one page ordered by `id_col`, with the matching total."""
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    rows = session.execute(stmt.order_by(id_col).limit(limit).offset(offset)).mappings()
    return Page([as_item(r) for r in rows], int(total))


def as_item(row: Mapping[Any, Any]) -> dict[str, Any]:
    """A row as a JSON-ready mapping: parsed GeoJSON, {lon, lat} positions, no empty region."""
    item = dict(row)
    item["geometry"] = json.loads(item["geometry"])
    for key in ("location", "entrance"):
        if f"{key}_lon" in item:
            lon, lat = item.pop(f"{key}_lon"), item.pop(f"{key}_lat")
            item[key] = None if lon is None else {"lon": lon, "lat": lat}
    if "region" in item and item["region"] == "":
        item["region"] = None
    return item


def geojson(geom: Any) -> ColumnElement[str]:
    """SQL GeoJSON text of an EPSG:4326 geometry, to about 1 mm."""
    return func.ST_AsGeoJSON(geom, _GEOJSON_DIGITS)


def to_wgs84(geom: Any, crs: str) -> Any:
    """Convert a shapely geometry in `crs` to WGS 84 lon/lat; raise on a bad CRS or result."""
    try:
        out = geometry_to_wgs84(geom, crs)
    except CrsError as exc:
        raise CrsProblem(str(exc)) from None
    coords = shapely.get_coordinates(out)
    if not (len(coords) and (abs(coords[:, 0]) <= 180).all() and (abs(coords[:, 1]) <= 90).all()):
        raise ValidationError(f"按坐标系 {crs} 换算后不是有效的经纬度：请核对坐标和坐标系")
    return out
