"""Field measurement (现场测量): a distance measured on site; the case's verdict follows it.

Two officers measure with a tape, a wheel, a laser rangefinder or GNSS, on a day not in the
future; a photo of the same case may go with it. The field verdict is decided by
`zoneguard.evaluation.classify` against the case's own threshold and its rule's
inclusiveness, with no review margin (the measurement is the fact the margin stood for).
It stands beside the computed distance: the case shows both, and its verdict is the field one.
"""

from __future__ import annotations

import math
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from zoneguard.domain import Role
from zoneguard.errors import Forbidden, ValidationError
from zoneguard.evaluation import classify
from zoneguard.models import Evidence, FieldMeasurement, FindingEvent
from zoneguard.services.access.audit import audit
from zoneguard.services.access.keys import Scope
from zoneguard.services.access.principal import ROLE_LABELS
from zoneguard.services.cases.evidence import reachable
from zoneguard.services.cases.workflow import Caller
from zoneguard.services.rulesets import current_rule_set
from zoneguard.settings import Settings

METHODS = ("卷尺", "测距轮", "激光测距仪", "GNSS")
MEASURE_ROLES = frozenset({Role.ADMIN, Role.GOVERNANCE, Role.BUREAU})
MAX_DISTANCE_M = 100_000.0
FIELD_VERDICT_LABELS = {"prohibited": "在规定距离内（不符合要求）",
                        "allowed": "在规定距离外（符合要求）", "review": "需复核"}


def _inclusive(rule_id: str, settings: Settings) -> bool:
    rule = next((r for r in current_rule_set(settings).rules if r.id == rule_id), None)
    return True if rule is None else rule.inclusive


def _measurers(names: list[str]) -> list[str]:
    cleaned = [n.strip() for n in names if n and n.strip()]
    if len(cleaned) != 2 or len(set(cleaned)) != 2:
        raise ValidationError("现场测量须由两名不同的测量人员完成，请填写两名测量人员姓名")
    if any(len(n) > 100 for n in cleaned):
        raise ValidationError("测量人员姓名不能超过 100 字")
    return cleaned


def _check(distance_m: float, method: str, instrument: str, measured_on: date,
           today: date) -> None:
    if not math.isfinite(distance_m) or not 0 <= distance_m <= MAX_DISTANCE_M:
        raise ValidationError(f"测量距离须在 0 至 {MAX_DISTANCE_M:.0f} 米之间")
    if method not in METHODS:
        raise ValidationError(f"测量方法须为：{'、'.join(METHODS)}")
    if not instrument or len(instrument) > 200:
        raise ValidationError("须填写测量仪器（型号、编号），不超过 200 字")
    if measured_on > today:
        raise ValidationError(f"测量日期 {measured_on.isoformat()} 晚于今天")


def _photo(session: Session, evidence_id: int | None, finding_id: int) -> None:
    if evidence_id is None:
        return
    photo = session.get(Evidence, evidence_id)
    if photo is None or photo.finding_id != finding_id:
        raise ValidationError(f"证据材料 {evidence_id} 不是问题 {finding_id} 的证据")
    if not photo.media_type.startswith("image/"):
        raise ValidationError(f"证据材料 {evidence_id} 不是照片（{photo.media_type}）")


def record_measurement(
    session: Session, finding_id: int, *, distance_m: float, method: str, instrument: str,
    measurers: list[str], measured_on: date, evidence_id: int | None = None, caller: Caller,
    scope: Scope | None, today: date, settings: Settings,
) -> FieldMeasurement:
    """Record a field measurement of a case; sets its field distance and verdict."""
    if caller.role not in MEASURE_ROLES:
        raise Forbidden(f"“{ROLE_LABELS[caller.role]}”角色不能记录现场测量")
    method, instrument = method.strip(), instrument.strip()
    _check(distance_m, method, instrument, measured_on, today)
    people = _measurers(measurers)
    finding = reachable(session, finding_id, scope)
    session.refresh(finding, with_for_update=True)
    if finding.threshold_m is None:
        raise ValidationError(f"问题 {finding_id} 没有规定距离，不能据现场测量判定")
    _photo(session, evidence_id, finding.id)
    inclusive = _inclusive(finding.rule_id, settings)
    verdict = classify(distance_m, finding.threshold_m, 0, inclusive=inclusive).value
    within = f"{finding.threshold_m:g} 米{'以内' if inclusive else '（不含）以内'}"
    summary = (f"现场测量 {measured_on.isoformat()}：{distance_m:.2f} 米（{method}，{instrument}；"
               f"测量人 {people[0]}、{people[1]}），规定距离 {within}，"
               f"现场判定{FIELD_VERDICT_LABELS[verdict]}")
    before = {"field_distance_m": finding.field_distance_m,
              "field_verdict": finding.field_verdict}
    row = FieldMeasurement(finding_id=finding.id, distance_m=distance_m, method=method,
                           instrument=instrument, measurers=people, measured_on=measured_on,
                           evidence_id=evidence_id, verdict=verdict, recorded_by=caller.actor)
    session.add(row)
    finding.field_distance_m, finding.field_verdict = distance_m, verdict
    finding.reasons = [*(finding.reasons or []), f"{summary}；本案结论以现场测量为准"]
    session.add(FindingEvent(finding_id=finding.id, actor=caller.actor, from_state=finding.state,
                             to_state=finding.state, comment=summary, distance_m=distance_m,
                             evidence=None if evidence_id is None else f"evidence:{evidence_id}"))
    session.flush()
    audit(session, actor=caller.actor, action="finding.measure", entity="finding",
          entity_id=finding.id, before=before,
          after={"measurement_id": row.id, "field_distance_m": distance_m,
                 "field_verdict": verdict, "method": method, "instrument": instrument,
                 "measurers": people, "measured_on": measured_on, "evidence_id": evidence_id})
    return row


def as_dict(row: FieldMeasurement) -> dict[str, Any]:
    """A field measurement as people and clients read it."""
    return {"id": row.id, "finding_id": row.finding_id, "distance_m": row.distance_m,
            "method": row.method, "instrument": row.instrument, "measurers": row.measurers,
            "measured_on": row.measured_on, "evidence_id": row.evidence_id,
            "verdict": row.verdict, "verdict_name": FIELD_VERDICT_LABELS[row.verdict],
            "recorded_by": row.recorded_by, "recorded_at": row.recorded_at}


def list_measurements(session: Session, finding_id: int,
                      scope: Scope | None = None) -> list[dict[str, Any]]:
    """The field measurements of a case the scope reaches, oldest first."""
    reachable(session, finding_id, scope)
    rows = session.scalars(select(FieldMeasurement)
                           .where(FieldMeasurement.finding_id == finding_id)
                           .order_by(FieldMeasurement.recorded_at, FieldMeasurement.id)).all()
    return [as_dict(r) for r in rows]

