"""The workflow as data: states, actions, who may take them and what each needs.

The CLI, the API (`GET /api/v1/workflow`), the workbench and the docs all read this one
description (states with their Chinese names); `workflow.act` enforces it.

The loop is the source policies' own: 发现 → 上报 → 交办 → 整改 → 验收 → 销号, 退回整改 on a
failed 验收, and closings other than 销号 (核查不属实, 依法保留（存量，到期处理）, 经批准的特殊
情形) proposed by one person and approved by another with governance rights.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from zoneguard.domain import RED_CARD_DAYS, STEP_DAYS, FindingState, Role
from zoneguard.labels import STATE_LABELS

S = FindingState
LOOP_WORDS = ("排查", "上报", "交办", "整改", "验收", "销号")

class Closing(StrEnum):
    """Closings other than 销号: each is proposed, then approved by someone else."""

    UNFOUNDED = "unfounded"
    RETAINED = "retained"
    SPECIAL = "special"


class Need(StrEnum):
    """What an action needs besides its role."""

    COMMENT = "comment"  # a comment saying what was done or checked
    ASSIGNEE = "assignee"  # the responsible unit (责任单位)
    EVIDENCE = "evidence"  # at least one uploaded piece of evidence
    CLOSING = "closing"  # a closing reason: unfounded | retained | special
    OTHER_THAN_RECTIFIER = "other_than_rectifier"  # not the person who rectified
    OTHER_THAN_PROPOSER = "other_than_proposer"  # not the person who proposed
    CONFLICT_GONE = "conflict_gone"  # the premises closed, moved out or measured outside


GOVERN = frozenset({Role.ADMIN, Role.GOVERNANCE})
HANDLE = frozenset({Role.ADMIN, Role.GOVERNANCE, Role.BUREAU})
REPORT = frozenset({Role.ADMIN, Role.GOVERNANCE, Role.BUREAU, Role.GRID, Role.SCHOOL})


@dataclass(frozen=True)
class Action:
    """One step of the loop: from which states to which, who may take it, what it needs."""

    code: str
    label: str
    sources: tuple[FindingState, ...]
    target: FindingState | None  # None: approve → the proposed closing; decline → back
    roles: frozenset[Role]
    needs: tuple[Need, ...] = ()


ACTIONS: tuple[Action, ...] = (
    Action("report", "上报", (S.FOUND,), S.REPORTED, REPORT),
    Action("assign", "交办", (S.REPORTED, S.ASSIGNED), S.ASSIGNED, GOVERN, (Need.ASSIGNEE,)),
    Action("start", "开始整改", (S.ASSIGNED,), S.RECTIFYING, HANDLE),
    Action("submit", "整改完成，提请验收", (S.RECTIFYING,), S.TO_ACCEPT, HANDLE,
           (Need.COMMENT, Need.EVIDENCE)),
    Action("reject", "退回整改", (S.TO_ACCEPT,), S.RECTIFYING, GOVERN,
           (Need.COMMENT, Need.OTHER_THAN_RECTIFIER)),
    Action("accept", "验收", (S.TO_ACCEPT,), S.ACCEPTED, GOVERN,
           (Need.EVIDENCE, Need.OTHER_THAN_RECTIFIER, Need.CONFLICT_GONE)),
    Action("close", "销号", (S.ACCEPTED,), S.CLOSED, GOVERN,
           (Need.OTHER_THAN_RECTIFIER, Need.CONFLICT_GONE)),
    Action("propose", "拟办结（核查不属实、依法保留或特殊情形）",
           (S.FOUND, S.REPORTED, S.ASSIGNED, S.RECTIFYING, S.TO_ACCEPT), S.PROPOSED, HANDLE,
           (Need.CLOSING, Need.COMMENT)),
    Action("approve", "批准办结", (S.PROPOSED,), None, GOVERN, (Need.OTHER_THAN_PROPOSER,)),
    Action("decline", "不予批准，退回", (S.PROPOSED,), None, GOVERN,
           (Need.COMMENT, Need.OTHER_THAN_PROPOSER)),
)
BY_CODE = {action.code: action for action in ACTIONS}



def actions_from(state: FindingState | str, role: Role | None = None) -> list[Action]:
    """The actions a case in `state` allows (to `role`, when given)."""
    current = FindingState(state)
    return [a for a in ACTIONS if current in a.sources and (role is None or role in a.roles)]


def describe() -> dict[str, object]:
    """The workflow as JSON: states, actions, roles and needs (for clients and docs)."""
    return {
        "loop": list(LOOP_WORDS),
        "states": [{"code": s.value, "name": STATE_LABELS[s]} for s in FindingState],
        "actions": [{"code": a.code, "name": a.label, "from": [s.value for s in a.sources],
                     "to": None if a.target is None else a.target.value,
                     "roles": sorted(r.value for r in a.roles),
                     "needs": [n.value for n in a.needs]} for a in ACTIONS],
        "closings": [{"code": c.value, "name": STATE_LABELS[FindingState(c.value)]}
                     for c in Closing],
        "step_days": {s.value: d for s, d in STEP_DAYS.items()},
        "red_card_days": RED_CARD_DAYS,
    }
