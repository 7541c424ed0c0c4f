"""Taking an action on a case: checks of `flow`, separation of duties, the event and audit row.

Who acts is the authenticated caller (a person or a key, with its role), never typed text.
The unit that rectified a case cannot 验收 or 销号 it; an approval is never the proposer's;
验收 needs evidence; 验收 and 销号 of a scan finding need the conflict to be gone (the premises
closed, moved out, or measured outside on site), checked again on the one evaluation path.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any, Protocol

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from zoneguard.domain import RED_CARD_DAYS, STEP_DAYS, FindingState, Role, Verdict
from zoneguard.errors import Forbidden, InvalidTransition, NotFound, ValidationError
from zoneguard.labels import STATE_LABELS
from zoneguard.models import Evidence, FieldMeasurement, Finding, FindingEvent, Premises, School
from zoneguard.services.access.audit import audit
from zoneguard.services.access.keys import Scope
from zoneguard.services.access.principal import ROLE_LABELS
from zoneguard.services.cases.findings import scoped
from zoneguard.services.cases.flow import (
    BY_CODE,
    Action,
    Closing,
    Need,
    actions_from,
)
from zoneguard.settings import Settings

MIN_COMMENT = 4  # characters: "存量" alone does not explain a closing
S = FindingState


class Caller(Protocol):
    """Who acts: an authenticated person or key (its `actor` name and its role)."""

    @property
    def actor(self) -> str:
        """How the records name the caller."""
        ...

    @property
    def role(self) -> Role:
        """The caller's role."""
        ...


def _text(value: str | None) -> str | None:
    return value.strip() or None if value is not None else None


def _locked(session: Session, finding_id: int, scope: Scope | None) -> Finding:
    query = select(Finding).outerjoin(Premises, Premises.id == Finding.premises_id) \
        .join(School, School.id == Finding.school_id) \
        .where(Finding.id == finding_id).with_for_update(of=Finding)
    finding: Finding | None = session.scalars(scoped(query, scope)).first()
    if finding is None:
        raise NotFound(f"问题 {finding_id} 不存在"
                       + ("" if scope is None or scope.unrestricted else "或不在您的权限范围内"))
    return finding


def _action(finding: Finding, code: str, caller: Caller) -> Action:
    action = BY_CODE.get(code)
    if action is None:
        known = "、".join(f"{a.code}（{a.label}）" for a in BY_CODE.values())
        raise ValidationError(f"未知操作 {code!r}；可用操作：{known}")
    state = S(finding.state)
    if state not in action.sources:
        options = "、".join(f"{a.code}（{a.label}）" for a in actions_from(state)) or "无（已办结）"
        raise InvalidTransition(
            f"问题 {finding.id} 当前为“{STATE_LABELS[state]}”，不能{action.label}；"
            f"可进行的操作：{options}",
            state=state.value, allowed=[a.code for a in actions_from(state)])
    if caller.role not in action.roles:
        raise Forbidden(f"“{ROLE_LABELS[caller.role]}”角色不能{action.label}")
    return action


def _evidence_count(session: Session, finding_id: int) -> int:
    return int(session.scalar(select(func.count()).select_from(Evidence)
                              .where(Evidence.finding_id == finding_id)) or 0)


def conflict_remains(session: Session, finding: Finding, settings: Settings) -> str | None:
    """Why a scan finding is still in conflict now (None when the conflict is gone).

    Gone: the premises is no longer active, or the latest field measurement is outside the
    distance, or measured again now (screening path) the pair is no longer in conflict.
    """
    if finding.kind == "facility":  # the required facility must now be registered
        from zoneguard.services.facilities.check import still_missing
        from zoneguard.services.rulesets import current_rule_set
        from zoneguard.settings import local_today

        return still_missing(session, finding, rules=current_rule_set(settings),
                             on=local_today(settings.timezone))
    if finding.kind != "scan" or finding.premises_id is None:
        return None
    if finding.field_verdict == Verdict.ALLOWED.value:
        return None
    premises = session.get(Premises, finding.premises_id)
    if premises is None or premises.status not in ("active", "suspended"):
        return None
    from zoneguard.services.screening import remeasure  # the one evaluation path

    verdict = remeasure(session, premises_id=finding.premises_id, school_id=finding.school_id,
                        rule_id=finding.rule_id, settings=settings)
    if verdict is None or verdict is Verdict.ALLOWED:
        return None
    still = "需复核" if verdict is Verdict.REVIEW else "不符合距离要求"
    return (f"场所“{premises.name}”仍在营，且按现行规则重新测算仍{still}："
            "应待场所关闭、迁出，或现场测量在规定距离外后再办")


def _check(session: Session, finding: Finding, action: Action, caller: Caller, *,
           comment: str | None, assignee: str | None, deadline: date | None,
           closing: str | None, today: date, settings: Settings) -> None:
    needs = set(action.needs)
    if Need.COMMENT in needs and (comment is None or len(comment) < MIN_COMMENT):
        raise ValidationError(f"{action.label}需填写说明（至少 {MIN_COMMENT} 个字），"
                              "写明做了什么、核实了什么")
    if Need.ASSIGNEE in needs and assignee is None:
        raise ValidationError("交办需指定责任单位")
    if assignee is not None and Need.ASSIGNEE not in needs:
        raise ValidationError("只有交办时才指定责任单位")
    if deadline is not None and deadline < today:
        raise ValidationError(f"整改期限 {deadline.isoformat()} 早于今天")
    if deadline is not None and Need.ASSIGNEE not in needs:
        raise ValidationError("整改期限在交办时确定")
    if Need.CLOSING in needs:
        _check_closing(session, finding, closing)
    elif closing is not None:
        raise ValidationError("办结理由只在拟办结时填写")
    if Need.EVIDENCE in needs and _evidence_count(session, finding.id) == 0:
        raise ValidationError(f"{action.label}前须上传至少一份证据材料（照片或 PDF）")
    if Need.OTHER_THAN_RECTIFIER in needs and caller.actor == finding.rectified_by:
        raise Forbidden(f"整改人员不能{action.label}自己整改的问题：须由其他人员办理")
    if Need.OTHER_THAN_PROPOSER in needs and caller.actor == finding.proposed_by:
        raise Forbidden(f"提出办结的人员不能{action.label}自己的提议：须由其他人员审批")
    if Need.CONFLICT_GONE in needs:
        still = conflict_remains(session, finding, settings)
        if still is not None:
            raise ValidationError(f"不能{action.label}：{still}")


def _check_closing(session: Session, finding: Finding, closing: str | None) -> None:
    known = "、".join(f"{c.value}（{STATE_LABELS[S(c.value)]}）" for c in Closing)
    if closing is None or closing not in set(Closing):
        raise ValidationError(f"拟办结需选择理由：{known}")
    if closing == Closing.RETAINED and not finding.existing:
        raise ValidationError("依法保留只适用于存量场所（许可早于学校设立或规则施行）")
    if closing == Closing.UNFOUNDED:
        measured = session.scalar(select(func.count()).select_from(FieldMeasurement)
                                  .where(FieldMeasurement.finding_id == finding.id))
        if not measured and _evidence_count(session, finding.id) == 0:
            raise ValidationError("核查不属实须有现场测量记录或证据材料")


def _snapshot(finding: Finding) -> dict[str, Any]:
    return {"state": finding.state, "assignee": finding.assignee, "deadline": finding.deadline,
            "step_due": finding.step_due, "resolution": finding.resolution}


def _enter(finding: Finding, target: FindingState, today: date) -> None:
    finding.state = target.value
    if target is S.RECTIFYING:
        finding.step_due = finding.deadline or today + timedelta(days=STEP_DAYS[target])
    elif target in STEP_DAYS:
        finding.step_due = today + timedelta(days=STEP_DAYS[target])
    else:
        finding.step_due = None


def act(
    session: Session,
    finding_id: int,
    *,
    action: str,
    caller: Caller,
    comment: str | None = None,
    assignee: str | None = None,
    deadline: date | None = None,
    closing: str | None = None,
    scope: Scope | None = None,
    today: date,
    settings: Settings,
) -> Finding:
    """Take `action` on a case as `caller`, recording the event and the audit row."""
    comment, assignee, closing = map(_text, (comment, assignee, closing))
    finding = _locked(session, finding_id, scope)
    step = _action(finding, action, caller)
    _check(session, finding, step, caller, comment=comment, assignee=assignee,
           deadline=deadline, closing=closing, today=today, settings=settings)
    before = _snapshot(finding)
    from_state = finding.state
    target = step.target
    if step.code == "approve":
        target = S(finding.proposed_closing or "special")
    elif step.code == "decline":
        target = S(finding.proposed_from or S.FOUND.value)
    assert target is not None
    if step.code == "assign":
        finding.assignee = assignee
        finding.deadline = deadline or today + timedelta(days=STEP_DAYS[S.RECTIFYING])
    if step.code == "submit":
        finding.rectified_by = caller.actor
    if step.code == "propose":
        finding.proposed_by, finding.proposed_closing = caller.actor, closing
        finding.proposed_from = finding.state
    if step.code in ("approve", "decline"):
        proposed = STATE_LABELS[S(finding.proposed_closing or "special")]
        proposal = f"{proposed}（{finding.proposed_by}提议）"
        comment = f"{comment}；{proposal}" if comment else proposal
        finding.proposed_by = finding.proposed_closing = finding.proposed_from = None
    _enter(finding, target, today)
    if target in (S.CLOSED, S.UNFOUNDED, S.RETAINED, S.SPECIAL):
        finding.resolved_at = func.now()  # the database clock, written at flush
        finding.resolution = f"{STATE_LABELS[target]}：{comment or step.label}"
        finding.rebound = False
    session.add(FindingEvent(finding_id=finding.id, actor=caller.actor, from_state=from_state,
                             to_state=target.value, comment=comment or step.label,
                             assignee=finding.assignee, deadline=finding.deadline,
                             distance_m=finding.distance_m))
    session.flush()
    audit(session, actor=caller.actor, action=f"finding.{step.code}", entity="finding",
          entity_id=finding.id, before=before, after={**_snapshot(finding), "comment": comment})
    session.flush()
    return finding


def supervision_level(state: str, step_due: date | None, today: date,
                      ordered: bool = False) -> str | None:
    """督办 level: red (红牌) beyond RED_CARD_DAYS overdue or 挂牌督办, yellow (黄牌) overdue."""
    if ordered:
        return "red"
    if step_due is None or S(state) not in STEP_DAYS or step_due >= today:
        return None
    return "red" if (today - step_due).days > RED_CARD_DAYS else "yellow"
