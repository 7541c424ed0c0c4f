"""Coverage indicators: per district and per requirement, the share of schools meeting it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy.orm import Session

from zoneguard.facility_kinds import kind_name
from zoneguard.rules import RuleSet
from zoneguard.services.facilities.measure import SchoolFacts, assess


@dataclass(frozen=True)
class Indicator:
    """One (district, requirement): schools bound, schools meeting it, rate against target."""

    district: str
    requirement_id: str
    kind: str
    schools: int
    met: int
    target: float

    @property
    def rate(self) -> float:
        """Share of the bound schools that meet the requirement (0..1)."""
        return self.met / self.schools if self.schools else 1.0

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready, with the kind's 中文名 and whether the target is reached."""
        return {"district": self.district, "requirement_id": self.requirement_id,
                "kind": self.kind, "kind_name": kind_name(self.kind), "schools": self.schools,
                "met": self.met, "rate": round(self.rate, 4), "target": self.target,
                "reached": self.rate >= self.target}


def indicators(schools: list[SchoolFacts]) -> list[Indicator]:
    """Aggregate assessments by district (the region's first 6 digits) and requirement."""
    counts: dict[tuple[str, str], list[Any]] = {}
    for school in schools:
        district = (school.region or "")[:6] or "未登记"
        for a in school.assessments:
            entry = counts.setdefault((district, a.requirement.id), [a.requirement, 0, 0])
            entry[1] += 1
            entry[2] += int(a.met)
    return [Indicator(d, rid, r.kind, n, met, r.target)
            for (d, rid), (r, n, met) in sorted(counts.items())]


def coverage(session: Session, *, rules: RuleSet, on: date,
             region: str | None = None) -> dict[str, Any]:
    """Coverage per district and per school (each school's met and missing requirements)."""
    schools = assess(session, rules=rules, on=on, region=region)
    return {
        "on": on.isoformat(), "region": region,
        "districts": [i.as_dict() for i in indicators(schools)],
        "schools": [{"id": s.id, "code": s.code, "name": s.name, "region": s.region,
                     "met": [a.requirement.id for a in s.assessments if a.met],
                     "missing": [{"requirement_id": a.requirement.id, "kind": a.requirement.kind,
                                  "reasons": a.reasons()}
                                 for a in s.assessments if not a.met]}
                    for s in schools],
    }
