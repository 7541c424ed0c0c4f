"""Content negotiation and GeoJSON shaping shared by the registry routes and the OGC layers."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Query, Request
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse

from zoneguard.errors import ValidationError
from zoneguard.services.registry import BBox, check_bbox

GEOJSON = "application/geo+json"
_NUMBER = r"\s*[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?\s*"
BBOX_PATTERN = rf"^{_NUMBER},{_NUMBER},{_NUMBER},{_NUMBER}$"


def wants_geojson(request: Request) -> bool:
    """True when the client asked for GeoJSON (Accept: application/geo+json or f=geojson)."""
    if request.query_params.get("f") in ("geojson", "application/geo+json"):
        return True
    return GEOJSON in request.headers.get("accept", "")


def parse_bbox(
    bbox: Annotated[str | None, Query(pattern=BBOX_PATTERN, max_length=200,
                                      description="minlon,minlat,maxlon,maxlat (WGS 84)")] = None,
) -> BBox | None:
    """The `bbox` query parameter as four WGS 84 numbers (422 when malformed)."""
    if bbox is None:
        return None
    try:
        minx, miny, maxx, maxy = (float(part) for part in bbox.split(","))
    except ValueError:
        raise ValidationError("bbox 应为四个数字：最小经度,最小纬度,最大经度,最大纬度") from None
    return check_bbox((minx, miny, maxx, maxy))


def to_feature(item: dict[str, Any], *, id_key: str = "id") -> dict[str, Any]:
    """A registry row (with `geometry`) as a GeoJSON feature."""
    properties = {k: v for k, v in item.items() if k != "geometry"}
    return {"type": "Feature", "id": item[id_key], "geometry": item["geometry"],
            "properties": properties}


def geojson_response(
    body: dict[str, Any], *, headers: dict[str, str] | None = None
) -> JSONResponse:
    """A GeoJSON response (dates and the like encoded as JSON)."""
    return JSONResponse(jsonable_encoder(body), media_type=GEOJSON, headers=headers)


def page_response(request: Request, page: Any, *, limit: int, offset: int) -> Any:
    """A page of registry items: a GeoJSON FeatureCollection when asked for, else JSON."""
    if wants_geojson(request):
        return geojson_response({
            "type": "FeatureCollection", "features": [to_feature(i) for i in page.items],
            "numberMatched": page.total, "numberReturned": len(page.items)})
    return {"items": page.items, "total": page.total, "limit": limit, "offset": offset}
