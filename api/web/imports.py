"""`/imports` 数据导入: upload, a dry run with its row-level report, then confirm to import."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from api.auth import IMPORT
from api.deps import RuleSetDep, SessionDep, SettingsDep
from api.web.render import render
from api.web.screen import CRS_CHOICES
from api.web.session import LoginDep, form_ok, to_login
from api.web.staging import Staged, discard, load, root_dir, stage
from zoneguard.errors import ImportProblem, ValidationError, ZoneGuardError
from zoneguard.rules import RuleSet
from zoneguard.services.access.keys import Scope
from zoneguard.services.access.web_sessions import WebLogin
from zoneguard.services.ingest.files import import_file
from zoneguard.services.ingest.scope import SCOPED_KINDS, check_choices
from zoneguard.settings import Settings

router = APIRouter(include_in_schema=False)
KINDS = {"premises": "场所登记", "schools": "学校登记", "gates": "校门",
         "facilities": "必备设施（警示标牌、护学岗、监控等）"}
FILE_CRS = ("", "文件自带坐标系（GeoJSON、GeoPackage、Shapefile）")
Text = Annotated[str, Form(max_length=200)]


def _page(request: Request, login: WebLogin, rules: RuleSet, *, status_code: int = 200,
          **context: Any) -> Response:
    scope = login.user.principal.scope
    kinds = KINDS if scope.unrestricted else {k: KINDS[k] for k in SCOPED_KINDS}
    categories = [c for c in sorted(rules.categories()) if scope.allows_category(c)]
    values = {"kind": "premises", "crs": "wgs84", "category": "", "region": "",
              **context.pop("values", {})}
    return render(request, "imports.html", status_code=status_code, login=login, kinds=kinds,
                  crs_choices=[FILE_CRS, *CRS_CHOICES], categories=categories, values=values,
                  **{"report": None, "outcome": None, "staged": None, "error": None,
                     "final": False, **context})


def _refused(request: Request, login: WebLogin) -> Response:
    return render(request, "error.html", status_code=403, login=login,
                  message=f"“{login.user.principal.role_label}”角色不能导入数据")


def _check_choices(scope: Scope, kind: str, category: str | None, region: str | None) -> None:
    if kind not in KINDS:
        raise ValidationError("请选择导入内容（场所、学校、校门或设施）")
    if region is not None and not (region.isascii() and region.isdigit() and len(region) <= 12):
        raise ValidationError(f"行政区划代码应为不超过 12 位的数字：{region}")
    check_choices(scope, kind=kind, category=category, region=region)


def _run(session: Session, staged: Staged, login: WebLogin, settings: Settings, *,
         dry_run: bool) -> dict[str, Any]:
    principal = login.user.principal
    with session.begin_nested():  # a refusal leaves nothing behind
        outcome = import_file(
            session, staged.path(root_dir()), kind=staged.kind,  # type: ignore[arg-type]
            crs=staged.crs, category=staged.category, region=staged.region, dry_run=dry_run,
            skip_invalid=staged.skip_invalid, actor=principal.actor,
            file_name=staged.file_name, settings=settings, scope=principal.scope)
    return outcome.as_dict()


@router.get("/imports", response_class=HTMLResponse)
def import_form(request: Request, login: LoginDep, rules: RuleSetDep) -> Response:
    """The upload form: file, kind, CRS, category and region."""
    if login is None:
        return to_login(request)
    if login.user.principal.role not in IMPORT:
        return _refused(request, login)
    return _page(request, login, rules)


@router.post("/imports", response_class=HTMLResponse)
async def import_dry_run(
    request: Request, login: LoginDep, session: SessionDep, settings: SettingsDep,
    rules: RuleSetDep, file: Annotated[UploadFile | None, File()] = None,
    csrf_token: Text = "", kind: Text = "premises", crs: Text = "", category: Text = "",
    region: Text = "", skip_invalid: Text = "",
) -> Response:
    """Keep the upload and show what importing it would do (nothing is written)."""
    if login is None:
        return to_login(request)
    if login.user.principal.role not in IMPORT:
        return _refused(request, login)
    values = {"kind": kind, "crs": crs, "category": category, "region": region,
              "skip_invalid": skip_invalid}
    if not form_ok(login, csrf_token):
        return _page(request, login, rules, values=values, status_code=403,
                     error="页面已过期，请重新上传")
    staged = None
    try:
        _check_choices(login.user.principal.scope, kind, category or None, region or None)
        if file is None:
            raise ValidationError("请选择要导入的文件")
        staged = await run_in_threadpool(
            stage, root_dir(), file.file, max_bytes=settings.import_max_bytes,
            username=login.user.principal.name, file_name=file.filename or "upload", kind=kind,
            crs=crs or None, category=category or None, region=region or None,
            skip_invalid=skip_invalid == "1")
        outcome = await run_in_threadpool(_run, session, staged, login, settings, dry_run=True)
    except ImportProblem as exc:
        if staged is not None:
            discard(root_dir(), staged)
        return _page(request, login, rules, values=values, status_code=exc.status,
                     error=f"文件有问题，未导入：{exc.detail}", report=exc.extra.get("report"))
    except ZoneGuardError as exc:
        if staged is not None:
            discard(root_dir(), staged)
        return _page(request, login, rules, values=values, status_code=exc.status,
                     error=exc.detail)
    return _page(request, login, rules, values=values, outcome=outcome,
                 report=outcome["report"], staged=staged)


@router.post("/imports/confirm", response_class=HTMLResponse)
async def import_confirm(
    request: Request, login: LoginDep, session: SessionDep, settings: SettingsDep,
    rules: RuleSetDep, csrf_token: Text = "", token: Text = "",
) -> Response:
    """Import the file whose dry run this person saw, and show the final report."""
    if login is None:
        return to_login(request)
    if login.user.principal.role not in IMPORT:
        return _refused(request, login)
    if not form_ok(login, csrf_token):
        return _page(request, login, rules, status_code=403, error="页面已过期，请重新上传")
    try:
        staged = load(root_dir(), token, login.user.principal.name)
        outcome = await run_in_threadpool(_run, session, staged, login, settings,
                                          dry_run=False)
    except ImportProblem as exc:
        return _page(request, login, rules, status_code=exc.status,
                     error=f"文件有问题，未导入：{exc.detail}", report=exc.extra.get("report"))
    except ZoneGuardError as exc:
        return _page(request, login, rules, status_code=exc.status, error=exc.detail)
    discard(root_dir(), staged)
    return _page(request, login, rules, outcome=outcome, report=outcome["report"], final=True)
