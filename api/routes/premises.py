"""`/api/v1/premises`: list (JSON or GeoJSON), read, create, patch."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response, status

from api.auth import PremisesWriter, Reader
from api.deps import RuleSetDep, SessionDep
from api.geojson import page_response, parse_bbox
from api.schemas.common import (
    CategoryName,
    Limit,
    Offset,
    RegionCode,
    RowId,
    Text,
    geojson_alternative,
)
from api.schemas.registry import PremisesIn, PremisesOut, PremisesPage, PremisesPatch
from zoneguard.domain import PremisesStatus
from zoneguard.services import registry
from zoneguard.services.registry import BBox

router = APIRouter(prefix="/premises", tags=["premises"])


def _values(data: dict[str, Any]) -> dict[str, Any]:
    """Request fields as the service takes them: (x, y) positions and the CRS beside them."""
    if data.get("location") is not None:
        loc = data.pop("location")
        data["location"] = (loc["lon"], loc["lat"])
        data["crs"] = loc.get("crs") or "EPSG:4326"
    if data.get("entrance") is not None:
        door = data["entrance"]
        data["entrance"] = (door["lon"], door["lat"])
    if data.get("status") is not None:
        data["status"] = str(data["status"])
    return data


@router.get("", response_model=PremisesPage,
            responses=geojson_alternative("Premises as GeoJSON (Accept: application/geo+json)"))
def list_premises(
    request: Request, session: SessionDep, key: Reader,
    bbox: Annotated[BBox | None, Depends(parse_bbox)], region: RegionCode | None = None,
    category: CategoryName | None = None, status: PremisesStatus | None = None,
    q: Text | None = None, limit: Limit = 100, offset: Offset = 0,
) -> Any:
    """Premises filtered by box, region prefix, category, status and text, a page at a time."""
    page = registry.list_premises(session, bbox=bbox, region=region, category=category,
                                  status=None if status is None else status.value, q=q,
                                  limit=limit, offset=offset, scope=key.scope)
    return page_response(request, page, limit=limit, offset=offset)


@router.get("/{premises_id}", response_model=PremisesOut)
def get_premises(premises_id: RowId, session: SessionDep, key: Reader) -> dict[str, Any]:
    """One premises."""
    return registry.get_premises(session, premises_id, scope=key.scope)


@router.post("", response_model=PremisesOut, status_code=status.HTTP_201_CREATED)
def create_premises(
    body: PremisesIn, session: SessionDep, key: PremisesWriter, rules: RuleSetDep,
    response: Response,
) -> dict[str, Any]:
    """Add a premises (admin; a bureau within its scope)."""
    created = registry.create_premises(session, values=_values(body.model_dump()),
                                       actor=key.actor, scope=key.scope,
                                       categories=rules.categories())
    response.headers["Location"] = f"/api/v1/premises/{created['id']}"
    return created


@router.patch("/{premises_id}", response_model=PremisesOut)
def patch_premises(
    premises_id: RowId, body: PremisesPatch, session: SessionDep, key: PremisesWriter,
    rules: RuleSetDep,
) -> dict[str, Any]:
    """Change fields of a premises (admin; a bureau within its scope, staying inside it)."""
    return registry.patch_premises(session, premises_id,
                                   changes=_values(body.model_dump(exclude_unset=True)),
                                   actor=key.actor, scope=key.scope,
                                   categories=rules.categories())
