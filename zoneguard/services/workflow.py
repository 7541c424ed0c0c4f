"""The case workflow of a finding: 排查 → 上报 → 交办 → 整改 → 验收 → 销号.

open → assigned → rectifying → rectified → verified_closed; `rectified → rectifying` sends a
rectification back when verification fails; any open state may be `exempted` with a reason
(grandfathered | field_measurement | rule_exception) and a comment. `resolved` and re-opening
belong to rescans (see `scan`). Every transition writes a `finding_event` and an `audit_log`.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from zoneguard.domain import FindingState
from zoneguard.errors import InvalidTransition, NotFound, ValidationError
from zoneguard.models import Finding, FindingEvent, Premises
from zoneguard.services.audit import audit
from zoneguard.services.findings import get_finding, local_today
from zoneguard.services.keys import Scope
from zoneguard.settings import get_settings

__all__ = ["TRANSITIONS", "ExemptionReason", "allowed_next", "get_finding", "transition"]

S = FindingState
TRANSITIONS: dict[FindingState, tuple[FindingState, ...]] = {
    S.OPEN: (S.ASSIGNED, S.EXEMPTED),
    S.ASSIGNED: (S.ASSIGNED, S.RECTIFYING, S.EXEMPTED),  # assigned → assigned: hand over
    S.RECTIFYING: (S.RECTIFIED, S.EXEMPTED),
    S.RECTIFIED: (S.VERIFIED_CLOSED, S.RECTIFYING, S.EXEMPTED),
    S.VERIFIED_CLOSED: (),
    S.EXEMPTED: (),
    S.RESOLVED: (),
}
_CLOSING = (S.VERIFIED_CLOSED, S.EXEMPTED)


class ExemptionReason(StrEnum):
    """Why a finding is exempted."""

    GRANDFATHERED = "grandfathered"
    FIELD_MEASUREMENT = "field_measurement"
    RULE_EXCEPTION = "rule_exception"


def allowed_next(state: str) -> tuple[FindingState, ...]:
    """The states a finding in `state` may move to by hand."""
    return TRANSITIONS[FindingState(state)]


def _text(value: str | None) -> str | None:
    return value.strip() or None if value is not None else None


def _check(finding: Finding, to: FindingState, *, comment: str | None, assignee: str | None,
           deadline: date | None, reason: str | None, today: date) -> None:
    current = FindingState(finding.state)
    nexts = TRANSITIONS[current]
    if to not in nexts:
        options = ", ".join(s.value for s in nexts) or "none (the case is closed)"
        raise InvalidTransition(
            f"finding {finding.id} is {current.value}: it cannot move to {to.value}; "
            f"allowed next states: {options}",
            state=current.value, allowed=[s.value for s in nexts])
    if to is S.ASSIGNED and assignee is None:
        raise ValidationError("assigning a finding needs an assignee (bureau or person)")
    if assignee is not None and to is not S.ASSIGNED:
        raise ValidationError("an assignee is given only when assigning (--to assigned)")
    if deadline is not None and deadline < today:
        raise ValidationError(f"deadline {deadline.isoformat()} is in the past")
    if to is S.EXEMPTED:
        known = ", ".join(r.value for r in ExemptionReason)
        if reason is None or reason not in set(ExemptionReason):
            raise ValidationError(f"an exemption needs a reason: one of {known}")
        if comment is None:
            raise ValidationError("an exemption needs a comment saying what was checked")
    elif reason is not None:
        raise ValidationError("a reason is given only when exempting (--to exempted)")
    if current is S.RECTIFIED and to is S.RECTIFYING and comment is None:
        raise ValidationError("sending a rectification back needs a comment saying what failed")


def _snapshot(finding: Finding) -> dict[str, Any]:
    return {"state": finding.state, "assignee": finding.assignee, "deadline": finding.deadline,
            "resolution": finding.resolution}


def transition(
    session: Session,
    finding_id: int,
    *,
    to_state: FindingState | str,
    actor: str,
    comment: str | None = None,
    evidence: str | None = None,
    assignee: str | None = None,
    deadline: date | None = None,
    reason: str | None = None,
    scope: Scope | None = None,
) -> Finding:
    """Move a finding to `to_state`, recording the event and the audit row; return it."""
    try:
        to = FindingState(to_state)
    except ValueError:
        known = ", ".join(s.value for s in FindingState)
        raise ValidationError(f"unknown state {to_state!r}; one of {known}") from None
    if not actor.strip():
        raise ValidationError("a transition needs an actor")
    comment, evidence, assignee, reason = map(_text, (comment, evidence, assignee, reason))
    query = select(Finding).join(Premises, Premises.id == Finding.premises_id) \
        .where(Finding.id == finding_id).with_for_update(of=Finding)
    if scope is not None and scope.categories is not None:
        query = query.where(Premises.category.in_(sorted(scope.categories)))
    if scope is not None and scope.region_prefix is not None:
        query = query.where(Premises.region.startswith(scope.region_prefix, autoescape=True))
    finding = session.scalars(query).first()
    if finding is None:
        raise NotFound(f"finding {finding_id} does not exist"
                       + ("" if scope is None or scope.unrestricted else " in your scope"))
    today = local_today(get_settings().timezone)
    _check(finding, to, comment=comment, assignee=assignee, deadline=deadline, reason=reason,
           today=today)
    before = _snapshot(finding)
    from_state = finding.state
    finding.state = to.value
    if to is S.ASSIGNED:
        finding.assignee = assignee
    if deadline is not None:
        finding.deadline = deadline
    if to in _CLOSING:
        finding.resolved_at = func.now()  # the database clock, written at flush
        finding.resolution = f"{reason}: {comment}" if to is S.EXEMPTED else \
            (comment or "rectification verified")
    note = f"[{reason}] {comment}" if to is S.EXEMPTED else comment
    session.add(FindingEvent(finding_id=finding.id, actor=actor, from_state=from_state,
                             to_state=to.value, comment=note, evidence=evidence,
                             assignee=finding.assignee, deadline=finding.deadline,
                             distance_m=finding.distance_m))
    session.flush()
    audit(session, actor=actor, action=f"finding.{to.value}", entity="finding",
          entity_id=finding.id, before=before,
          after={**_snapshot(finding), "comment": comment, "evidence": evidence})
    session.flush()
    return finding
