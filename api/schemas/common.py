"""Shared models: problems, positions, GeoJSON, constrained text and codes."""

from __future__ import annotations

from typing import Annotated, Any, Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from api.errors import PROBLEM_MEDIA_TYPE
from zoneguard import regions

Text = Annotated[str, StringConstraints(min_length=1, max_length=500, pattern=r"^[^\x00]*$")]
LongText = Annotated[str, StringConstraints(max_length=4000, pattern=r"^[^\x00]*$")]
CategoryName = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]*$", max_length=40)]
RegionCode = Annotated[str, StringConstraints(pattern=f"^({regions.PATTERN})$")]
CrsName = Annotated[str, StringConstraints(min_length=1, max_length=40,
                                           pattern=r"^[A-Za-z0-9:._ -]+$")]
Lon = Annotated[float, Field(allow_inf_nan=False, description="Longitude or x in the CRS")]
Lat = Annotated[float, Field(allow_inf_nan=False, description="Latitude or y in the CRS")]
Limit = Annotated[int, Field(ge=1, le=1000)]
Offset = Annotated[int, Field(ge=0, le=10_000_000)]
RowId = Annotated[int, Field(ge=1, le=2**63 - 1)]


class Problem(BaseModel):
    """An RFC 9457 problem detail."""

    model_config = ConfigDict(extra="allow")
    type: str
    title: str
    status: int
    detail: str
    instance: str | None = None
    request_id: str | None = None


class LonLat(BaseModel):
    """A position: longitude and latitude (or x and y) in the request's CRS."""

    model_config = ConfigDict(extra="forbid")
    lon: Lon
    lat: Lat


class Location(LonLat):
    """A position with its CRS (EPSG:n, wgs84, cgcs2000, gcj02, bd09)."""

    crs: CrsName = "EPSG:4326"


class Geometry(BaseModel):
    """A GeoJSON geometry (EPSG:4326 in responses)."""

    model_config = ConfigDict(extra="allow")
    type: str
    coordinates: Any = None


class GeometryIn(BaseModel):
    """A GeoJSON Point, Polygon or MultiPolygon in the request's CRS."""

    model_config = ConfigDict(extra="forbid")
    type: Literal["Point", "Polygon", "MultiPolygon"]
    coordinates: list[Any] = Field(max_length=10_000)


class Feature(BaseModel):
    """A GeoJSON feature."""

    model_config = ConfigDict(extra="allow")
    type: Literal["Feature"] = "Feature"
    id: int | str | None = None
    geometry: Geometry | None
    properties: dict[str, Any] | None


class Link(BaseModel):
    """A web link (OGC API, pagination)."""

    model_config = ConfigDict(extra="allow")
    href: str
    rel: str
    type: str | None = None
    title: str | None = None


class FeatureCollection(BaseModel):
    """A GeoJSON feature collection with OGC paging members."""

    model_config = ConfigDict(extra="allow")
    type: Literal["FeatureCollection"] = "FeatureCollection"
    features: list[Feature]
    numberMatched: int | None = None  # noqa: N815 - OGC API member name
    numberReturned: int | None = None  # noqa: N815 - OGC API member name
    links: list[Link] = []


def _problem(description: str) -> dict[str, Any]:
    return {"description": description, "model": Problem,
            "content": {PROBLEM_MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}}}


PROBLEMS: dict[int | str, dict[str, Any]] = {
    400: _problem("Bad request"),
    401: _problem("Missing, unknown or revoked API key"),
    403: _problem("The key's role or scope does not allow this"),
    404: _problem("Not found (or outside the key's scope)"),
    409: _problem("Conflict with the current state"),
    422: _problem("Invalid input"),
    500: _problem("Internal error (quote the request id)"),
    503: _problem("Database unavailable"),
}
GEOJSON = "application/geo+json"


def geojson_alternative(description: str) -> dict[int | str, dict[str, Any]]:
    """OpenAPI note that a route also answers GeoJSON when asked (Accept)."""
    ref = {"$ref": "#/components/schemas/FeatureCollection"}
    return {200: {"description": description, "content": {GEOJSON: {"schema": ref}}}}


ItemT = TypeVar("ItemT")


class Page(BaseModel, Generic[ItemT]):
    """One page of items and the number matching the filters."""

    items: list[ItemT]
    total: int
    limit: int
    offset: int
