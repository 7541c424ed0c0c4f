"""Period statistics (月报、季报、年报) of the case loop, all derived from `finding_event`.

Every figure is computed from the state changes of the cases in the caller's scope, on
Beijing dates (`finding_event.at` in Asia/Shanghai); the definitions are in `DEFINITIONS`
(printed in the workbook's notes and in docs/reports.md). Cases are grouped by 区 (the
6-digit district of the premises' region, else the school's), 街道 (9 digits when known),
责任单位 (finding.assignee), school or category.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from zoneguard import regions
from zoneguard.domain import ACTIVE_STATES, FindingState
from zoneguard.errors import ValidationError
from zoneguard.labels import STATE_LABELS
from zoneguard.reports.period_data import Case, CaseData
from zoneguard.reports.periods import Period
from zoneguard.reports.problem_labels import category_name
from zoneguard.services.cases.flow import STEP_DAYS

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


def state_at_end(case: Case) -> str | None:
    """The state entered by the last event loaded (the events end at the period end)."""
    return case.events[-1].to_state if case.events else None


def _counts(case: Case, p: Period) -> dict[str, int]:
    inside = [e for e in case.events if p.start <= e.day <= p.end]
    upto = [e for e in case.events if e.day <= p.end]
    entered = {e.to_state for e in inside}
    found = [e.day for e in case.events if e.to_state == S.FOUND.value]
    out = {key: 0 for key, _ in COUNTS} | {key: 0 for key, _ in PARTS}
    out["new"] = int(bool(found) and p.start <= found[0] <= p.end)
    for key, state in (("reported", "reported"), ("assigned", "assigned"),
                       ("rectified", "to_accept"), ("accepted", "accepted"),
                       ("closed", "closed"), ("resolved", "resolved")):
        out[key] = int(state in entered)
    out["other_closed"] = int(bool(entered & OTHER_CLOSINGS))
    out["rebounds"] = sum(1 for e in inside if (e.comment or "").startswith("反弹"))
    out["supervised"] = sum(1 for d in case.orders if p.start <= d <= p.end)
    out["interviews"] = sum(1 for d in case.interviews if p.start <= d <= p.end)
    if upto and upto[-1].to_state in ACTIVE:
        last = upto[-1]
        state = S(last.to_state)
        due = last.deadline if state is S.RECTIFYING and last.deadline else \
            last.day + timedelta(days=STEP_DAYS[state])
        out["open_end"] = 1
        out["overdue_end"] = int(due < p.end)
    reached = {e.to_state for e in upto}
    out["assigned_total"] = int("assigned" in reached)
    out["rectified_total"] = int(bool(reached & {"accepted", "closed"}))
    out["closed_total"] = int("closed" in reached)
    closings = [i for i, e in enumerate(case.events) if e.to_state in CLOSINGS
                and p.start <= e.day <= p.end]
    if closings:
        i = closings[-1]
        deadline = next((e.deadline for e in reversed(case.events[:i + 1]) if e.deadline), None)
        out["closings"] = 1
        out["closed_on_time"] = int(deadline is None or case.events[i].day <= deadline)
    return out


def rate(numerator: int, denominator: int) -> float | None:
    """A percentage with one decimal; None when the denominator is 0."""
    return None if denominator == 0 else round(100.0 * numerator / denominator, 1)


def _finish(totals: dict[str, int]) -> dict[str, Any]:
    out: dict[str, Any] = dict(totals)
    for key, _, num, den in RATES:
        out[key] = rate(totals[num], totals[den])
    return out


def _empty() -> dict[str, int]:
    return {key: 0 for key, _ in COUNTS} | {key: 0 for key, _ in PARTS}


def _add(into: dict[str, int], values: dict[str, int]) -> None:
    for key, value in values.items():
        into[key] += value


def district_of(case: Case) -> str | None:
    """The 6-digit district of a case (its region when shorter; None when unknown)."""
    return case.region[:6] if case.region and len(case.region) >= 6 else case.region or None


def group_of(by: str) -> Callable[[Case], Group]:
    """The grouping function of `by` (district, street, unit, school, category)."""
    def district(case: Case) -> Group:
        code = district_of(case)
        return Group(code or "", regions.labelled(code) if code else "（区划不详）")

    def street(case: Case) -> Group:
        if case.region and len(case.region) >= 9:
            return Group(case.region[:9], regions.labelled(case.region[:9]))
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


def figures(data: CaseData, p: Period, by: str) -> tuple[list[tuple[Group, dict[str, Any]]],
                                                         dict[str, Any]]:
    """The figures of each group (sorted) and of all cases, for period `p`."""
    key_of = group_of(by)
    groups: dict[Group, dict[str, int]] = {}
    total = _empty()
    for case in data.cases:
        values = _counts(case, p)
        if not any(values.values()):
            continue
        _add(groups.setdefault(key_of(case), _empty()), values)
        _add(total, values)
    for talk in data.loose_interviews:
        if p.start <= talk.day <= p.end:
            name = talk.unit if by == "unit" else NO_CASE
            groups.setdefault(Group(name if by == "unit" else "\uffff", name),
                              _empty())["interviews"] += 1
            total["interviews"] += 1
    rows = sorted(groups.items(), key=lambda item: item[0].key)
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
