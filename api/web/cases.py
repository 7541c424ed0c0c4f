"""`/findings` 问题台账 and `/findings/{id}`: the desk, one case, and its actions as forms."""

from __future__ import annotations

from datetime import date
from functools import partial
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from api.deps import RuleSetDep, SessionDep, SettingsDep
from api.schemas.common import RowId
from api.web.desk import (
    PAGE_SIZES,
    STOCK,
    DeskFilters,
    action_forms,
    cases_map,
    read_filters,
    state_choices,
    supervision_text,
)
from api.web.render import render
from api.web.session import LoginDep, form_ok, to_login
from zoneguard.errors import NotFound, ValidationError, ZoneGuardError
from zoneguard.maps import assets
from zoneguard.maps.basemaps import basemap_for
from zoneguard.maps.page import spec_json
from zoneguard.models import Evidence
from zoneguard.queries.nearby import school_by_code
from zoneguard.services.access.web_sessions import WebLogin
from zoneguard.services.cases.counts import state_counts
from zoneguard.services.cases.evidence import add_evidence
from zoneguard.services.cases.findings import get_finding, list_findings
from zoneguard.services.cases.flow import BY_CODE
from zoneguard.services.cases.workflow import act
from zoneguard.settings import Settings, local_today

router = APIRouter(include_in_schema=False)
Text = Annotated[str, Form(max_length=200)]
LongText = Annotated[str, Form(max_length=4000)]


def _desk(session: Session, login: WebLogin, filters: DeskFilters, settings: Settings,
          categories: list[str]) -> dict[str, Any]:
    scope = login.user.principal.scope
    today = local_today(settings.timezone)
    args = filters.service_args()
    rows, total = list_findings(session, **args, limit=filters.limit, offset=filters.offset,
                                scope=scope, today=today)
    counts = state_counts(session, today=today, scope=scope,
                          **{k: v for k, v in args.items() if k != "state"})
    spec = cases_map(rows, basemap_for(settings), "问题台账（本页）")
    return {"rows": rows, "total": total, "counts": counts, "spec": spec_json(spec),
            "filters": filters, "categories": categories, "states": state_choices(),
            "stock": STOCK, "page_sizes": PAGE_SIZES}


@router.get("/findings", response_class=HTMLResponse)
async def desk(request: Request, login: LoginDep, session: SessionDep, settings: SettingsDep,
               rules: RuleSetDep) -> Response:
    """问题台账: filters, the page's cases on a map and in a table, paging and counts."""
    if login is None:
        return to_login(request)
    scope = login.user.principal.scope
    categories = [c for c in sorted(rules.categories()) if scope.allows_category(c)]
    params = {k: v[:200] for k, v in request.query_params.items()}
    error = None
    try:
        filters = read_filters(params)
    except ValidationError as exc:
        filters, error = DeskFilters(), exc.detail
    view = await run_in_threadpool(_desk, session, login, filters, settings, categories)
    assets.check_installed(settings)
    return render(request, "findings.html", status_code=200 if error is None else 422,
                  login=login, error=error, css=assets.CSS, js=assets.JS,
                  supervision=supervision_text, **view)


def _case(session: Session, login: WebLogin, finding_id: int,
          settings: Settings) -> dict[str, Any]:
    principal = login.user.principal
    case = get_finding(session, finding_id, scope=principal.scope,
                       today=local_today(settings.timezone))
    evidence = [{"filename": e.filename, "media_type": e.media_type, "note": e.note,
                 "uploaded_by": e.uploaded_by, "uploaded_at": e.uploaded_at}
                for e in session.scalars(select(Evidence).where(Evidence.finding_id == finding_id)
                                         .order_by(Evidence.uploaded_at, Evidence.id))]
    count = len(evidence)
    try:
        school: dict[str, Any] | None = school_by_code(session, case["school_code"])
    except NotFound:
        school = None
    spec = cases_map([case], basemap_for(settings), f"问题 #{case['id']}", school=school)
    return {"case": case, "evidence": evidence, "spec": spec_json(spec),
            "forms": action_forms(case["state"], principal.role, count)}


def _case_page(request: Request, session: Session, login: WebLogin, finding_id: int,
               settings: Settings, *, error: str | None = None, status_code: int = 200,
               done: str | None = None, values: dict[str, str] | None = None) -> Response:
    try:
        view = _case(session, login, finding_id, settings)
    except NotFound:
        return render(request, "error.html", status_code=404, login=login,
                      message=f"问题 #{finding_id} 不存在或不在您的权限范围内")
    assets.check_installed(settings)
    return render(request, "finding.html", status_code=status_code, login=login, error=error,
                  done=done, values=values or {}, css=assets.CSS, js=assets.JS,
                  supervision=supervision_text, **view)


@router.get("/findings/{finding_id}", response_class=HTMLResponse)
def case_page(request: Request, finding_id: RowId, login: LoginDep, session: SessionDep,
              settings: SettingsDep, done: str | None = None) -> Response:
    """One case: map with its measured line, details, history, evidence, allowed actions."""
    if login is None:
        return to_login(request)
    label = BY_CODE[done].label if done in BY_CODE else ("上传证据材料" if done == "evidence"
                                                         else None)
    return _case_page(request, session, login, finding_id, settings, done=label)


def _deadline(value: str) -> date | None:
    if not value.strip():
        return None
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise ValidationError(f"整改期限不是有效日期（年-月-日）：{value}") from None


@router.post("/findings/{finding_id}/act", response_class=HTMLResponse)
async def case_act(
    request: Request, finding_id: RowId, login: LoginDep, session: SessionDep,
    settings: SettingsDep, csrf_token: Text = "", action: Text = "", comment: LongText = "",
    unit: Text = "", deadline: Text = "", closing: Text = "",
) -> Response:
    """Take one action of the flow on the case as the logged-in person (errors on the page)."""
    if login is None:
        return to_login(request)
    values = {"action": action, "comment": comment, "unit": unit, "deadline": deadline,
              "closing": closing}
    if not form_ok(login, csrf_token):
        return _case_page(request, session, login, finding_id, settings, values=values,
                          error="页面已过期，请刷新后重新提交", status_code=403)
    principal = login.user.principal

    def run() -> None:
        with session.begin_nested():  # a refused action leaves nothing behind
            act(session, finding_id, action=action, caller=principal, comment=comment or None,
                assignee=unit or None, deadline=_deadline(deadline), closing=closing or None,
                scope=principal.scope, today=local_today(settings.timezone),
                settings=settings)

    try:
        await run_in_threadpool(run)
    except ZoneGuardError as exc:
        return await run_in_threadpool(partial(
            _case_page, request, session, login, finding_id, settings, error=exc.detail,
            status_code=exc.status, values=values))
    return RedirectResponse(f"/findings/{finding_id}?done={action}", status_code=303)


@router.post("/findings/{finding_id}/evidence", response_class=HTMLResponse)
async def case_evidence(
    request: Request, finding_id: RowId, login: LoginDep, session: SessionDep,
    settings: SettingsDep, file: Annotated[UploadFile, File()],
    csrf_token: Text = "", note: LongText = "",
) -> Response:
    """Attach a photo or PDF to the case as the logged-in person (type checked by content)."""
    if login is None:
        return to_login(request)
    if not form_ok(login, csrf_token):
        return _case_page(request, session, login, finding_id, settings,
                          error="页面已过期，请刷新后重新提交", status_code=403)
    principal = login.user.principal

    def run() -> None:
        with session.begin_nested():  # a refused file leaves no row behind
            add_evidence(session, finding_id, stream=file.file, filename=file.filename,
                         media_type=file.content_type, note=note or None, caller=principal,
                         scope=principal.scope, settings=settings)

    try:
        await run_in_threadpool(run)
    except ZoneGuardError as exc:
        return await run_in_threadpool(partial(
            _case_page, request, session, login, finding_id, settings, error=exc.detail,
            status_code=exc.status))
    return RedirectResponse(f"/findings/{finding_id}?done=evidence", status_code=303)
