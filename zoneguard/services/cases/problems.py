"""Hand-registered problems: what no licence scan finds, registered at a place near a school.

A 网格员 (grid, its region), a school (its own 200 m campus zone) or governance registers a
problem of a category of `data/problems.yaml` — 无证流动摊点 at the gate, 占道经营, 违停 … —
with a location and a description; it becomes a case (kind `report`) of the nearest open
school and then follows the same loop as every other case. Photos are attached afterwards
as evidence.
"""

from __future__ import annotations

import math
from datetime import date, timedelta
from typing import Protocol

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from spatial.crs import parse_crs, to_wgs84
from spatial.errors import CrsError
from spatial.measure import SchoolCandidate, schools_near
from zoneguard.domain import STEP_DAYS, FindingState, Metric, Role, Verdict
from zoneguard.errors import CrsProblem, Forbidden, NotFound, ValidationError
from zoneguard.models import Finding, FindingEvent, School
from zoneguard.problem_categories import ProblemCategory, catalogue
from zoneguard.services.access.audit import audit
from zoneguard.services.access.keys import Scope
from zoneguard.services.access.principal import ROLE_LABELS
from zoneguard.settings import Settings

REGISTER = frozenset({Role.ADMIN, Role.GOVERNANCE, Role.GRID, Role.SCHOOL})
NEAREST_M = 500.0  # a problem belongs to an open school within this many metres
CAMPUS_ZONE_M = 200.0  # a school registers problems within this distance of its campus
MIN_DESCRIPTION = 4
MAX_DESCRIPTION = 2000


class Reporter(Protocol):
    """Who registers: an authenticated person or key, with its role and scope."""

    @property
    def actor(self) -> str:
        """How the records name the caller."""
        ...

    @property
    def role(self) -> Role:
        """The caller's role."""
        ...

    @property
    def scope(self) -> Scope:
        """The data the caller may reach."""
        ...


def _wgs84(lon: float, lat: float, crs: str) -> tuple[float, float]:
    """The point in EPSG:4326 degrees (any supported CRS, GCJ-02 and BD-09 included)."""
    try:
        spec = parse_crs(crs)
    except CrsError as exc:
        raise CrsProblem(str(exc)) from None
    if not (math.isfinite(lon) and math.isfinite(lat)):
        raise ValidationError(f"问题位置坐标须为有限数值，收到 ({lon}, {lat})")
    x, y = to_wgs84([lon], [lat], spec)
    out = (float(x[0]), float(y[0]))
    if not all(map(math.isfinite, out)) or not (-180 <= out[0] <= 180 and -90 <= out[1] <= 90):
        raise ValidationError(f"问题位置 ({lon}, {lat})（{spec.name}）不是有效位置")
    return out


def _distance_m(session: Session, school_id: int, lon: float, lat: float) -> float:
    """Geodesic metres from the point to a school's campus (or its point)."""
    return float(session.execute(text(
        "SELECT ST_Distance(geography(COALESCE(boundary, location)), "
        "geography(ST_SetSRID(ST_MakePoint(:lon, :lat), 4326)), true) FROM school "
        "WHERE id = :id"), {"lon": lon, "lat": lat, "id": school_id}).scalar_one())


def _own_school(session: Session, scope: Scope, school_code: str | None, lon: float,
                lat: float, today: date) -> SchoolCandidate:
    """A school's own campus zone: its school, the point within CAMPUS_ZONE_M of it."""
    own = session.get(School, scope.school_id)
    if own is None:
        raise Forbidden("本账号绑定的学校已不存在：请联系管理员")
    if school_code is not None and school_code != own.code:
        raise Forbidden(f"学校账号只能登记本校（{own.name}，{own.code}）周边的问题")
    near = [c for c in schools_near(session, lon=lon, lat=lat, radius_m=CAMPUS_ZONE_M, on=today)
            if c.school_id == own.id]
    if not near:
        away = _distance_m(session, own.id, lon, lat)
        raise Forbidden(f"问题位置距本校“{own.name}”校园 {away:.0f} 米，不在校园周边 "
                        f"{CAMPUS_ZONE_M:.0f} 米范围内：学校账号只能登记本校周边的问题")
    return near[0]


def _chosen_school(session: Session, scope: Scope, school_code: str | None, lon: float,
                   lat: float, today: date) -> SchoolCandidate:
    """The given school, or the nearest open school in scope, within NEAREST_M of the point."""
    near = schools_near(session, lon=lon, lat=lat, radius_m=NEAREST_M, on=today)
    if school_code is not None:
        match = [c for c in near if c.school_code == school_code]
        if not match:
            if session.scalar(select(School.id).where(School.code == school_code)) is None:
                raise NotFound(f"学校 {school_code!r} 不存在（按学校代码查找）")
            raise ValidationError(f"问题位置距学校 {school_code} 超过 {NEAREST_M:.0f} 米（或该校"
                                  "已撤销）：请核对坐标、坐标系与学校代码")
        chosen = match[0]
    else:
        if not near:
            raise ValidationError(f"问题位置 {NEAREST_M:.0f} 米内没有在办学校：请核对坐标与"
                                  "坐标系（如高德为 gcj02、百度为 bd09），或指定学校代码")
        chosen = next((c for c in near if scope.allows_region(c.school_region)), near[0])
    if not scope.allows_region(chosen.school_region):
        raise Forbidden(f"学校“{chosen.school_name}”（区划 {chosen.school_region or '未知'}）"
                        f"不在您的辖区（{scope.region_prefix}）内：只能登记辖区内学校周边的问题")
    return chosen


def _reasons(kind: ProblemCategory, caller: Reporter, school: SchoolCandidate,
             description: str, review_on: date) -> list[str]:
    where = ("问题位置在校园内" if school.boundary_m <= 0 else
             f"问题位置距“{school.school_name}”校园 {school.boundary_m:.1f} 米（椭球面测地距离）")
    reasons = [f"{ROLE_LABELS[caller.role]}登记{kind.name}：{description}", where,
               f"建议责任单位：{kind.unit}", f"回头看日期：{review_on.isoformat()}"]
    if kind.citation is not None:
        reasons.append(f"依据：{kind.citation.display()}")
    return reasons


def register_problem(
    session: Session,
    *,
    caller: Reporter,
    category: str,
    lon: float,
    lat: float,
    crs: str,
    description: str,
    school_code: str | None = None,
    today: date,
    settings: Settings,
) -> Finding:
    """Register a problem near a school as a new case (发现), with its event and audit row."""
    if caller.role not in REGISTER:
        raise Forbidden(f"{ROLE_LABELS[caller.role]}角色不能登记问题：须由网格员、学校或综治办登记")
    kind = catalogue(settings.effective_problems_file).get(category)
    words = description.strip()
    if not MIN_DESCRIPTION <= len(words) <= MAX_DESCRIPTION:
        raise ValidationError(f"问题描述须有 {MIN_DESCRIPTION}–{MAX_DESCRIPTION} 个字，"
                              "写明看到了什么、在哪里、何时")
    code = school_code.strip() or None if school_code is not None else None
    scope = caller.scope
    if not scope.allows_category(kind.code):
        raise Forbidden(f"问题类别“{kind.name}”不在您的权限范围内")
    x, y = _wgs84(lon, lat, crs)
    school = (_own_school(session, scope, code, x, y, today) if scope.school_id is not None
              else _chosen_school(session, scope, code, x, y, today))
    review_on = today + timedelta(days=kind.lookback_days)
    point = func.ST_SetSRID(func.ST_MakePoint(x, y), 4326)
    line = None if school.boundary_m <= 0 else func.ST_SetSRID(
        func.ST_MakeLine(func.ST_MakePoint(x, y),
                         func.ST_MakePoint(school.near_lon, school.near_lat)), 4326)
    finding = Finding(
        school_id=school.school_id, premises_id=None, rule_id=f"problem.{kind.code}",
        kind="report", metric=Metric.BOUNDARY.value, distance_m=school.boundary_m,
        verdict=Verdict.REVIEW.value,
        reasons=_reasons(kind, caller, school, words, review_on), line=line,
        state=FindingState.FOUND.value,
        step_due=today + timedelta(days=STEP_DAYS[FindingState.FOUND]),
        review_on=review_on, problem_category=kind.code, description=words,
        reported_by=caller.actor, location=point)
    session.add(finding)
    session.flush()
    session.add(FindingEvent(finding_id=finding.id, actor=caller.actor, from_state=None,
                             to_state=FindingState.FOUND.value,
                             comment=f"登记{kind.name}：{words}", distance_m=school.boundary_m))
    session.flush()
    audit(session, actor=caller.actor, action="problem.register", entity="finding",
          entity_id=finding.id, after={
              "category": kind.code, "school_code": school.school_code, "lon": x, "lat": y,
              "crs": crs, "distance_m": school.boundary_m, "description": words,
              "review_on": review_on})
    return finding
