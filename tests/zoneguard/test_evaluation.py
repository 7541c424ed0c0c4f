"""Verdicts that stand up legally: defaults, null distances, enrolment thresholds, both
metrics, far entrances, regions, 存量 and exclusive thresholds — on real PostGIS, distances
checked against the AEQD/Shapely and pyproj.Geod oracles, verdicts against the rule texts."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest
from shapely.geometry import Point, box
from sqlalchemy.orm import Session

from spatial.measure import SchoolCandidate
from tests.factories import add_gate, add_school, write_rules
from tests.oracle import GEOD, distance_m, from_local
from zoneguard.domain import Verdict
from zoneguard.errors import ValidationError
from zoneguard.evaluation import Tolerances, classify, judge
from zoneguard.rules import RuleSet, load_rule_set
from zoneguard.services.screening import ScreeningResult, screen
from zoneguard.settings import Settings

LON, LAT = 112.98, 28.10  # Changsha: Hunan ships no rule file of its own here
ON = date(2026, 6, 1)
CAMPUS = box(-100, -100, 100, 100)  # 200 m × 200 m, local metres around (LON, LAT)

RULES = """\
jurisdiction: CN
name: 全国
version: "e1"
rules:
  - id: e.cafe
    category: internet_cafe
    protects: [primary, secondary]
    distance_m: 200
    distance_kind: statutory
    metric: boundary
    existing: review
    citations: [{authority: 国务院, title: 互联网上网服务营业场所管理条例, article: 第九条,
                 text: 中学、小学校园周围200米范围内不得设立, confidence: C}]
    effective_from: 2002-11-15
  - id: e.tobacco
    category: tobacco
    protects: [kindergarten, primary, secondary]
    distance_m: 100
    distance_kind: default
    metric: gate
    existing: review
    citations: [{authority: 全国人民代表大会常务委员会, title: 中华人民共和国未成年人保护法,
                 article: 第五十九条, confidence: C}]
    notes: the usual local value
    effective_from: 2021-06-01
  - id: e.lottery
    category: lottery
    protects: [primary, secondary]
    distance_m: 50
    distance_kind: statutory
    metric: gate
    existing: review
    citations: [{authority: 测试市人民政府, title: 测试办法, article: 第三条, text: 50米内不得,
                 confidence: C}]
    effective_from: 2010-01-01
  - id: e.fireworks
    category: fireworks
    protects: [primary, secondary]
    distance_m: 100
    distance_kind: statutory
    inclusive: false
    metric: boundary
    existing: violation
    citations: [{authority: 国家安全生产监督管理总局, title: 烟花爆竹经营许可实施办法,
                 article: 第六条, text: 保持100米以上的安全距离, confidence: S}]
    effective_from: 2013-12-01
  - id: e.bar
    category: bar
    protects: [kindergarten, primary, secondary]
    distance_m: null
    review_within_m: 200
    metric: boundary
    existing: review
    citations: [{authority: 全国人民代表大会常务委员会, title: 中华人民共和国未成年人保护法,
                 article: 第五十八条, text: 学校、幼儿园周边不得设置酒吧, confidence: C}]
    effective_from: 2021-06-01
  - id: e.gas
    category: gas_station
    protects: [kindergarten, primary, secondary]
    distance_m: 50
    distance_kind: statutory
    metric: boundary
    existing: review
    min_enrolment_by_level: {kindergarten: 200, primary: 500, secondary: 500}
    below_enrolment: review
    citations: [{authority: 住房和城乡建设部, title: 汽车加油加气加氢站技术标准,
                 number: GB 50156-2021, article: 第4.0.4条, text: 重要公共建筑物50米,
                 confidence: S}]
    effective_from: 2021-10-01
"""

PROVINCE = """\
jurisdiction: 72
name: 测试省
version: "e1"
rules:
  - id: p72.tobacco
    category: tobacco
    protects: [kindergarten, primary, secondary]
    distance_m: 30
    distance_kind: statutory
    metric: boundary
    existing: review
    citations: [{authority: 测试省人民代表大会常务委员会, title: 测试省未成年人保护条例,
                 article: 第二十条, text: 学校周边30米内不得销售烟草制品, confidence: C}]
    effective_from: 2020-01-01
"""


@pytest.fixture
def rules(tmp_path: Path) -> RuleSet:
    directory = write_rules(tmp_path / "rules", RULES)
    write_rules(directory, PROVINCE, name="72.yaml")
    return load_rule_set(directory)


def at(x: float, y: float) -> tuple[float, float]:
    """WGS 84 lon/lat of the point x, y metres east/north of the campus centre."""
    p = from_local(Point(x, y), LON, LAT)
    return p.x, p.y


def _school(session: Session, *, region: str | None = "430103", gates: list[tuple[float, float]]
            | None = None, enrolment: int | None = 900, opened_on: date | None = None,
            levels: tuple[str, ...] = ("primary",)) -> int:
    sid = add_school(session, f"E-{region}-{enrolment}", from_local(CAMPUS, LON, LAT),
                     region=region, enrolment=enrolment, opened_on=opened_on, levels=levels,
                     name="测试小学")
    for gate in gates or []:
        add_gate(session, sid, *at(*gate))
    return sid


def _screen(session: Session, settings: Settings, rules: RuleSet, category: str,
            point: tuple[float, float], **kw: object) -> ScreeningResult:
    return screen(session, category=category, point=point, rule_set=rules, settings=settings,
                  store=False, on=ON, **kw)  # type: ignore[arg-type]


def test_a_default_distance_never_prohibits_alone(session: Session, settings: Settings,
                                                   rules: RuleSet) -> None:
    _school(session, gates=[(0, -100)])
    # 70 m from the gate, under the 100 m national default: review, with the reason.
    result = _screen(session, settings, rules, "tobacco", at(0, -170))
    (conflict,) = result.conflicts
    assert result.verdict is Verdict.REVIEW and conflict.rule.rule.id == "e.tobacco"
    assert conflict.distance_m == pytest.approx(70.0, abs=0.05)
    assert any("按默认 100 米初筛，非法定距离" in r for r in conflict.reasons), conflict.reasons
    # The statutory internet-café distance still decides.
    cafe = _screen(session, settings, rules, "internet_cafe", at(0, -170))
    assert cafe.verdict is Verdict.PROHIBITED


def test_a_bar_inside_a_primary_campus_is_reviewed_never_allowed(
        session: Session, settings: Settings, rules: RuleSet) -> None:
    _school(session)
    inside = _screen(session, settings, rules, "bar", at(10, 10))
    (conflict,) = inside.conflicts
    assert inside.verdict is Verdict.REVIEW and conflict.distance_m == 0
    assert "未规定具体距离" in conflict.reasons[0] and "酒吧" in conflict.reasons[0]
    far = _screen(session, settings, rules, "bar", at(0, -400))  # 300 m: beyond 200 m review
    assert far.verdict is Verdict.ALLOWED and not far.conflicts


def test_gas_station_next_to_a_small_school_is_reviewed(session: Session, settings: Settings,
                                                        rules: RuleSet) -> None:
    _school(session, enrolment=188)
    small = _screen(session, settings, rules, "gas_station", at(0, -100))  # on the wall: 0 m
    (conflict,) = small.conflicts
    assert small.verdict is Verdict.REVIEW
    assert any("低于本规则 500 人的门槛" in r for r in conflict.reasons)
    assert _screen(session, settings, rules, "gas_station", at(0, -180)).verdict \
        is Verdict.ALLOWED  # 80 m: beyond the 50 m of the standard


def test_gas_station_next_to_a_large_school_is_prohibited(session: Session, settings: Settings,
                                                          rules: RuleSet) -> None:
    _school(session, enrolment=900)
    assert _screen(session, settings, rules, "gas_station", at(0, -120)).verdict \
        is Verdict.PROHIBITED


def test_a_far_gate_and_a_near_wall_give_review_with_both_numbers(
        session: Session, settings: Settings, rules: RuleSet) -> None:
    _school(session, gates=[(0, 100)])  # the one gate on the far (north) side
    point = at(0, -140)  # 40 m south of the wall, 240 m from the gate
    wall, _ = distance_m(*point, from_local(CAMPUS, LON, LAT))
    gate = GEOD.inv(*point, *at(0, 100))[2]
    result = _screen(session, settings, rules, "lottery", point)
    (conflict,) = result.conflicts
    assert result.verdict is Verdict.REVIEW
    assert conflict.distance_m == pytest.approx(gate, abs=0.02)
    assert f"{wall:.2f} 米" in conflict.reasons[-1] and f"{gate:.2f} 米" in conflict.reasons[-1]
    assert "两种测量结果不一致" in conflict.reasons[-1]


def test_a_far_entrance_is_refused(session: Session, settings: Settings, rules: RuleSet) -> None:
    _school(session, gates=[(0, -100)])
    with pytest.raises(ValidationError, match="超过 50 米上限"):
        _screen(session, settings, rules, "tobacco", at(0, 0), entrance=(0.0, -89.0))
    # A door 30 m from the point is accepted, and the boundary is measured from the nearer.
    result = _screen(session, settings, rules, "internet_cafe", at(0, -330),
                     entrance=at(0, -300))
    (conflict,) = result.conflicts
    assert conflict.distance_m == pytest.approx(200.0, abs=0.05)


def test_a_declared_region_never_loosens_a_verdict(session: Session, settings: Settings,
                                                   rules: RuleSet) -> None:
    _school(session, region="720101")  # the province's 30 m statute
    point = at(0, -120)  # 20 m from the wall
    own = _screen(session, settings, rules, "tobacco", point)
    assert own.verdict is Verdict.PROHIBITED
    shopped = _screen(session, settings, rules, "tobacco", point, region="430103")
    assert shopped.verdict is Verdict.PROHIBITED
    assert {c.rule.rule.id for c in shopped.conflicts} >= {"p72.tobacco"}


def test_the_schools_region_applies_whatever_the_declared_one(
        session: Session, settings: Settings, rules: RuleSet) -> None:
    _school(session, region="720101")
    point = at(0, -120)
    for declared in (None, "110108", "430103", "72"):
        result = _screen(session, settings, rules, "tobacco", point, region=declared)
        assert result.verdict is Verdict.PROHIBITED, declared
    other = _screen(session, settings, rules, "tobacco", point, region="110108")
    note = [r for c in other.conflicts for r in c.reasons if "两地规则均予适用" in r]
    assert note and "全国" in note[0]


def test_existing_licence_before_the_rule_took_effect_is_existing_stock(
        session: Session, settings: Settings, rules: RuleSet) -> None:
    _school(session, region="720101", opened_on=date(1990, 9, 1))
    point = at(0, -120)
    before = _screen(session, settings, rules, "tobacco", point, issued_on=date(2019, 6, 1))
    stock = next(c for c in before.conflicts if c.rule.rule.id == "p72.tobacco")
    assert before.verdict is Verdict.REVIEW and stock.existing
    assert any("早于本规则施行（2020-01-01）" in r and "存量" in r for r in stock.reasons)
    after = _screen(session, settings, rules, "tobacco", point, issued_on=date(2021, 6, 1))
    assert after.verdict is Verdict.PROHIBITED
    assert not any(c.existing for c in after.conflicts)


def _candidate(boundary_m: float) -> SchoolCandidate:
    return SchoolCandidate(1, "S", "测试小学", ("primary",), 900, "430103", "boundary", None,
                           boundary_m, LON, LAT, None, None, None, None)


def test_an_exclusive_threshold_does_not_forbid_exactly_n(rules: RuleSet) -> None:
    assert classify(100.0, 100.0, 0.0, inclusive=False) is Verdict.ALLOWED
    assert classify(100.0, 100.0, 0.0, inclusive=True) is Verdict.PROHIBITED
    assert classify(99.99, 100.0, 0.0, inclusive=False) is Verdict.PROHIBITED
    (fire,) = rules.applicable(category="fireworks", levels=["primary"], region="430103", on=ON)
    exact = judge(_candidate(100.0), fire, point=(LON, LAT), door=(LON, LAT),
                  tolerances=Tolerances(0.0, 150.0))
    assert exact.verdict is Verdict.ALLOWED
    inside = judge(_candidate(99.5), fire, point=(LON, LAT), door=(LON, LAT),
                   tolerances=Tolerances(0.0, 150.0))
    assert inside.verdict is Verdict.PROHIBITED and "（不含）" in inside.reasons[0]


def test_no_user_facing_text_carries_internal_markers(session: Session, settings: Settings,
                                                      rules: RuleSet) -> None:
    _school(session, gates=[(0, -100)])
    answer = _screen(session, settings, rules, "fireworks", at(0, -150)).as_dict()
    text = str(answer)
    assert "confidence" not in text and "[S]" not in text and "notes" not in text
    (conflict,) = answer["conflicts"]
    assert conflict["basis"] == ("国家安全生产监督管理总局《烟花爆竹经营许可实施办法》第六条："
                                 "“保持100米以上的安全距离”")
    assert answer["reasons"][-1].startswith("本结论仅为距离初筛")


def test_existing_stock_appears_on_the_expiry_work_list(session: Session, settings: Settings,
                                                        tmp_path: Path) -> None:
    from sqlalchemy import text

    from tests.factories import add_premises
    from zoneguard.services.cases.findings import list_findings
    from zoneguard.services.scan.run import run_scan

    directory = write_rules(tmp_path / "stock", RULES)
    write_rules(directory, PROVINCE, name="72.yaml")
    cfg = settings.model_copy(update={"rules_dir": directory})
    _school(session, region="720101", opened_on=date(1990, 9, 1))
    today = date.today()
    soon = add_premises(session, "tobacco", *at(0, -110), region="720101",
                        issued_on=date(2019, 6, 1), licence_no="STOCK-1")
    later = add_premises(session, "tobacco", *at(0, 110), region="720101",
                         issued_on=date(2019, 6, 1), licence_no="STOCK-2")
    new = add_premises(session, "tobacco", *at(110, 0), region="720101",
                       issued_on=date(2021, 6, 1), licence_no="NEW-1")
    for pid, days in ((soon, 45), (later, 800), (new, 30)):
        session.execute(text("UPDATE premises SET expires_on = :d WHERE id = :id"),
                        {"d": today + timedelta(days=days), "id": pid})
    run_scan(session, trigger="manual", settings=cfg, region="72")
    rows, total = list_findings(session, expiring_within_days=90, today=today)
    assert total == 1 and rows[0]["premises_id"] == soon and rows[0]["existing"]
    assert rows[0]["expires_on"] == today + timedelta(days=45)
    stock, _ = list_findings(session, existing=True, region="72", today=today)
    assert {r["premises_id"] for r in stock} == {soon, later}
    assert all(r["verdict"] == "review" for r in stock)
    (violation,), _ = list_findings(session, existing=False, region="72", today=today)
    assert violation["premises_id"] == new and violation["verdict"] == "prohibited"


def test_a_registered_far_entrance_is_not_measured_from(session: Session, settings: Settings,
                                                       tmp_path: Path) -> None:
    from sqlalchemy import text

    from tests.factories import add_premises
    from zoneguard.queries.nearby import premises_near, school_by_code
    from zoneguard.services.scan.run import run_scan

    cfg = settings.model_copy(update={"rules_dir": write_rules(tmp_path / "far", RULES)})
    _school(session, region="720101")
    # Registered before imports refused it: a door inside the campus, 330 m from the café.
    far = add_premises(session, "internet_cafe", *at(0, -430), region="720101",
                       entrance=at(0, -100), licence_no="FAR-DOOR")
    near = add_premises(session, "internet_cafe", *at(0, -330), region="720101",
                        entrance=at(0, -290), licence_no="NEAR-DOOR")
    run_scan(session, trigger="manual", settings=cfg, region="72")
    found = dict(session.execute(text(
        "SELECT premises_id, distance_m FROM finding WHERE premises_id IN (:a, :b)"),
        {"a": far, "b": near}).all())
    assert far not in found  # 330 m from the campus: measured from the point, allowed
    assert found[near] == pytest.approx(190.0, abs=0.05)  # from the door, 40 m nearer
    school = school_by_code(session, "E-720101-900")
    sheet = premises_near(session, school, rule_set=load_rule_set(cfg.effective_rules_dir),
                          settings=cfg, on=date.today())
    verdicts = {i.premises["id"]: {j.verdict for j in i.judgements} for i in sheet}
    assert verdicts.get(far, {Verdict.ALLOWED}) == {Verdict.ALLOWED}
    assert verdicts[near] == {Verdict.PROHIBITED}
