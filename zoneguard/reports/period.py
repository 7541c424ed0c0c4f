"""Period statistics (月报、季报、年报) of the case loop, all derived from `finding_event`.

Every figure is computed from the state changes of the cases in the caller's scope, on
Beijing dates (`finding_event.at` in Asia/Shanghai); the definitions are in `DEFINITIONS`
(printed in the workbook's notes and in docs/reports.md). Cases are grouped by 区 (the
6-digit district of the premises' region, else the school's), 街道 (9 digits when known),
责任单位 (finding.assignee), school or category.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from functools import lru_cache
from typing import Any

import numpy as np

from zoneguard import regions
from zoneguard.domain import ACTIVE_STATES, STEP_DAYS, FindingState
from zoneguard.errors import ValidationError
from zoneguard.labels import STATE_LABELS
from zoneguard.reports.period_data import Case, CaseData
from zoneguard.reports.periods import Period
from zoneguard.reports.problem_labels import category_name

S = FindingState
ACTIVE = frozenset(s.value for s in ACTIVE_STATES)
OTHER_CLOSINGS = frozenset({S.UNFOUNDED.value, S.RETAINED.value, S.SPECIAL.value})
CLOSINGS = OTHER_CLOSINGS | {S.CLOSED.value}
COUNTS: tuple[tuple[str, str], ...] = (
    ("new", "本期新增"), ("reported", "本期上报"), ("assigned", "本期交办"),
    ("rectified", "本期整改完成"), ("accepted", "本期验收"), ("closed", "本期销号"),
    ("other_closed", "本期其他办结"), ("resolved", "本期自动解除"), ("open_end", "期末未办结"),
    ("overdue_end", "期末逾期"), ("supervised", "本期挂牌督办"), ("interviews", "本期约谈"),
    ("rebounds", "本期反弹"),
)
RATES: tuple[tuple[str, str, str, str], ...] = (
    ("rectify_rate", "整改率", "rectified_total", "assigned_total"),
    ("on_time_rate", "按期办结率", "closed_on_time", "closings"),
    ("rebound_rate", "反弹率", "rebounds", "closed_total"),
)
PARTS: tuple[tuple[str, str], ...] = (
    ("assigned_total", "累计交办"), ("rectified_total", "累计验收或销号"),
    ("closings", "本期办结"), ("closed_on_time", "本期按期办结"), ("closed_total", "累计销号"),
)
DEFINITIONS: tuple[tuple[str, str], ...] = (
    ("统计口径", "全部数字由问题流转记录（finding_event）计算，时间按北京时间（Asia/Shanghai）"
             "换算为日期；“本期”指统计期间首日至末日（含），“期末”指末日 24 时。"
             "各项“本期”数字均为问题数（同一问题本期多次进入同一状态只计一次），反弹为次数。"),
    ("本期新增", "问题首次进入“发现（排查）”状态的日期在本期内。"),
    ("本期上报", "本期内有进入“已上报”的流转。"),
    ("本期交办", "本期内有进入“已交办”的流转（含改派，按问题去重）。"),
    ("本期整改完成", "本期内有进入“待验收”的流转（整改完成，提请验收）。"),
    ("本期验收", "本期内有进入“已验收”的流转。"),
    ("本期销号", "本期内有进入“已销号”的流转。"),
    ("本期其他办结", "本期内有进入“核查不属实”“依法保留”或“经批准的特殊情形”的流转。"),
    ("本期自动解除", "本期内有进入“自动解除”的流转（场所注销、迁移或规则变更）。"),
    ("期末未办结", "期末时的状态（期末及以前最后一次流转进入的状态）属于未办结状态："
                "发现、已上报、已交办、整改中、待验收、拟办结待审批。"),
    ("期末逾期", "期末未办结，且该状态的期限早于期末：整改中以进入整改的流转记录的整改期限"
              "为准，其他状态（及无整改期限时）为进入该状态之日加该环节时限（"
              + "、".join(f"{STATE_LABELS[s]} {d} 天" for s, d in STEP_DAYS.items()
                         if s.value in ACTIVE) + "）。"),
    ("本期挂牌督办", "督办单签发日期在本期内的份数。"),
    ("本期约谈", "约谈日期在本期内的次数（未关联问题的约谈只计入不限范围的报表）。"),
    ("本期反弹", "本期内说明以“反弹”开头的流转次数（验收或销号后复查仍在距离内）。"),
    ("整改率", "期末累计进入“已验收”或“已销号”的问题数 ÷ 期末累计交办问题数。"),
    ("按期办结率", "本期办结（销号或其他办结）的问题中，办结日不晚于整改期限的问题数 ÷ "
                "本期办结问题数；从未设定整改期限的办结视为按期。"),
    ("反弹率", "本期反弹次数 ÷ 期末累计销号问题数。"),
    ("比率", "以百分数表示，保留一位小数；分母为 0 时记“—”。"),
    ("环比", "与上一同类期间（上月、上季度、上年，自定义期间为紧邻的等长期间）相比的增减；"
           "比率的环比为百分点。"),
)
GROUPINGS = {"district": "按区", "street": "按街道", "unit": "按责任单位", "school": "按学校",
             "category": "按类别"}
UNASSIGNED = "未交办"
NO_CASE = "（未关联问题）"


@dataclass(frozen=True)
class Group:
    """One row of a grouped table: a key for sorting and machines, a name for people."""

    key: str
    name: str


FIELDS: tuple[str, ...] = tuple(k for k, _ in COUNTS) + tuple(k for k, _ in PARTS)
_AT = {key: i for i, key in enumerate(FIELDS)}
_ENTERED = (("reported", "reported"), ("assigned", "assigned"), ("rectified", "to_accept"),
            ("accepted", "accepted"), ("closed", "closed"), ("resolved", "resolved"))


def _counts(case: Case, p: Period) -> list[int]:
    """One case's contribution to period `p`, in FIELDS order (one pass over its events)."""
    out = [0] * len(FIELDS)
    entered: set[str] = set()
    reached: set[str] = set()
    first_found = last = closing = closing_deadline = deadline = None
    for e in case.events:  # oldest first
        if e.day > p.end:
            break
        deadline = e.deadline or deadline
        if first_found is None and e.to_state == "found":
            first_found = e.day
        reached.add(e.to_state)
        last = e
        if e.day >= p.start:
            entered.add(e.to_state)
            if e.comment is not None and e.comment.startswith("反弹"):
                out[_AT["rebounds"]] += 1
            if e.to_state in CLOSINGS:
                closing, closing_deadline = e, deadline
    out[_AT["new"]] = int(first_found is not None and first_found >= p.start)
    for key, state in _ENTERED:
        out[_AT[key]] = int(state in entered)
    out[_AT["other_closed"]] = int(bool(entered & OTHER_CLOSINGS))
    out[_AT["supervised"]] = sum(1 for d in case.orders if p.start <= d <= p.end)
    out[_AT["interviews"]] = sum(1 for d in case.interviews if p.start <= d <= p.end)
    if last is not None and last.to_state in ACTIVE:
        state = S(last.to_state)
        due = last.deadline if state is S.RECTIFYING and last.deadline else \
            last.day + timedelta(days=STEP_DAYS[state])
        out[_AT["open_end"]] = 1
        out[_AT["overdue_end"]] = int(due < p.end)
    out[_AT["assigned_total"]] = int("assigned" in reached)
    out[_AT["rectified_total"]] = int(bool(reached & {"accepted", "closed"}))
    out[_AT["closed_total"]] = int("closed" in reached)
    if closing is not None:
        out[_AT["closings"]] = 1
        out[_AT["closed_on_time"]] = int(closing_deadline is None
                                         or closing.day <= closing_deadline)
    return out


def rate(numerator: int, denominator: int) -> float | None:
    """A percentage with one decimal; None when the denominator is 0."""
    return None if denominator == 0 else round(100.0 * numerator / denominator, 1)


def _finish(totals: Sequence[int] | np.ndarray) -> dict[str, Any]:
    out: dict[str, Any] = {key: int(v) for key, v in zip(FIELDS, totals, strict=True)}
    for key, _, num, den in RATES:
        out[key] = rate(out[num], out[den])
    return out


def district_of(case: Case) -> str | None:
    """The 6-digit district of a case (its region when shorter; None when unknown)."""
    return case.region[:6] if case.region and len(case.region) >= 6 else case.region or None


def group_of(by: str) -> Callable[[Case], Group]:
    """The grouping function of `by` (district, street, unit, school, category)."""
    named = lru_cache(maxsize=None)(regions.labelled)

    def district(case: Case) -> Group:
        code = district_of(case)
        return Group(code or "", named(code) if code else "（区划不详）")

    def street(case: Case) -> Group:
        if case.region and len(case.region) >= 9:
            return Group(case.region[:9], named(case.region[:9]))
        d = district(case)
        return Group(d.key + "~", f"{d.name}（街道不详）")

    makers: dict[str, Callable[[Case], Group]] = {
        "district": district, "street": street,
        "unit": lambda c: Group(c.assignee or "\uffff", c.assignee or UNASSIGNED),
        "school": lambda c: Group(c.school_code, f"{c.school_name}（{c.school_code}）"),
        "category": lambda c: Group(c.category or "\uffff", category_name(c.category, c.kind)),
    }
    if by not in makers:
        raise ValidationError(f"无法按 {by!r} 分组；可选 {', '.join(GROUPINGS)}")
    return makers[by]


def case_values(data: CaseData, p: Period) -> np.ndarray:
    """Each case's contribution to period `p`: one row per case, one column per FIELDS."""
    rows = [_counts(case, p) for case in data.cases]
    return np.array(rows, dtype=np.int64).reshape(len(rows), len(FIELDS))


def figures(data: CaseData, p: Period, by: str | None, values: np.ndarray | None = None,
            ) -> tuple[list[tuple[Group, dict[str, Any]]], dict[str, Any]]:
    """The figures of each group (sorted; none when `by` is None) and of all cases, for `p`.

    `values` are the cases' contributions to `p` (`case_values`), computed when not given.
    """
    matrix = case_values(data, p) if values is None else values
    total = matrix.sum(axis=0)
    sums: dict[Group, np.ndarray] = {}
    if by is not None:
        key_of = group_of(by)
        members: dict[Group, list[int]] = {}
        for i in np.flatnonzero(matrix.any(axis=1)):
            members.setdefault(key_of(data.cases[i]), []).append(int(i))
        sums = {g: matrix[idx].sum(axis=0) for g, idx in members.items()}
    loose = sum(1 for talk in data.loose_interviews if p.start <= talk.day <= p.end)
    total[_AT["interviews"]] += loose
    for talk in data.loose_interviews:
        if by is not None and p.start <= talk.day <= p.end:
            group = Group(talk.unit, talk.unit) if by == "unit" else Group("\uffff", NO_CASE)
            sums.setdefault(group, np.zeros(len(FIELDS), dtype=np.int64))[_AT["interviews"]] += 1
    rows = sorted(sums.items(), key=lambda item: item[0].key)
    return [(g, _finish(v)) for g, v in rows], _finish(total)


def change(now: dict[str, Any], before: dict[str, Any]) -> dict[str, Any]:
    """环比: the difference of every figure (percentage points for rates; None if unknown)."""
    keys: Iterable[str] = [k for k, _ in COUNTS] + [k for k, *_ in RATES]
    return {k: None if now[k] is None or before[k] is None else round(now[k] - before[k], 1)
            for k in keys}


def period_json(p: Period) -> dict[str, Any]:
    """A period as JSON."""
    return {"code": p.code, "kind": p.kind, "label": p.label, "start": p.start.isoformat(),
            "end": p.end.isoformat()}
