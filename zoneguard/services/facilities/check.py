"""The requirements check: a school missing a required facility gets a finding (kind facility).

All-or-nothing in one savepoint under a transaction advisory lock, like scans. A finding is
one per (school, requirement); its reasons list every gate that lacks the facility. A later
check that finds the requirement met (or no longer binding) resolves it with a Chinese
reason; a miss again after 验收/销号 reopens it as 反弹; decided closings are left alone.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from zoneguard.domain import ACTIVE_STATES, REBOUND_STATES, STEP_DAYS, FindingState
from zoneguard.facility_kinds import kind_name
from zoneguard.models import Finding, FindingEvent, School
from zoneguard.requirements import Per
from zoneguard.rules import RuleSet
from zoneguard.services.access.audit import audit
from zoneguard.services.facilities.measure import Assessment, assess

LOCK_KEY = 0x5A47_4641  # "ZGFA": one requirements check at a time
_ACTIVE = {s.value for s in ACTIVE_STATES}
_REBOUND = {s.value for s in REBOUND_STATES}
_NOT_BINDING = "设施检查：该要求对本校已不适用（学校停办、学段或规则变化）"


@dataclass
class CheckSummary:
    """What one requirements check changed."""

    schools: int = 0
    assessed: int = 0
    met: int = 0
    new: int = 0
    open: int = 0
    resolved: int = 0
    reopened: int = 0

    def as_dict(self) -> dict[str, int]:
        """JSON-ready counts."""
        return asdict(self)


def _point(assessment: Assessment) -> str:
    target = (assessment.missing or list(assessment.targets))[0]
    return f"SRID=4326;POINT({target.lon} {target.lat})"


def _event(session: Session, finding: Finding, before: str | None, comment: str,
           actor: str) -> None:
    session.add(FindingEvent(finding_id=finding.id, actor=actor, from_state=before,
                             to_state=finding.state, comment=comment))


def _open(session: Session, assessment: Assessment, finding: Finding | None, *, on: date,
          version: str, actor: str, summary: CheckSummary) -> None:
    requirement, reasons = assessment.requirement, assessment.reasons()
    if finding is None:
        finding = Finding(school_id=assessment.school_id, premises_id=None,
                          rule_id=requirement.id, kind="facility",
                          metric="boundary" if requirement.per is Per.SCHOOL else "gate",
                          threshold_m=requirement.within_m, verdict="review", reasons=reasons,
                          state="found", step_due=on + timedelta(STEP_DAYS[FindingState.FOUND]),
                          problem_category=requirement.kind, location=_point(assessment),
                          description=f"缺：{kind_name(requirement.kind)}",
                          rule_set_version=version)
        session.add(finding)
        session.flush()
        _event(session, finding, None, "设施检查发现：" + "；".join(reasons), actor)
        summary.new += 1
        return
    if finding.state in _ACTIVE:
        summary.open += 1
        if list(finding.reasons) != reasons:
            finding.reasons, finding.location = reasons, _point(assessment)
        return
    if finding.state == FindingState.RESOLVED or finding.state in _REBOUND:
        before, rebound = finding.state, finding.state in _REBOUND
        finding.state, finding.reasons, finding.location = "found", reasons, _point(assessment)
        finding.resolved_at = finding.resolution = finding.assignee = finding.deadline = None
        finding.rebound = rebound
        finding.step_due = on + timedelta(STEP_DAYS[FindingState.FOUND])
        word = "反弹：整改后设施再次缺失" if rebound else "设施检查再次发现缺失"
        _event(session, finding, before, f"{word}：" + "；".join(reasons), actor)
        summary.reopened += 1


def _resolve(session: Session, finding: Finding, reason: str, actor: str,
             summary: CheckSummary) -> None:
    before = finding.state
    finding.state, finding.resolution = "resolved", reason
    finding.resolved_at = datetime.now(UTC)
    _event(session, finding, before, reason, actor)
    summary.resolved += 1


def _met_reason(assessment: Assessment) -> str:
    requirement = assessment.requirement
    where = "学校" if requirement.per is Per.SCHOOL else \
        "、".join(t.label for t in assessment.targets) or "校门"
    return (f"设施检查：{where} {requirement.within_m:g} 米内已有"
            f"{kind_name(requirement.kind)}，要求已满足")


def run_check(session: Session, *, rules: RuleSet, on: date, region: str | None = None,
              actor: str = "requirements-check") -> CheckSummary:
    """Check every open school (of a region) against its requirements; write the findings."""
    session.flush()
    session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": LOCK_KEY})
    summary = CheckSummary()
    with session.begin_nested():
        schools = assess(session, rules=rules, on=on, region=region)
        summary.schools = len(schools)
        scope = select(Finding).join(School, School.id == Finding.school_id).where(
            Finding.kind == "facility")
        if region is not None:
            scope = scope.where(School.region.like(region + "%"))
        existing = {(f.school_id, f.rule_id): f for f in session.scalars(
            scope.with_for_update(of=Finding))}
        seen: set[tuple[int, str]] = set()
        for school in schools:
            for assessment in school.assessments:
                key = (school.id, assessment.requirement.id)
                seen.add(key)
                summary.assessed += 1
                finding = existing.get(key)
                if assessment.met:
                    summary.met += 1
                    if finding is not None and finding.state in _ACTIVE:
                        _resolve(session, finding, _met_reason(assessment), actor, summary)
                else:
                    _open(session, assessment, finding, on=on, version=rules.version,
                          actor=actor, summary=summary)
        for key, finding in existing.items():
            if key not in seen and finding.state in _ACTIVE:
                _resolve(session, finding, _NOT_BINDING, actor, summary)
        session.flush()
        audit(session, actor=actor, action="requirements_check", entity="finding",
              after={**summary.as_dict(), "region": region, "rule_set": rules.version})
    return summary


def still_missing(session: Session, finding: Finding, *, rules: RuleSet, on: date) -> str | None:
    """Why a missing-facility case cannot be accepted yet (None when the facility is there)."""
    facts = assess(session, rules=rules, on=on, school_ids=[finding.school_id])
    found = [a for s in facts for a in s.assessments if a.requirement.id == finding.rule_id]
    if not found or found[0].met:
        return None
    return "设施仍缺失：" + "；".join(found[0].reasons()) + "。应待设施登记后再验收"
