"""OGC API Features endpoints under `/ogc`: landing page, conformance, collections, items."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import JSONResponse

from api.auth import Reader
from api.deps import RuleSetDep, SessionDep, SettingsDep
from api.geojson import geojson_response, parse_bbox
from api.ogc.layers import LAYERS, Layer
from api.ogc.layers import Query as LayerQuery
from api.ogc.links import GEOJSON, JSON, OPENAPI, href, link
from api.schemas.common import PROBLEMS, FeatureCollection
from api.schemas.ogc import Collection, Collections, Conformance, LandingPage
from zoneguard.errors import NotFound
from zoneguard.services.registry import BBox
from zoneguard.settings import local_today

router = APIRouter(tags=["ogc"], responses=PROBLEMS)
CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
CONFORMANCE = [
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
]
Format = Annotated[Literal["json", "geojson"] | None,
                   Query(description="Output format (both are GeoJSON for items)")]
CollectionId = Annotated[str, Path(max_length=40, pattern=r"^[a-z_]+$")]


def _layer(collection_id: str) -> Layer:
    layer = LAYERS.get(collection_id)
    if layer is None:
        raise NotFound(f"图层「{collection_id}」不存在；可用图层：{'、'.join(LAYERS)}")
    return layer


def _json(body: dict[str, Any]) -> JSONResponse:
    return JSONResponse(body, media_type=JSON)


@router.get("", response_model=LandingPage)
def landing(request: Request, key: Reader, f: Format = None) -> Any:  # noqa: ARG001
    """The landing page: links to the API description, conformance and the collections."""
    return _json({
        "title": "ZoneGuard OGC API Features",
        "description": "Schools, safety zones, premises and findings of ZoneGuard",
        "links": [
            link(request, "/ogc", "self", JSON, "This document"),
            link(request, "/openapi.json", "service-desc", OPENAPI, "The API definition"),
            link(request, "/docs", "service-doc", "text/html", "The API documentation"),
            link(request, "/ogc/conformance", "conformance", JSON, "Conformance classes"),
            link(request, "/ogc/collections", "data", JSON, "The collections"),
        ],
    })


@router.get("/conformance", response_model=Conformance)
def conformance(key: Reader, f: Format = None) -> Any:  # noqa: ARG001
    """The conformance classes this API implements."""
    return _json({"conformsTo": CONFORMANCE})


def _collection(request: Request, layer: Layer, extent: list[float] | None) -> dict[str, Any]:
    base = f"/ogc/collections/{layer.id}"
    out: dict[str, Any] = {
        "id": layer.id, "title": layer.title, "description": layer.description,
        "itemType": "feature", "crs": [CRS84],
        "links": [link(request, base, "self", JSON, layer.title),
                  link(request, f"{base}/items", "items", GEOJSON, f"{layer.title} (GeoJSON)")],
    }
    if extent is not None:
        out["extent"] = {"spatial": {"bbox": [extent], "crs": CRS84}}
    return out


@router.get("/collections", response_model=Collections)
def collections(
    request: Request, session: SessionDep, key: Reader, rules: RuleSetDep,
    settings: SettingsDep, f: Format = None,  # noqa: ARG001
) -> Any:
    """Every collection with its extent (within the key's scope)."""
    q = LayerQuery(scope=key.scope, rules=rules, on=local_today(settings.timezone))
    return _json({
        "links": [link(request, "/ogc/collections", "self", JSON, "The collections")],
        "collections": [_collection(request, layer, layer.extent(session, q))
                        for layer in LAYERS.values()],
    })


@router.get("/collections/{collection_id}", response_model=Collection)
def collection(
    request: Request, collection_id: CollectionId, session: SessionDep, key: Reader,
    rules: RuleSetDep, settings: SettingsDep, f: Format = None,  # noqa: ARG001
) -> Any:
    """One collection's description."""
    layer = _layer(collection_id)
    q = LayerQuery(scope=key.scope, rules=rules, on=local_today(settings.timezone))
    return _json(_collection(request, layer, layer.extent(session, q)))


@router.get("/collections/{collection_id}/items", response_model=FeatureCollection,
            responses={200: {"content": {GEOJSON: {}}}})
def items(
    request: Request, collection_id: CollectionId, session: SessionDep, key: Reader,
    rules: RuleSetDep, settings: SettingsDep,
    bbox: Annotated[BBox | None, Depends(parse_bbox)],
    limit: Annotated[int, Query(ge=1, le=10_000)] = 100,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0, f: Format = None,
) -> Any:
    """A page of features (GeoJSON) with numberMatched, numberReturned and next/prev links."""
    layer = _layer(collection_id)
    q = LayerQuery(scope=key.scope, rules=rules, on=local_today(settings.timezone), bbox=bbox,
                   limit=limit, offset=offset)
    features, total = layer.page(session, q)
    path = f"/ogc/collections/{layer.id}/items"
    box = request.query_params.get("bbox")
    links = [link(request, path, "self", GEOJSON, "This page", bbox=box, limit=limit,
                  offset=offset, f=f),
             link(request, f"/ogc/collections/{layer.id}", "collection", JSON, layer.title)]
    if offset + len(features) < total:
        links.append(link(request, path, "next", GEOJSON, "Next page", bbox=box, limit=limit,
                          offset=offset + limit, f=f))
    if offset > 0:
        links.append(link(request, path, "prev", GEOJSON, "Previous page", bbox=box,
                          limit=limit, offset=max(0, offset - limit), f=f))
    return geojson_response({
        "type": "FeatureCollection", "features": features, "numberMatched": total,
        "numberReturned": len(features), "links": links,
    })


@router.get("/collections/{collection_id}/items/{feature_id}",
            responses={200: {"content": {GEOJSON: {}}}})
def item(
    request: Request, collection_id: CollectionId,
    feature_id: Annotated[str, Path(max_length=64, pattern=r"^[0-9A-Za-z._-]+$")],
    session: SessionDep, key: Reader, rules: RuleSetDep, settings: SettingsDep,
    f: Format = None,  # noqa: ARG001
) -> Any:
    """One feature."""
    layer = _layer(collection_id)
    feature = layer.item(session, feature_id, LayerQuery(scope=key.scope, rules=rules,
                                                         on=local_today(settings.timezone)))
    base = f"/ogc/collections/{layer.id}"
    feature["links"] = [
        {"href": href(request, f"{base}/items/{feature_id}"), "rel": "self", "type": GEOJSON},
        {"href": href(request, base), "rel": "collection", "type": JSON},
    ]
    return geojson_response(feature)
