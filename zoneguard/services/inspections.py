"""双随机 inspections: a reproducible draw, two inspectors each, 公示, results → findings.

Premises in safety zones are drawn at random; inspectors come from a roster; results are
recorded per checklist item (不合格 opens a finding).

The draw is `random.Random(seed)` over the population in id order, strata (category,
district) in sorted order: the same seed, parameters and population give the same list
(`redraw` checks it). Risk weighting uses Efraimidis–Spirakis keys (u ** (1 / w)).
"""

from __future__ import annotations

import csv
import hashlib
import json
import random
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from zoneguard.errors import Conflict, NotFound, ValidationError
from zoneguard.evaluation import Tolerances, search_radius_m
from zoneguard.models import Finding, FindingEvent, Inspection, InspectionDraw, Premises
from zoneguard.rules import RuleSet
from zoneguard.services.access.audit import audit

PASS, FAIL = "合格", "不合格"
_POPULATION = """
SELECT p.id, p.category, p.region,
       (SELECT s.id FROM school s
        WHERE (s.closed_on IS NULL OR s.closed_on > :on)
          AND ST_DWithin(geography(COALESCE(s.boundary, s.location)), geography(p.location),
                         :radius, true)
        ORDER BY ST_Distance(geography(COALESCE(s.boundary, s.location)),
                             geography(p.location)), s.id
        LIMIT 1) AS school_id
FROM premises p
WHERE p.category = :category AND p.status IN ('active', 'suspended')
  AND (CAST(:region AS text) IS NULL OR p.region LIKE CAST(:region AS text) || '%')
ORDER BY p.id
"""


@dataclass(frozen=True)
class Inspector:
    """One person of the roster."""

    name: str
    unit: str
    district: str


@dataclass(frozen=True)
class Member:
    """A premises of the population: inside the safety zone of `school_id`."""

    id: int
    category: str
    district: str
    school_id: int


@lru_cache(maxsize=1)
def checklist() -> dict[str, dict[str, Any]]:
    """The checklist items by code (data/inspection_checklist.yaml)."""
    path = Path(__file__).resolve().parents[2] / "data" / "inspection_checklist.yaml"
    items = yaml.safe_load(path.read_text(encoding="utf-8"))["items"]
    return {item["code"]: item for item in items}


def read_roster(path: Path) -> list[Inspector]:
    """Read a roster (CSV with 姓名/单位/辖区 or name/unit/district, or a JSON list)."""
    try:
        if path.suffix.lower() == ".json":
            rows = json.loads(path.read_text(encoding="utf-8"))
        else:
            with path.open(encoding="utf-8-sig", newline="") as handle:
                rows = list(csv.DictReader(handle))
    except (OSError, ValueError) as exc:
        raise ValidationError(f"{path}: 无法读取检查人员名录：{exc}") from None
    return roster_from(rows)


def roster_from(rows: Any) -> list[Inspector]:
    """Inspectors from mappings (name/姓名, unit/单位, district/辖区); raise on a bad row."""
    out = []
    for index, row in enumerate(rows if isinstance(rows, list) else [], start=1):
        def pick(*keys: str, r: Any = row) -> str:
            return next((str(r[k]).strip() for k in keys if isinstance(r, dict) and r.get(k)), "")

        person = Inspector(pick("name", "姓名"), pick("unit", "单位"),
                           pick("district", "辖区", "区划"))
        if not person.name or not person.unit:
            raise ValidationError(f"检查人员名录第 {index} 行缺少姓名或单位")
        out.append(person)
    if len(out) < 2:
        raise ValidationError("检查人员名录至少需要 2 人（每次检查两人）")
    return sorted(set(out), key=lambda p: (p.district, p.unit, p.name))


def population(session: Session, *, rules: RuleSet, tolerances: Tolerances,
               categories: list[str], region: str | None, on: date) -> list[Member]:
    """Active premises of the categories within reach of an open school, by id."""
    members: list[Member] = []
    for category in sorted(set(categories)):
        radius = search_radius_m(rules, category, tolerances)
        for row in session.execute(text(_POPULATION), {"category": category, "region": region,
                                                       "radius": radius, "on": on}):
            if row.school_id is not None:
                members.append(Member(row.id, row.category, row.region[:6], row.school_id))
    return sorted(members, key=lambda m: m.id)


def population_hash(members: list[Member]) -> str:
    """sha256 of the population's ids in order."""
    return hashlib.sha256(",".join(str(m.id) for m in members).encode()).hexdigest()


def _size(n: int, per_stratum: int | None, fraction: float | None) -> int:
    wanted = per_stratum if per_stratum is not None else round((fraction or 0.0) * n)
    return min(n, max(1, wanted))


def choose(members: list[Member], *, seed: int, per_stratum: int | None,
           fraction: float | None, weights: dict[int, float] | None,
           roster: list[Inspector]) -> list[tuple[Member, tuple[Inspector, Inspector]]]:
    """The draw itself: stratified sample and two inspectors each (pure, reproducible)."""
    rng = random.Random(seed)
    strata: dict[tuple[str, str], list[Member]] = {}
    for member in sorted(members, key=lambda m: m.id):
        strata.setdefault((member.category, member.district), []).append(member)
    chosen: list[Member] = []
    for key in sorted(strata):
        group, k = strata[key], _size(len(strata[key]), per_stratum, fraction)
        if weights:
            keyed = [(rng.random() ** (1.0 / max(weights.get(m.school_id, 1.0), 1e-9)), m)
                     for m in group]
            chosen += [m for _, m in sorted(keyed, key=lambda t: (-t[0], t[1].id))[:k]]
        else:
            chosen += sorted(rng.sample(group, k), key=lambda m: m.id)
    out = []
    for member in chosen:
        others = [p for p in roster if not member.district.startswith(p.district or "-")]
        pool = others if len(others) >= 2 else roster
        a, b = rng.sample(pool, 2)
        out.append((member, (a, b)))
    return out


def draw(session: Session, *, seed: int, categories: list[str], roster: list[Inspector],
         rules: RuleSet, tolerances: Tolerances, on: date, now: datetime,
         per_stratum: int | None = None, fraction: float | None = None,
         region: str | None = None, due_days: int = 30,
         weights: dict[int, float] | None = None, actor: str = "cli") -> InspectionDraw:
    """Draw, store and return an inspection list (`inspection_draw` + its `inspection` rows)."""
    if per_stratum is None and fraction is None:
        raise ValidationError("请给出每层抽取数（per_stratum）或抽取比例（fraction）")
    if (per_stratum is not None and per_stratum < 1) or \
            (fraction is not None and not 0 < fraction <= 1):
        raise ValidationError("每层抽取数须 ≥ 1，抽取比例须在 (0, 1] 之间")
    members = population(session, rules=rules, tolerances=tolerances, categories=categories,
                         region=region, on=on)
    if not members:
        raise ValidationError("所选类别在学校安全区域内没有在营场所，无可抽取对象")
    params = {"categories": sorted(set(categories)), "per_stratum": per_stratum,
              "fraction": fraction, "region": region, "due_days": due_days, "on": on.isoformat(),
              "weights": {str(k): v for k, v in sorted((weights or {}).items())},
              "roster": [vars(p) for p in roster], "rule_set": rules.version,
              "population": [[m.id, m.category, m.district, m.school_id] for m in members]}
    record = InspectionDraw(seed=seed, parameters=params, drawn_at=now, actor=actor,
                            population_hash=population_hash(members),
                            population_size=len(members))
    session.add(record)
    session.flush()
    for member, pair in choose(members, seed=seed, per_stratum=per_stratum, fraction=fraction,
                               weights=weights, roster=roster):
        session.add(Inspection(draw_id=record.id, premises_id=member.id,
                               school_id=member.school_id,
                               stratum=f"{member.category}|{member.district}",
                               inspectors=[vars(p) for p in pair],
                               due_on=on + timedelta(days=due_days)))
    session.flush()
    audit(session, actor=actor, action="inspection_draw", entity="inspection_draw",
          entity_id=record.id, after={"seed": seed, "population": len(members)})
    return record


def redraw(session: Session, draw_id: int) -> list[tuple[int, tuple[str, str]]]:
    """Draw a stored draw again from its seed, parameters and population (premises, names)."""
    record = session.get(InspectionDraw, draw_id)
    if record is None:
        raise NotFound(f"抽取 {draw_id} 不存在")
    p = record.parameters
    members = [Member(*row) for row in p["population"]]
    if population_hash(members) != record.population_hash:
        raise Conflict(f"抽取 {draw_id} 的抽样总体与记录的摘要不符")
    return [(m.id, (a.name, b.name)) for m, (a, b) in choose(
        members, seed=record.seed, per_stratum=p["per_stratum"], fraction=p["fraction"],
        weights={int(k): v for k, v in p["weights"].items()},
        roster=[Inspector(**r) for r in p["roster"]])]


def drawn(session: Session, draw_id: int) -> list[tuple[int, tuple[str, str]]]:
    """The stored list of a draw (premises, inspector names), in draw order."""
    rows = session.scalars(select(Inspection).where(Inspection.draw_id == draw_id)
                           .order_by(Inspection.id))
    return [(i.premises_id, (i.inspectors[0]["name"], i.inspectors[1]["name"])) for i in rows]


def publicity(session: Session, draw_id: int) -> list[dict[str, Any]]:
    """The 公示 list: premises, category, district, inspectors' names and units, due day."""
    rows = session.execute(
        select(Inspection, Premises.name, Premises.licence_no, Premises.category,
               Premises.region).join(Premises, Premises.id == Inspection.premises_id)
        .where(Inspection.draw_id == draw_id).order_by(Inspection.id)).all()
    return [{"检查编号": i.id, "场所名称": name, "许可证号": licence, "类别": category,
             "区划": region, "检查人员": "、".join(f"{p['name']}（{p['unit']}）"
                                              for p in i.inspectors),
             "截止日期": i.due_on.isoformat()} for i, name, licence, category, region in rows]


def record_results(session: Session, inspection_id: int, results: dict[str, str], *,
                   actor: str, on: date) -> list[int]:
    """Record 合格/不合格 per checklist item; each 不合格 opens a finding. Return their ids."""
    inspection = session.get(Inspection, inspection_id, with_for_update=True)
    if inspection is None:
        raise NotFound(f"检查 {inspection_id} 不存在")
    if inspection.status != "pending":
        raise Conflict(f"检查 {inspection_id} 的结果已于 {inspection.recorded_at} 登记")
    items = checklist()
    for code, outcome in results.items():
        if code not in items:
            raise ValidationError(f"未知检查项 {code!r}；可用：{'、'.join(items)}")
        if outcome not in (PASS, FAIL):
            raise ValidationError(f"检查项 {code} 的结果须为“合格”或“不合格”，不是 {outcome!r}")
    if not results:
        raise ValidationError("请至少登记一个检查项的结果")
    premises = session.get(Premises, inspection.premises_id)
    assert premises is not None
    failed = [code for code, outcome in results.items() if outcome == FAIL]
    inspection.results = dict(results)
    inspection.status = "failed" if failed else "passed"
    inspection.recorded_by, inspection.recorded_at = actor, datetime.now().astimezone()
    names = "、".join(p["name"] for p in inspection.inspectors)
    ids = []
    for code in failed:
        name = items[code]["name"]
        finding = Finding(
            school_id=inspection.school_id, premises_id=None, kind="report",
            rule_id=f"inspection.{inspection.id}.{code}", metric="boundary",
            verdict="review", state="found", problem_category=premises.category,
            reasons=[f"双随机抽查不合格：{name}"], reported_by=names,
            description=f"双随机抽查（抽取 {inspection.draw_id}，检查 {inspection.id}）："
                        f"{premises.name}（{premises.licence_no}）{name}",
            location=premises.location, step_due=on + timedelta(days=3))
        session.add(finding)
        session.flush()
        session.add(FindingEvent(finding_id=finding.id, actor=actor, to_state="found",
                                 comment=f"双随机抽查不合格：{name}（检查人员：{names}）"))
        ids.append(finding.id)
    audit(session, actor=actor, action="inspection_result", entity="inspection",
          entity_id=inspection.id, after={"results": results, "findings": ids})
    session.flush()
    return ids
