"""One period report as data: totals, 环比, every grouping, the trend of the last six periods.

The XLSX, the PDF and the API's JSON are all rendered from this one `PeriodReport`, so they
show the same numbers.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from zoneguard import regions
from zoneguard.errors import ValidationError
from zoneguard.reports.period import (
    COUNTS,
    GROUPINGS,
    PARTS,
    RATES,
    Group,
    case_values,
    change,
    figures,
    period_json,
)
from zoneguard.reports.period_data import TIMEZONE, CaseData, load_cases
from zoneguard.reports.periods import Period

TREND_PERIODS = 6


@dataclass
class PeriodReport:
    """The figures of one period in one scope, grouped every way."""

    period: Period
    region: str | None
    categories: list[str] | None
    generated_at: datetime  # Beijing time, naive
    data: CaseData
    total: dict[str, Any]
    previous_total: dict[str, Any]
    change: dict[str, Any]
    groups: dict[str, list[tuple[Group, dict[str, Any]]]]
    trend: list[tuple[Period, dict[str, Any]]]

    @property
    def scope_text(self) -> str:
        """The scope in words: region name and categories."""
        where = regions.full_name(self.region) if self.region else "全部区划"
        what = "、".join(self.categories) if self.categories else "全部类别"
        return f"{where}；{what}"


def build_report(session: Session, period: Period, *, region: str | None = None,
                 categories: list[str] | None = None, timezone: str = TIMEZONE,
                 now: datetime | None = None) -> PeriodReport:
    """Compute the report of `period` for the scope (region prefix, categories)."""
    data = load_cases(session, end=period.end, region=region, categories=categories,
                      timezone=timezone)
    cache = {p: case_values(data, p) for p in {period, period.previous(),
                                               *period.last(TREND_PERIODS)}}
    groups: dict[str, list[tuple[Group, dict[str, Any]]]] = {}
    total: dict[str, Any] = {}
    for by in GROUPINGS:
        groups[by], total = figures(data, period, by, cache[period])
    _, before = figures(data, period.previous(), None, cache[period.previous()])
    trend = [(p, figures(data, p, None, cache[p])[1]) for p in period.last(TREND_PERIODS)]
    stamp = (now or datetime.now(ZoneInfo(timezone))).astimezone(ZoneInfo(timezone))
    return PeriodReport(period, region, categories, stamp.replace(tzinfo=None, microsecond=0),
                        data, total, before, change(total, before), groups, trend)


def _values(values: dict[str, Any]) -> dict[str, Any]:
    keys = [k for k, _ in COUNTS] + [k for k, *_ in RATES] + [k for k, _ in PARTS]
    return {k: values[k] for k in keys}


def report_json(report: PeriodReport, by: str = "district") -> dict[str, Any]:
    """The report as JSON: the numbers of the XLSX and PDF (groups of one grouping)."""
    if by not in GROUPINGS:
        raise ValidationError(f"无法按 {by!r} 分组；可选 {', '.join(GROUPINGS)}")
    return {
        "period": period_json(report.period),
        "previous": period_json(report.period.previous()),
        "timezone": TIMEZONE,
        "generated_at": report.generated_at.isoformat(),
        "scope": {"region": report.region, "region_name": regions.full_name(report.region)
                  if report.region else None, "categories": report.categories},
        "by": by,
        "figures": [{"key": k, "name": n} for k, n in COUNTS]
        + [{"key": k, "name": n, "unit": "%"} for k, n, *_ in RATES],
        "total": _values(report.total),
        "previous_total": _values(report.previous_total),
        "change": report.change,
        "groups": [{"key": g.key.rstrip("~\uffff") or None, "name": g.name, **_values(v)}
                   for g, v in report.groups[by]],
        "trend": [{"period": p.code, "label": p.label, "new": v["new"], "closed": v["closed"],
                   "open_end": v["open_end"]} for p, v in report.trend],
    }
