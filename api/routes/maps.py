"""Map pages: `/maps/city`, `/maps/schools/{code}`, `/maps/screenings/{id}`, `/maps/permitted`.

Each page loads Leaflet from `/assets` and, for large cities, premises from `/tiles`. A key
given as `?api_key=` is carried into the page's tile and record links (a browser opening a
map cannot send headers).
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import HTMLResponse

from api.auth import Reader
from api.deps import RuleSetDep, SessionDep, SettingsDep
from api.geojson import parse_bbox
from api.schemas.common import CategoryName, RegionCode, RowId
from zoneguard.errors import Forbidden, NotFound
from zoneguard.maps.city import city_map
from zoneguard.maps.page import render_page
from zoneguard.maps.permitted import permitted_map
from zoneguard.maps.school import school_map
from zoneguard.maps.screening import screening_map, screening_record
from zoneguard.reports.nearby import school_by_code
from zoneguard.services.principal import Principal
from zoneguard.services.registry import BBox

router = APIRouter(prefix="/maps", tags=["maps"])
HTML: dict[int | str, dict[str, Any]] = {
    200: {"content": {"text/html": {}}, "description": "A Leaflet map page"}}
Categories = Annotated[list[CategoryName] | None, Query(max_length=20)]


def scoped(key: Principal, region: str | None,
           categories: list[str] | None) -> tuple[str | None, list[str] | None]:
    """The region and categories a key may see (403 when it asks for more)."""
    scope = key.scope
    if scope.region_prefix is not None:
        if region is None:
            region = scope.region_prefix
        elif not region.startswith(scope.region_prefix):
            raise Forbidden(f"region {region} is outside this key's region {scope.region_prefix}")
    if scope.categories is not None:
        if categories is None:
            categories = sorted(scope.categories)
        elif not set(categories) <= scope.categories:
            raise Forbidden("this key may not see " + ", ".join(
                sorted(set(categories) - scope.categories)))
    return region, categories


def key_query(request: Request, prefix: str = "?") -> str:
    """`?api_key=…` when the page was opened with a key in its query, else ''."""
    token = request.query_params.get("api_key")
    return prefix + urlencode({"api_key": token}) if token else ""


@router.get("/city", response_class=HTMLResponse, responses=HTML)
def city(
    request: Request, session: SessionDep, settings: SettingsDep, rules: RuleSetDep,
    key: Reader, region: RegionCode | None = None, category: Categories = None,
) -> HTMLResponse:
    """City violation map: campuses, zones, premises by category and verdict, findings."""
    region, categories = scoped(key, region, category)
    query = urlencode([("region", region)] * (region is not None)
                      + [("category", c) for c in categories or []]
                      + [("api_key", t) for t in [request.query_params.get("api_key")] if t])
    spec = city_map(session, settings=settings, region=region, categories=categories,
                    rule_set=rules, tiles_url="/tiles/premises/{z}/{x}/{y}.pbf?" + query,
                    link_query=key_query(request))
    return HTMLResponse(render_page(spec, settings=settings))


@router.get("/schools/{code}", response_class=HTMLResponse, responses=HTML)
def school(
    request: Request, code: Annotated[str, Path(max_length=40)],
    session: SessionDep, settings: SettingsDep, rules: RuleSetDep, key: Reader,
    category: Categories = None,
) -> HTMLResponse:
    """One school's map: campus, gates, zones, premises within reach with measured lines."""
    found = school_by_code(session, code)
    if not key.scope.allows_region(found["region"]):
        raise NotFound(f"no school with code {code}")
    region, categories = scoped(key, None, category)
    spec = school_map(session, code=code, settings=settings, rule_set=rules,
                      categories=categories, region=region, link_query=key_query(request))
    return HTMLResponse(render_page(spec, settings=settings))


@router.get("/screenings/{screening_id}", response_class=HTMLResponse, responses=HTML)
def screening(
    request: Request, screening_id: RowId, session: SessionDep, settings: SettingsDep,
    rules: RuleSetDep, key: Reader,
) -> HTMLResponse:
    """The map of a stored screening: applied-for point, schools, measured lines, verdict."""
    record = screening_record(session, screening_id)
    if not key.scope.allows(category=record.category, region=record.region):
        raise NotFound(f"no screening {screening_id}")
    spec = screening_map(session, screening_id=screening_id, settings=settings, rule_set=rules,
                         link_query=key_query(request))
    return HTMLResponse(render_page(spec, settings=settings))


@router.get("/permitted", response_class=HTMLResponse, responses=HTML)
def permitted(
    session: SessionDep, settings: SettingsDep, rules: RuleSetDep, key: Reader,
    category: CategoryName, bbox: Annotated[BBox | None, Depends(parse_bbox)],
    region: RegionCode | None = None,
) -> HTMLResponse:
    """Where a new premises of a category may open by distance (screening decides)."""
    region, _ = scoped(key, region, None)
    spec = permitted_map(session, category=category, settings=settings, region=region,
                         bbox=bbox, rule_set=rules)
    return HTMLResponse(render_page(spec, settings=settings))
