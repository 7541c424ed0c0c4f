"""`/api/v1/screenings`: screen a licence application; read a stored screening record."""

from __future__ import annotations

from typing import Any

import orjson
from fastapi import APIRouter, Response, status
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from api.auth import Reader, Screener
from api.deps import ScreeningStoreDep, SessionDep, SettingsDep, read_without_transaction
from api.schemas.common import RowId
from api.schemas.screening import ScreeningIn, ScreeningOut
from zoneguard.maps.screening import screening_record
from zoneguard.services.access.principal import Principal
from zoneguard.services.rulesets import current_rule_set
from zoneguard.services.screening import screen
from zoneguard.services.screening_store import PendingScreening, pending_screening
from zoneguard.settings import Settings

router = APIRouter(prefix="/screenings", tags=["screenings"])


def _measure(body: ScreeningIn, session: Session, settings: Settings,
             key: Principal) -> PendingScreening:
    """Screen (reads only, in the worker thread) and prepare the record and its audit entry."""
    read_without_transaction(session)
    rules = current_rule_set(settings)
    point = (body.location.lon, body.location.lat)
    entrance = None if body.entrance is None else (body.entrance.lon, body.entrance.lat)
    result = screen(session, category=body.category, point=point, crs=body.location.crs,
                    region=body.region, on=body.on, entrance=entrance, actor=key.actor,
                    settings=settings, scope=key.scope, rule_set=rules, store=False)
    audit = {"category": result.category, "region": result.region,
             "verdict": result.verdict.value, "location": list(result.point),
             "rule_set_version": result.rule_set_version}
    return pending_screening(result, rules=rules, actor=key.actor, crs=body.location.crs,
                             point=point, entrance=entrance, audit=audit)


@router.post("", response_model=ScreeningOut, status_code=status.HTTP_201_CREATED)
async def create_screening(body: ScreeningIn, session: SessionDep, settings: SettingsDep,
                           key: Screener, store: ScreeningStoreDep) -> Response:
    """Screen an application: verdict, conflicting schools, distances, rules and bases.

    The record (and its audit entry) is stored with the next group commit of this worker;
    the answer leaves only once it is durably stored.
    """
    pending = await run_in_threadpool(_measure, body, session, settings, key)
    await store(pending)
    return _json(pending.answer, status.HTTP_201_CREATED)


@router.get("/{screening_id}", response_model=ScreeningOut)
def get_screening(screening_id: RowId, session: SessionDep, key: Reader) -> Response:
    """A stored screening record, exactly as it was answered."""
    record = screening_record(session, screening_id, scope=key.scope)
    return _json(record.result, status.HTTP_200_OK)


def _json(answer: dict[str, Any], status_code: int) -> Response:
    """The answer as JSON, as it is stored (already shaped as `ScreeningOut`: not re-validated)."""
    content = orjson.dumps(answer, default=str, option=orjson.OPT_SERIALIZE_NUMPY)
    return Response(content, status_code=status_code, media_type="application/json")
