"""`/api/v1/findings`: filtered lists (JSON or GeoJSON), one finding with its events."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request

from api.auth import CaseReader
from api.deps import SessionDep, SettingsDep
from api.geojson import geojson_response, wants_geojson
from api.schemas.common import (
    CategoryName,
    Limit,
    Offset,
    RegionCode,
    RowId,
    Text,
    geojson_alternative,
)
from api.schemas.findings import ActionIn, FindingDetail, FindingPage
from zoneguard.domain import FindingState, Verdict
from zoneguard.services.cases import findings as service
from zoneguard.services.cases.workflow import act
from zoneguard.settings import local_today

router = APIRouter(prefix="/findings", tags=["findings"])
StateFilter = FindingState | Literal["active", "closed"]


def _feature(row: dict[str, Any]) -> dict[str, Any]:
    geometry = row["line"] or {"type": "Point", "coordinates": [row["lon"], row["lat"]]}
    properties = {k: v for k, v in row.items() if k != "line"}
    return {"type": "Feature", "id": row["id"], "geometry": geometry, "properties": properties}


@router.get("", response_model=FindingPage,
            responses=geojson_alternative("Findings as GeoJSON (Accept: application/geo+json)"))
def list_findings(
    request: Request, session: SessionDep, key: CaseReader, settings: SettingsDep,
    state: StateFilter | None = None,
    verdict: Verdict | None = None, category: CategoryName | None = None,
    region: RegionCode | None = None, school: Text | None = None, overdue: bool = False,
    existing: bool | None = None,
    expiring_within_days: Annotated[int | None, Query(ge=0, le=3660)] = None,
    lookback: bool = False,
    limit: Limit = 100, offset: Offset = 0,
) -> Any:
    """Findings filtered as in the CLI (state may be `active` or `closed`), a page at a time.

    `existing=true` keeps 存量 premises (licensed before the school or the rule);
    `expiring_within_days=90` is the expiry work list (到期不予延续), soonest first;
    `lookback=true` the 回头看 list (反弹 cases not closed again, and registered problems whose
    review day has come, closed ones included), soonest first.
    """
    rows, total = service.list_findings(
        session, state=None if state is None else str(state),
        verdict=None if verdict is None else verdict.value, category=category, region=region,
        school=school, overdue=overdue, existing=existing,
        expiring_within_days=expiring_within_days, lookback=lookback, limit=limit,
        offset=offset, scope=key.scope, today=local_today(settings.timezone))
    if wants_geojson(request):
        return geojson_response({"type": "FeatureCollection",
                                 "features": [_feature(r) for r in rows],
                                 "numberMatched": total, "numberReturned": len(rows)})
    return {"items": rows, "total": total, "limit": limit, "offset": offset}


@router.get("/{finding_id}", response_model=FindingDetail)
def get_finding(finding_id: RowId, session: SessionDep, key: CaseReader,
                settings: SettingsDep) -> dict[str, Any]:
    """One finding with its workflow events (404 outside the key's scope)."""
    return service.get_finding(session, finding_id, scope=key.scope,
                               today=local_today(settings.timezone))


@router.post("/{finding_id}/actions", response_model=FindingDetail)
def act_on_finding(
    finding_id: RowId, body: ActionIn, session: SessionDep, key: CaseReader, settings: SettingsDep,
) -> dict[str, Any]:
    """Take one step of the case loop (see `GET /api/v1/workflow`); answers the case.

    409 (invalid-transition) when its state does not allow the action; 403 when the caller's
    role may not take it or the caller rectified (or proposed) the case itself; 422 when a
    need is missing (comment, unit, evidence, the conflict still there); 404 outside scope.
    """
    act(session, finding_id, action=body.action, caller=key, comment=body.comment,
        assignee=body.unit, deadline=body.deadline, closing=body.closing, scope=key.scope,
        today=local_today(settings.timezone), settings=settings)
    return service.get_finding(session, finding_id, scope=key.scope,
                               today=local_today(settings.timezone))
