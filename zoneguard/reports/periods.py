"""Reporting periods in Beijing dates: a month, a quarter, a year or any range of days.

`parse_period("2026-11")`, `parse_period("2026Q4")`, `parse_period("2026")`, or
`Period.between(from, to)`. Each period knows the one before it (环比) of the same kind.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

from zoneguard.errors import ValidationError

_MONTH = re.compile(r"([0-9]{4})-([0-9]{1,2})")
_QUARTER = re.compile(r"([0-9]{4})[Qq]([1-4])")
_YEAR = re.compile(r"[0-9]{4}")
MAX_DAYS = 3660  # ten years: longer ranges are refused
FIRST_YEAR, LAST_YEAR = 1900, 2999


def _check_year(year: int) -> int:
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise ValidationError(f"年份 {year} 超出范围（{FIRST_YEAR}-{LAST_YEAR}）")
    return year


def _month_end(year: int, month: int) -> date:
    nxt = date(year + month // 12, month % 12 + 1, 1)
    return nxt - timedelta(days=1)


@dataclass(frozen=True)
class Period:
    """Days `start` to `end` inclusive (Beijing dates) of a kind: month, quarter, year, range."""

    kind: str
    start: date
    end: date

    @classmethod
    def month(cls, year: int, month: int) -> Period:
        """A calendar month."""
        if not 1 <= month <= 12:
            raise ValidationError(f"月份 {month} 无效（1-12）")
        return cls("month", date(_check_year(year), month, 1), _month_end(year, month))

    @classmethod
    def quarter(cls, year: int, quarter: int) -> Period:
        """A calendar quarter (1-4)."""
        if not 1 <= quarter <= 4:
            raise ValidationError(f"季度 {quarter} 无效（1-4）")
        first = 3 * quarter - 2
        return cls("quarter", date(_check_year(year), first, 1), _month_end(year, first + 2))

    @classmethod
    def year(cls, year: int) -> Period:
        """A calendar year."""
        return cls("year", date(_check_year(year), 1, 1), date(year, 12, 31))

    @classmethod
    def between(cls, start: date, end: date) -> Period:
        """Any range of days, both ends included."""
        if end < start:
            raise ValidationError(f"结束日期 {end.isoformat()} 早于开始日期 {start.isoformat()}")
        _check_year(start.year)
        _check_year(end.year)
        if (end - start).days >= MAX_DAYS:
            raise ValidationError(f"统计期间不得超过 {MAX_DAYS} 天")
        return cls("range", start, end)

    @property
    def days(self) -> int:
        """Number of days in the period."""
        return (self.end - self.start).days + 1

    @property
    def code(self) -> str:
        """A stable code: 2026-11, 2026Q4, 2026, or 2026-11-03~2026-11-20."""
        if self.kind == "month":
            return f"{self.start.year}-{self.start.month:02d}"
        if self.kind == "quarter":
            return f"{self.start.year}Q{(self.start.month + 2) // 3}"
        if self.kind == "year":
            return str(self.start.year)
        return f"{self.start.isoformat()}~{self.end.isoformat()}"

    @property
    def label(self) -> str:
        """The period as people write it: 2026年11月, 2026年第四季度, 2026年度."""
        if self.kind == "month":
            return f"{self.start.year}年{self.start.month}月"
        if self.kind == "quarter":
            q = "一二三四"[(self.start.month - 1) // 3]
            return f"{self.start.year}年第{q}季度"
        if self.kind == "year":
            return f"{self.start.year}年度"
        return f"{self.start.isoformat()} 至 {self.end.isoformat()}"

    def previous(self) -> Period:
        """The period just before, of the same kind (环比)."""
        if self.kind == "month":
            before = self.start - timedelta(days=1)
            return Period.month(before.year, before.month)
        if self.kind == "quarter":
            before = self.start - timedelta(days=1)
            return Period.quarter(before.year, (before.month + 2) // 3)
        if self.kind == "year":
            return Period.year(self.start.year - 1)
        return Period("range", self.start - timedelta(days=self.days),
                      self.start - timedelta(days=1))

    def last(self, n: int) -> list[Period]:
        """The last n periods up to this one, oldest first."""
        out = [self]
        while len(out) < n:
            out.append(out[-1].previous())
        return out[::-1]


def parse_period(text: str) -> Period:
    """`2026-11` (month), `2026Q4` (quarter) or `2026` (year)."""
    value = text.strip()
    if m := _MONTH.fullmatch(value):
        return Period.month(int(m[1]), int(m[2]))
    if m := _QUARTER.fullmatch(value):
        return Period.quarter(int(m[1]), int(m[2]))
    if _YEAR.fullmatch(value):
        return Period.year(int(value))
    raise ValidationError(f"无法识别的统计期间 {text!r}："
                          "应为 2026-11（月）、2026Q4（季度）或 2026（年）")


def resolve_period(period: str | None = None, start: date | None = None,
                   end: date | None = None) -> Period:
    """The period asked for: a code, or a from/to range (exactly one of them)."""
    if period is not None and (start is not None or end is not None):
        raise ValidationError("统计期间与起止日期只能二选一")
    if period is not None:
        return parse_period(period)
    if start is None or end is None:
        raise ValidationError("请给出统计期间（如 2026-11、2026Q4、2026）或起止日期")
    return Period.between(start, end)
