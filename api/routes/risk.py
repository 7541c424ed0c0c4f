"""`/api/v1/risk`: the risk grade of each school (分级管控) from its open findings."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel

from api.auth import Reader
from api.deps import SessionDep, SettingsDep
from api.schemas.common import Limit, Offset, RegionCode, RowId
from zoneguard.risk_formula import risk_formula
from zoneguard.services.cases.risk import SchoolRisk, school_risk_by_id, school_risks
from zoneguard.settings import local_today

router = APIRouter(tags=["risk"])
GradeCode = Literal["red", "orange", "yellow", "blue"]


class RiskReason(BaseModel):
    """One open finding's points and what they are for (e.g. 禁止 +40, 反弹 +30)."""

    finding_id: int
    points: int
    parts: list[str]


class RiskOut(BaseModel):
    """A school's grade (红/橙/黄/蓝), score, suggested inspection frequency and reasons."""

    code: str
    name: str
    region: str | None
    score: int
    grade: GradeCode
    grade_name: str
    frequency: str
    reasons: list[RiskReason]


class RiskPage(BaseModel):
    """Schools by risk, highest first; the formula's basis and its not-statutory notice."""

    total: int
    counts: dict[str, int]
    notice: str
    basis: str
    schools: list[RiskOut]


def _out(risk: SchoolRisk) -> dict[str, Any]:
    return {"code": risk.code, "name": risk.name, "region": risk.region, "score": risk.score,
            "grade": risk.grade, "grade_name": risk.grade_name, "frequency": risk.frequency,
            "reasons": [{"finding_id": r.finding_id, "points": r.points, "parts": list(r.parts)}
                        for r in risk.reasons]}


@router.get("/risk", response_model=RiskPage)
def list_risk(
    session: SessionDep, settings: SettingsDep, key: Reader,
    region: RegionCode | None = None,
    grade: Annotated[GradeCode | None, Query(description="red, orange, yellow or blue")] = None,
    limit: Limit = 100, offset: Offset = 0,
) -> dict[str, Any]:
    """Every school in the caller's scope with its grade, highest score first.

    The points and grade thresholds are local defaults (data/risk.yaml), not statutory values.
    """
    formula = risk_formula()
    risks = school_risks(session, today=local_today(settings.timezone), scope=key.scope,
                         region=region, formula=formula)
    counts = {g.code: 0 for g in formula.grades}
    for risk in risks:
        counts[risk.grade] += 1
    chosen = sorted((r for r in risks if grade is None or r.grade == grade),
                    key=lambda r: (-r.score, r.code))
    return {"total": len(chosen), "counts": counts, "notice": formula.notice,
            "basis": formula.basis.citation,
            "schools": [_out(r) for r in chosen[offset:offset + limit]]}


@router.get("/schools/{school_id}/risk", response_model=RiskOut)
def get_school_risk(school_id: RowId, session: SessionDep, settings: SettingsDep,
                    key: Reader) -> dict[str, Any]:
    """One school's grade, score, suggested frequency and the findings behind them."""
    return _out(school_risk_by_id(session, school_id, today=local_today(settings.timezone),
                                  scope=key.scope))
