"""`/api/v1/schools`: list (JSON or GeoJSON), read, create, patch."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response, status

from api.auth import Admin, Reader
from api.deps import SessionDep
from api.geojson import page_response, parse_bbox
from api.schemas.common import Limit, Offset, RegionCode, RowId, Text, geojson_alternative
from api.schemas.registry import SchoolIn, SchoolOut, SchoolPage, SchoolPatch
from zoneguard.domain import Level
from zoneguard.services import registry
from zoneguard.services.registry import BBox

router = APIRouter(prefix="/schools", tags=["schools"])


def _values(data: dict[str, Any]) -> dict[str, Any]:
    if data.get("levels") is not None:
        data["levels"] = [str(level) for level in data["levels"]]
    return data


@router.get("", response_model=SchoolPage,
            responses=geojson_alternative("Schools as GeoJSON (Accept: application/geo+json)"))
def list_schools(
    request: Request, session: SessionDep, key: Reader,
    bbox: Annotated[BBox | None, Depends(parse_bbox)], region: RegionCode | None = None,
    level: Level | None = None, q: Text | None = None, limit: Limit = 100, offset: Offset = 0,
) -> Any:
    """Schools filtered by box, region prefix, level and text, a page at a time."""
    page = registry.list_schools(session, bbox=bbox, region=region,
                                 level=None if level is None else level.value, q=q,
                                 limit=limit, offset=offset, scope=key.scope)
    return page_response(request, page, limit=limit, offset=offset)


@router.get("/{school_id}", response_model=SchoolOut)
def get_school(school_id: RowId, session: SessionDep, key: Reader) -> dict[str, Any]:
    """One school."""
    return registry.get_school(session, school_id, scope=key.scope)


@router.post("", response_model=SchoolOut, status_code=status.HTTP_201_CREATED)
def create_school(
    body: SchoolIn, session: SessionDep, key: Admin, response: Response
) -> dict[str, Any]:
    """Add a school (admin)."""
    created = registry.create_school(session, values=_values(body.model_dump()),
                                     actor=key.actor)
    response.headers["Location"] = f"/api/v1/schools/{created['id']}"
    return created


@router.patch("/{school_id}", response_model=SchoolOut)
def patch_school(
    school_id: RowId, body: SchoolPatch, session: SessionDep, key: Admin
) -> dict[str, Any]:
    """Change fields of a school (admin)."""
    changes = _values(body.model_dump(exclude_unset=True))
    if "geometry" in changes:
        changes["crs"] = body.crs
    return registry.patch_school(session, school_id, changes=changes, actor=key.actor,
                                 scope=key.scope)
