"""`/tiles/{layer}/{z}/{x}/{y}.pbf`: Mapbox vector tiles from PostGIS (`ST_AsMVT`)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Response

from api.auth import Reader
from api.deps import SessionDep, SettingsDep
from api.schemas.common import RegionCode
from zoneguard.errors import NotFound
from zoneguard.maps.basemaps import basemap_for
from zoneguard.maps.tiles import VERDICTS, premises_tile

router = APIRouter(prefix="/tiles", tags=["maps"])
MVT = "application/vnd.mapbox-vector-tile"
Csv = Annotated[str | None, Query(max_length=400, pattern=r"^[a-z0-9_,-]*$")]


def _split(value: str | None) -> list[str] | None:
    if value is None:
        return None
    return [part for part in value.split(",") if part and part != "-"]


@router.get("/{layer}/{z}/{x}/{y}.pbf", response_class=Response,
            responses={200: {"content": {MVT: {}}, "description": "A vector tile"}})
def tile(
    layer: str, z: Annotated[int, Path(ge=0, le=22)], x: Annotated[int, Path(ge=0)],
    y: Annotated[int, Path(ge=0)], session: SessionDep, settings: SettingsDep, key: Reader,
    region: RegionCode | None = None,
    category: Annotated[list[str] | None, Query(max_length=20)] = None,
    categories: Csv = None, verdicts: Csv = None,
) -> Response:
    """A tile of premises (layer `premises`), aggregated per cell below zoom 15."""
    if layer != "premises":
        raise NotFound(f"瓦片图层「{layer}」不存在；可用图层：premises")
    region, allowed = key.scope.narrow(region, category)
    chosen = _split(categories)
    if chosen is not None and allowed is not None:
        chosen = [c for c in chosen if c in allowed]
    body = premises_tile(session, z=z, x=x, y=y, region=region,
                         categories=chosen if chosen is not None else allowed,
                         verdicts=_split(verdicts) if verdicts is not None else list(VERDICTS),
                         display_crs=basemap_for(settings).display_crs)
    return Response(body, media_type=MVT, headers={"Cache-Control": "private, max-age=60"})
