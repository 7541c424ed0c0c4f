"""督办: 挂牌督办 with a 督办单 (number, issuing office, deadline, requirements), lifting it, 约谈.

Governance (and admin) issue and lift 督办单 and record 约谈. An active 督办单 makes its case
红牌 (`services.findings.supervision_sql`); the 督办单, its lifting and each 约谈 about a case
are written into the case's history and the audit log.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from zoneguard.domain import CLOSED_STATES, FindingState
from zoneguard.errors import Conflict, Forbidden, NotFound, ValidationError
from zoneguard.labels import STATE_LABELS
from zoneguard.models import Finding, FindingEvent, Interview, SupervisionOrder
from zoneguard.services.access.audit import audit
from zoneguard.services.access.keys import Scope
from zoneguard.services.access.principal import ROLE_LABELS
from zoneguard.services.cases.evidence import reachable
from zoneguard.services.cases.flow import GOVERN
from zoneguard.services.cases.workflow import Caller

MIN_TEXT = 4  # characters of requirements and summaries


def _governs(caller: Caller, what: str) -> None:
    if caller.role not in GOVERN:
        raise Forbidden(f"“{ROLE_LABELS[caller.role]}”角色不能{what}：须由综治办或管理员办理")


def _text(value: str | None, name: str, *, least: int = 1, most: int = 500) -> str:
    cleaned = (value or "").strip()
    if len(cleaned) < least:
        raise ValidationError(f"须填写{name}" + (f"（至少 {least} 个字）" if least > 1 else ""))
    if len(cleaned) > most:
        raise ValidationError(f"{name}不能超过 {most} 字")
    if "\x00" in cleaned:
        raise ValidationError(f"{name}含有不可见的控制字符")
    return cleaned


def _event(session: Session, finding: Finding, caller: Caller, comment: str) -> None:
    session.add(FindingEvent(finding_id=finding.id, actor=caller.actor,
                             from_state=finding.state, to_state=finding.state, comment=comment,
                             assignee=finding.assignee, deadline=finding.deadline,
                             distance_m=finding.distance_m))


def issue_order(
    session: Session, finding_id: int, *, number: str, office: str, deadline: date,
    requirements: str, caller: Caller, scope: Scope | None, today: date,
) -> SupervisionOrder:
    """挂牌督办: issue a 督办单 for an open case (its number unique, its deadline not past)."""
    _governs(caller, "挂牌督办")
    number = _text(number, "督办单编号", most=100)
    office = _text(office, "督办单位", most=200)
    requirements = _text(requirements, "督办要求", least=MIN_TEXT, most=4000)
    if deadline < today:
        raise ValidationError(f"督办期限 {deadline.isoformat()} 早于今天")
    finding = reachable(session, finding_id, scope)
    session.refresh(finding, with_for_update=True)
    if FindingState(finding.state) in CLOSED_STATES:
        state = STATE_LABELS[FindingState(finding.state)]
        raise Conflict(f"问题 {finding_id} 已办结（{state}），不能挂牌督办")
    taken = session.scalar(select(SupervisionOrder.finding_id)
                           .where(SupervisionOrder.number == number))
    if taken is not None:
        raise Conflict(f"督办单编号 {number} 已被使用（问题 {taken}）")
    active = session.scalar(select(SupervisionOrder.number).where(
        SupervisionOrder.finding_id == finding.id, SupervisionOrder.lifted_on.is_(None)))
    if active is not None:
        raise Conflict(f"问题 {finding_id} 已挂牌督办（督办单 {active}），解除后才能再发督办单")
    order = SupervisionOrder(finding_id=finding.id, number=number, office=office,
                             issued_on=today, deadline=deadline, requirements=requirements,
                             issued_by=caller.actor)
    session.add(order)
    _event(session, finding, caller, f"挂牌督办：{office}督办单 {number}，"
                                     f"期限 {deadline.isoformat()}；要求：{requirements}")
    session.flush()
    audit(session, actor=caller.actor, action="supervision.order", entity="finding",
          entity_id=finding.id, after={"order_id": order.id, "number": number, "office": office,
                                       "deadline": deadline, "requirements": requirements})
    return order


def lift_order(session: Session, order_id: int, *, caller: Caller, comment: str | None = None,
               scope: Scope | None, today: date) -> SupervisionOrder:
    """Lift an active 督办单 (解除督办); the case is red again only if long overdue."""
    _governs(caller, "解除督办")
    order = session.get(SupervisionOrder, order_id, with_for_update=True)
    if order is None:
        raise NotFound(f"督办单 {order_id} 不存在")
    finding = reachable(session, order.finding_id, scope)
    if order.lifted_on is not None:
        raise Conflict(f"督办单 {order.number} 已于 {order.lifted_on.isoformat()} 解除")
    note = None if comment is None or not comment.strip() else \
        _text(comment, "说明", most=2000)
    order.lifted_on, order.lifted_by = today, caller.actor
    _event(session, finding, caller, f"解除督办：督办单 {order.number}"
                                     + (f"；{note}" if note else ""))
    session.flush()
    audit(session, actor=caller.actor, action="supervision.lift", entity="finding",
          entity_id=finding.id, before={"order_id": order.id, "lifted_on": None},
          after={"order_id": order.id, "number": order.number, "lifted_on": today,
                 "comment": note})
    return order


def record_interview(
    session: Session, *, unit: str, held_on: date, participants: str, summary: str,
    finding_id: int | None = None, caller: Caller, scope: Scope | None, today: date,
) -> Interview:
    """Record a 约谈 of a responsible unit (about one case, when given)."""
    _governs(caller, "记录约谈")
    unit = _text(unit, "约谈对象（单位）", most=200)
    participants = _text(participants, "参加人员", most=1000)
    summary = _text(summary, "约谈内容", least=MIN_TEXT, most=4000)
    if held_on > today:
        raise ValidationError(f"约谈日期 {held_on.isoformat()} 晚于今天")
    finding = None if finding_id is None else reachable(session, finding_id, scope)
    interview = Interview(finding_id=None if finding is None else finding.id, unit=unit,
                          held_on=held_on, participants=participants, summary=summary,
                          recorded_by=caller.actor)
    session.add(interview)
    if finding is not None:
        _event(session, finding, caller, f"约谈 {unit}（{held_on.isoformat()}）：{summary}")
    session.flush()
    audit(session, actor=caller.actor, action="interview.record", entity="interview",
          entity_id=interview.id, after={"finding_id": finding_id, "unit": unit,
                                         "held_on": held_on, "participants": participants,
                                         "summary": summary})
    return interview
