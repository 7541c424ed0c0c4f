"""`/api/v1/screenings`: screen a licence application; read a stored screening record."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, status

from api.auth import Reader, Screener
from api.deps import SessionDep, SettingsDep
from api.schemas.common import RowId
from api.schemas.screening import ScreeningIn, ScreeningOut
from zoneguard.errors import Forbidden, NotFound
from zoneguard.models import ScreeningRecord
from zoneguard.services.access.audit import audit
from zoneguard.services.screening import screen

router = APIRouter(prefix="/screenings", tags=["screenings"])


@router.post("", response_model=ScreeningOut, status_code=status.HTTP_201_CREATED)
def create_screening(
    body: ScreeningIn, session: SessionDep, settings: SettingsDep, key: Screener
) -> dict[str, Any]:
    """Screen an application: verdict, conflicting schools, distances, rules and bases."""
    scope = key.scope
    region = body.region
    if region is None and scope.region_prefix is not None:
        region = scope.region_prefix
    if not scope.allows_category(body.category):
        raise Forbidden(f"this key may not screen {body.category}")
    if not scope.allows_region(region):
        raise Forbidden(f"region {region} is outside this key's region {scope.region_prefix}")
    entrance = None if body.entrance is None else (body.entrance.lon, body.entrance.lat)
    result = screen(session, category=body.category, point=(body.location.lon, body.location.lat),
                    crs=body.location.crs, region=region, on=body.on, entrance=entrance,
                    actor=key.actor, settings=settings, scope=scope)
    audit(session, actor=key.actor, action="screen", entity="screening",
          entity_id=result.record_id,
          after={"category": result.category, "region": result.region,
                 "verdict": result.verdict.value, "location": list(result.point),
                 "rule_set_version": result.rule_set_version})
    return result.as_dict()


@router.get("/{screening_id}", response_model=ScreeningOut)
def get_screening(screening_id: RowId, session: SessionDep, key: Reader) -> dict[str, Any]:
    """A stored screening record, exactly as it was answered."""
    record = session.get(ScreeningRecord, screening_id)
    if record is None or not key.scope.allows(category=record.category, region=record.region):
        raise NotFound(f"no screening {screening_id}")
    return dict(record.result)
