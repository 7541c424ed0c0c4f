"""Risk grade per school (分级管控): score, grade and the reasons, from its open findings."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from zoneguard.domain import ACTIVE_STATES
from zoneguard.errors import NotFound
from zoneguard.models import Finding, Premises, School
from zoneguard.risk_formula import RiskFormula, risk_formula
from zoneguard.scope import Scope
from zoneguard.services.cases.workflow import supervision_level


@dataclass(frozen=True)
class Reason:
    """One open finding's contribution: its points and what they are for."""

    finding_id: int
    points: int
    parts: tuple[str, ...]


@dataclass(frozen=True)
class SchoolRisk:
    """A school's grade, score, suggested inspection frequency and reasons."""

    code: str
    name: str
    region: str | None
    score: int
    grade: str
    grade_name: str
    frequency: str
    reasons: tuple[Reason, ...] = field(default=())
    school_id: int | None = None
    draw_weight: float = 1.0

    @property
    def summary(self) -> str:
        """The grade as people read it: 橙（50 分），建议每周排查."""
        return f"{self.grade_name}（{self.score} 分），建议每{self.frequency}排查"

    @property
    def basis(self) -> str:
        """The findings behind the score, one clause each (无未办结问题 when none)."""
        return "；".join(f"问题#{r.finding_id}：{'、'.join(r.parts)}"
                        for r in self.reasons) or "无未办结问题"


def _finding_points(formula: RiskFormula, row: object, today: date) -> Reason:
    p = formula.points
    kind, verdict = row.kind, row.verdict  # type: ignore[attr-defined]
    parts: list[tuple[str, int]] = []
    if kind in p.kind:
        parts.append(("缺失设施" if kind == "facility" else "登记问题", p.kind[kind]))
    elif verdict in p.verdict:
        parts.append(("禁止" if verdict == "prohibited" else "需复核", p.verdict[verdict]))
    age = (today - row.seen_on).days  # type: ignore[attr-defined]
    band = next((b for b in reversed(p.age) if age >= b.days), None)
    if band is not None:
        parts.append((f"已持续{age}天（≥{band.days}天）", band.points))
    if row.rebound:  # type: ignore[attr-defined]
        parts.append(("反弹", p.rebound))
    level = supervision_level(row.state, row.step_due, today)  # type: ignore[attr-defined]
    if level is not None:
        parts.append(("红牌督办" if level == "red" else "黄牌督办",
                      p.red_card if level == "red" else p.yellow_card))
    return Reason(finding_id=row.id, points=sum(n for _, n in parts),  # type: ignore[attr-defined]
                  parts=tuple(f"{label} +{n}" for label, n in parts))


def school_risks(
    session: Session, *, today: date, scope: Scope | None = None, region: str | None = None,
    school_code: str | None = None, formula: RiskFormula | None = None,
    school_id: int | None = None,
) -> list[SchoolRisk]:
    """Every school in scope (and region prefix) with its grade; two set-based queries.

    A scope limited to categories grades on the findings of those categories' premises only,
    so no caller learns of findings beyond its scope through a score.
    """
    formula = formula or risk_formula()
    schools = select(School.id, School.code, School.name, School.region).order_by(School.code)
    for prefix in (region, scope.region_prefix if scope else None):
        if prefix is not None:
            schools = schools.where(School.region.startswith(prefix, autoescape=True))
    if scope is not None and scope.school_id is not None:
        schools = schools.where(School.id == scope.school_id)
    if school_code is not None:
        schools = schools.where(School.code == school_code)
    if school_id is not None:
        schools = schools.where(School.id == school_id)
    rows = session.execute(schools).all()
    ids = [r.id for r in rows]
    seen_on = func.date(func.timezone("Asia/Shanghai", Finding.first_seen))
    open_findings = (
        select(Finding.id, Finding.school_id, Finding.kind, Finding.verdict, Finding.state,
               Finding.step_due, Finding.rebound, seen_on.label("seen_on"))
        .where(Finding.school_id.in_(ids),
               Finding.state.in_([str(s) for s in ACTIVE_STATES]))
        .order_by(Finding.id))
    if scope is not None and scope.categories is not None:
        # a caller limited to categories is graded on its own premises' findings only
        open_findings = open_findings.join(Premises, Premises.id == Finding.premises_id).where(
            Premises.category.in_(sorted(scope.categories)))
    findings = session.execute(open_findings).all() if ids else []
    reasons: dict[int, list[Reason]] = {}
    for f in findings:
        reasons.setdefault(f.school_id, []).append(_finding_points(formula, f, today))
    out: list[SchoolRisk] = []
    for r in rows:
        mine = tuple(sorted(reasons.get(r.id, []), key=lambda x: -x.points))
        score = sum(x.points for x in mine)
        grade = formula.grade_for(score)
        out.append(SchoolRisk(code=r.code, name=r.name, region=r.region, score=score,
                              grade=grade.code, grade_name=grade.name,
                              frequency=grade.frequency, reasons=mine, school_id=r.id,
                              draw_weight=grade.draw_weight))
    return out


def school_risk_by_id(session: Session, school_id: int, *, today: date,
                      scope: Scope | None = None) -> SchoolRisk:
    """One school's risk (NotFound when there is no such school or it is outside `scope`)."""
    found = school_risks(session, today=today, scope=scope, school_id=school_id)
    if not found:
        outside = "" if scope is None or scope.unrestricted else "或不在您的权限范围内"
        raise NotFound(f"学校（编号 {school_id}）不存在{outside}")
    return found[0]


def risk_weights(session: Session, *, today: date, region: str | None = None) -> dict[int, float]:
    """Each school's draw weight by its risk grade (for a 双随机 draw weighted by risk)."""
    return {r.school_id: r.draw_weight for r in school_risks(session, today=today, region=region)
            if r.school_id is not None}
