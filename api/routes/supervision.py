"""督办: counts by district, 督办单 (issue, lift, list) and 约谈 (record, list)."""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi import APIRouter, status

from api.auth import Reader
from api.deps import SessionDep, SettingsDep
from api.schemas.cases import (
    InterviewIn,
    InterviewOut,
    InterviewPage,
    LiftIn,
    OrderIn,
    OrderOut,
    OrderPage,
    SupervisionSummary,
)
from api.schemas.common import Limit, Offset, RegionCode, RowId
from zoneguard.services.cases import supervision as service
from zoneguard.services.cases import supervision_view as view
from zoneguard.settings import local_today

router = APIRouter(tags=["supervision"])


@router.get("/supervision", response_model=SupervisionSummary)
def supervision_summary(session: SessionDep, settings: SettingsDep, key: Reader,
                        region: RegionCode | None = None, since: date | None = None,
                        until: date | None = None) -> dict[str, Any]:
    """黄牌/红牌 cases, open 督办单 and 约谈 held in [since, until], by district (区县)."""
    return view.supervision_counts(session, today=local_today(settings.timezone),
                                   region=region, since=since, until=until, scope=key.scope)


@router.get("/supervision/orders", response_model=OrderPage)
def list_orders(session: SessionDep, settings: SettingsDep, key: Reader,
                active: bool | None = None, region: RegionCode | None = None,
                limit: Limit = 100, offset: Offset = 0) -> dict[str, Any]:
    """督办单, newest first (`active=true`: not lifted; `false`: lifted)."""
    rows, total = view.list_orders(session, today=local_today(settings.timezone),
                                   active=active, region=region, scope=key.scope,
                                   limit=limit, offset=offset)
    return {"items": rows, "total": total, "limit": limit, "offset": offset}


@router.post("/supervision/orders", response_model=OrderOut,
             status_code=status.HTTP_201_CREATED)
def issue_order(body: OrderIn, session: SessionDep, settings: SettingsDep,
                key: Reader) -> dict[str, Any]:
    """挂牌督办: issue a 督办单 for an open case (governance or admin; number unique)."""
    today = local_today(settings.timezone)
    order = service.issue_order(session, body.finding_id, number=body.number,
                                office=body.office, deadline=body.deadline,
                                requirements=body.requirements, caller=key, scope=key.scope,
                                today=today)
    return view.order_row(order, today)


@router.post("/supervision/orders/{order_id}/lift", response_model=OrderOut)
def lift_order(order_id: RowId, body: LiftIn, session: SessionDep, settings: SettingsDep,
               key: Reader) -> dict[str, Any]:
    """解除督办 (governance or admin)."""
    today = local_today(settings.timezone)
    order = service.lift_order(session, order_id, caller=key, comment=body.comment,
                               scope=key.scope, today=today)
    return view.order_row(order, today)


@router.get("/interviews", response_model=InterviewPage)
def list_interviews(session: SessionDep, key: Reader, since: date | None = None,
                    until: date | None = None, region: RegionCode | None = None,
                    limit: Limit = 100, offset: Offset = 0) -> dict[str, Any]:
    """约谈 held in [since, until], latest first."""
    rows, total = view.list_interviews(session, since=since, until=until, region=region,
                                       scope=key.scope, limit=limit, offset=offset)
    return {"items": rows, "total": total, "limit": limit, "offset": offset}


@router.post("/interviews", response_model=InterviewOut, status_code=status.HTTP_201_CREATED)
def record_interview(body: InterviewIn, session: SessionDep, settings: SettingsDep,
                     key: Reader) -> dict[str, Any]:
    """Record a 约谈 (governance or admin), about one case when `finding_id` is given."""
    row = service.record_interview(session, unit=body.unit, held_on=body.held_on,
                                   participants=body.participants, summary=body.summary,
                                   finding_id=body.finding_id, caller=key, scope=key.scope,
                                   today=local_today(settings.timezone))
    return view.interview_row(row)
