"""Map pages: `/maps/city`, `/maps/schools/{code}`, `/maps/screenings/{id}`, `/maps/permitted`.

Each page loads Leaflet from `/assets` and, for large cities, premises from `/tiles`. No key
is ever written into a page: a page opened with `?api_key=` is redirected to itself with a
page-token cookie (`api.auth`), which its tiles and links then use. A school code may hold
`/` (OSM ids such as `osm:way/123`): the route takes the rest of the path.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query
from fastapi.responses import HTMLResponse

import api.convertors  # noqa: F401 - registers the {code:code} convertor
from api.auth import Reader
from api.deps import RuleSetDep, SessionDep, SettingsDep
from api.geojson import parse_bbox
from api.schemas.common import CategoryName, RegionCode, RowId
from zoneguard.maps.city import city_map
from zoneguard.maps.page import render_page
from zoneguard.maps.permitted import permitted_map
from zoneguard.maps.school import school_map
from zoneguard.maps.screening import screening_map
from zoneguard.services.registry import BBox

router = APIRouter(prefix="/maps", tags=["maps"])
HTML: dict[int | str, dict[str, Any]] = {
    200: {"content": {"text/html": {}}, "description": "A Leaflet map page"}}
Categories = Annotated[list[CategoryName] | None, Query(max_length=20)]


@router.get("/city", response_class=HTMLResponse, responses=HTML)
def city(
    session: SessionDep, settings: SettingsDep, rules: RuleSetDep,
    key: Reader, region: RegionCode | None = None, category: Categories = None,
) -> HTMLResponse:
    """City violation map: campuses, zones, premises by category and verdict, findings."""
    spec = city_map(session, settings=settings, region=region, categories=category,
                    rule_set=rules, tiles_url="/tiles/premises/{z}/{x}/{y}.pbf", scope=key.scope)
    return HTMLResponse(render_page(spec, settings=settings))


@router.get("/schools/{code:code}", response_class=HTMLResponse, responses=HTML)
def school(
    code: Annotated[str, Path(max_length=40)],
    session: SessionDep, settings: SettingsDep, rules: RuleSetDep, key: Reader,
    category: Categories = None,
) -> HTMLResponse:
    """One school's map: campus, gates, zones, premises within reach with measured lines."""
    spec = school_map(session, code=code, settings=settings, rule_set=rules,
                      categories=category, scope=key.scope)
    return HTMLResponse(render_page(spec, settings=settings))


@router.get("/screenings/{screening_id}", response_class=HTMLResponse, responses=HTML)
def screening(
    screening_id: RowId, session: SessionDep, settings: SettingsDep,
    rules: RuleSetDep, key: Reader,
) -> HTMLResponse:
    """The map of a stored screening: applied-for point, schools, measured lines, verdict."""
    spec = screening_map(session, screening_id=screening_id, settings=settings, rule_set=rules,
                         scope=key.scope)
    return HTMLResponse(render_page(spec, settings=settings))


@router.get("/permitted", response_class=HTMLResponse, responses=HTML)
def permitted(
    session: SessionDep, settings: SettingsDep, rules: RuleSetDep, key: Reader,
    category: CategoryName, bbox: Annotated[BBox | None, Depends(parse_bbox)],
    region: RegionCode | None = None,
) -> HTMLResponse:
    """Where a new premises of a category may open by distance (screening decides).

    A key limited to a region sees its region's schools only, one limited to categories those.
    """
    spec = permitted_map(session, category=category, settings=settings, region=region,
                         bbox=bbox, rule_set=rules, scope=key.scope)
    return HTMLResponse(render_page(spec, settings=settings))
