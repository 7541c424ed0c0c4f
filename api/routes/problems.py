"""`/api/v1/problems`: register a problem seen near a school; the problem categories."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, status

from api.auth import CaseReader
from api.deps import SessionDep, SettingsDep
from api.schemas.findings import FindingDetail
from api.schemas.problems import ProblemCategories, ProblemIn
from zoneguard.problem_categories import catalogue
from zoneguard.services.cases.findings import get_finding
from zoneguard.services.cases.problems import register_problem
from zoneguard.settings import local_today

router = APIRouter(prefix="/problems", tags=["problems"])


@router.get("/categories", response_model=ProblemCategories)
def categories(key: CaseReader, settings: SettingsDep) -> dict[str, Any]:  # noqa: ARG001
    """The categories a problem is registered in (code, 中文名, 责任单位, 回头看 days)."""
    loaded = catalogue(settings.effective_problems_file)
    return {"version": loaded.version, "items": [c.public() for c in loaded.categories]}


@router.post("", response_model=FindingDetail, status_code=status.HTTP_201_CREATED)
def register(body: ProblemIn, session: SessionDep, settings: SettingsDep,
             key: CaseReader) -> dict[str, Any]:
    """Register a problem as a new case (发现) of the nearest open school within 500 m.

    Grid workers (网格员) register within their region, schools within 200 m of their own
    campus, governance anywhere: 403 outside, 422 for an unknown category (the known ones
    listed) or no school nearby. Attach photos afterwards through the evidence API.
    """
    today = local_today(settings.timezone)
    finding = register_problem(
        session, caller=key, category=body.category, lon=body.location.lon,
        lat=body.location.lat, crs=body.location.crs, description=body.description,
        school_code=body.school_code, today=today, settings=settings)
    return get_finding(session, finding.id, scope=key.scope, today=today)
