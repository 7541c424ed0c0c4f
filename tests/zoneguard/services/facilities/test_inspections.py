"""双随机: the population in safety zones, the draw reproduced from its seed, 不合格 → finding."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from tests.factories import add_premises, add_school
from tests.zoneguard.services.facilities.conftest import ORIGIN, campus, offset
from zoneguard.errors import ValidationError
from zoneguard.evaluation import Tolerances
from zoneguard.models import Finding, Inspection
from zoneguard.rules import RuleSet
from zoneguard.services import inspections as ins

ON = date(2026, 6, 1)
NOW = datetime(2026, 6, 1, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
TOL = Tolerances(3.0, 0.0)
ROSTER = ins.roster_from([
    {"姓名": "张一", "单位": "江岸区文旅局", "辖区": "420102"},
    {"姓名": "李二", "单位": "江岸区市场监管局", "辖区": "420102"},
    {"姓名": "王三", "单位": "江汉区文旅局", "辖区": "420103"},
    {"姓名": "赵四", "单位": "江汉区市场监管局", "辖区": "420103"},
    {"姓名": "钱五", "单位": "硚口区文旅局", "辖区": "420104"},
])


@pytest.fixture
def zone(session: Session) -> dict[str, list[int]]:
    """A school, 12 internet cafés within 200 m in two districts, 3 far outside."""
    add_school(session, "SCH", campus(*ORIGIN), region="420102")
    near, far = [], []
    for i in range(12):
        lon, lat = offset(*ORIGIN, i * 30.0, 50 + 10 * i)  # 50 m half-campus: 0..110 m out
        near.append(add_premises(session, "internet_cafe", lon, lat,
                                 region="420102" if i % 2 else "420103"))
    for i in range(3):
        lon, lat = offset(*ORIGIN, 90, 1000 + 100 * i)
        far.append(add_premises(session, "internet_cafe", lon, lat, region="420102"))
    return {"near": near, "far": far}


def test_population_is_the_premises_inside_safety_zones(
        session: Session, rules: RuleSet, zone: dict[str, list[int]]) -> None:
    members = ins.population(session, rules=rules, tolerances=TOL,
                             categories=["internet_cafe"], region=None, on=ON)
    assert [m.id for m in members] == sorted(zone["near"])


def test_the_draw_is_reproduced_from_its_seed(
        session: Session, rules: RuleSet, zone: dict[str, list[int]]) -> None:
    record = ins.draw(session, seed=20260601, categories=["internet_cafe"], roster=ROSTER,
                      rules=rules, tolerances=TOL, on=ON, now=NOW, per_stratum=2)
    stored = ins.drawn(session, record.id)
    assert len(stored) == 4  # two strata (420102, 420103), two each
    assert ins.redraw(session, record.id) == stored
    again = ins.draw(session, seed=20260601, categories=["internet_cafe"], roster=ROSTER,
                     rules=rules, tolerances=TOL, on=ON, now=NOW, per_stratum=2)
    assert ins.drawn(session, again.id) == stored
    other = ins.draw(session, seed=7, categories=["internet_cafe"], roster=ROSTER,
                     rules=rules, tolerances=TOL, on=ON, now=NOW, per_stratum=5)
    assert len(ins.drawn(session, other.id)) == 10
    rows = session.scalars(select(Inspection).where(Inspection.draw_id == record.id)).all()
    districts = {p.name: p.district for p in ROSTER}
    for row in rows:
        district = row.stratum.split("|")[1]
        names = [p["name"] for p in row.inspectors]
        assert len(set(names)) == 2
        assert all(districts[n] != district for n in names)  # never their own district
    assert {r.premises_id for r in rows} <= set(zone["near"])


def test_proportional_sample_takes_at_least_one_per_stratum(
        session: Session, rules: RuleSet, zone: dict[str, list[int]]) -> None:
    assert zone["near"]
    record = ins.draw(session, seed=1, categories=["internet_cafe"], roster=ROSTER, rules=rules,
                      tolerances=TOL, on=ON, now=NOW, fraction=0.01)
    assert len(ins.drawn(session, record.id)) == 2


def test_a_failed_inspection_reaches_a_finding(
        session: Session, rules: RuleSet, zone: dict[str, list[int]]) -> None:
    assert zone["near"]
    record = ins.draw(session, seed=3, categories=["internet_cafe"], roster=ROSTER, rules=rules,
                      tolerances=TOL, on=ON, now=NOW, per_stratum=1)
    first = session.scalars(select(Inspection).where(Inspection.draw_id == record.id)
                            .order_by(Inspection.id)).first()
    assert first is not None
    with pytest.raises(ValidationError):
        ins.record_results(session, first.id, {"admits_minors": "差"}, actor="t", on=ON)
    ids = ins.record_results(session, first.id, {"admits_minors": "不合格",
                                                 "unlicensed": "合格"}, actor="检查组", on=ON)
    finding = session.get(Finding, ids[0])
    assert finding is not None and len(ids) == 1
    assert (finding.kind, finding.state, finding.problem_category) == \
        ("report", "found", "internet_cafe")
    assert finding.reasons == ["双随机抽查不合格：接纳未成年人"]
    assert first.status == "failed"
    publicity = ins.publicity(session, record.id)
    assert publicity[0]["检查人员"].count("（") == 2 and "截止日期" in publicity[0]


def test_a_draw_weighted_by_risk_favours_red_schools_and_is_reproduced(
        session: Session, rules: RuleSet) -> None:
    from tests.factories import add_finding
    from zoneguard.services.cases.risk import risk_weights

    red = add_school(session, "RED", campus(*ORIGIN), region="420102")
    far = offset(*ORIGIN, 90, 3000)
    blue = add_school(session, "BLUE", campus(*far), region="420102")
    cafes = {red: [], blue: []}
    for school, centre in ((red, ORIGIN), (blue, far)):
        for i in range(6):
            cafes[school].append(add_premises(session, "internet_cafe",
                                              *offset(*centre, i * 60.0, 80), region="420102"))
    for cafe in cafes[red][:2]:  # 禁止 40 × 2 = 80 → 红 (draw_weight 4); BLUE has none → 蓝 (1)
        add_finding(session, red, cafe, rule_id="t.internet_cafe")
    weights = risk_weights(session, today=ON, region="420102")
    assert (weights[red], weights[blue]) == (4.0, 1.0)
    record = ins.draw(session, seed=11, categories=["internet_cafe"], roster=ROSTER,
                      rules=rules, tolerances=TOL, on=ON, now=NOW, per_stratum=1,
                      weights=weights)
    assert record.parameters["weights"] == {str(red): 4.0, str(blue): 1.0}
    assert ins.redraw(session, record.id) == ins.drawn(session, record.id)
    # one of 12 drawn with weights 4 (six near RED) and 1 (six near BLUE): P(RED) = 24/30
    members = ins.population(session, rules=rules, tolerances=TOL,
                             categories=["internet_cafe"], region=None, on=ON)
    hits = sum(ins.choose(members, seed=seed, per_stratum=1, fraction=None, weights=weights,
                          roster=ROSTER)[0][0].school_id == red for seed in range(400))
    assert 0.72 < hits / 400 < 0.88


def test_the_publicity_workbook_lists_the_draw_and_how_to_redraw_it(
        session: Session, rules: RuleSet, zone: dict[str, list[int]]) -> None:
    from io import BytesIO

    from openpyxl import load_workbook

    from zoneguard.reports.publicity import HEADERS, publicity_bytes

    record = ins.draw(session, seed=20260601, categories=["internet_cafe"], roster=ROSTER,
                      rules=rules, tolerances=TOL, on=ON, now=NOW, per_stratum=2)
    ws = load_workbook(BytesIO(publicity_bytes(session, record.id)))["双随机抽查公示"]
    header = str(ws["A2"].value)
    assert "2026-06-01 09:00" in header and "随机种子：20260601" in header
    assert f"抽样总体 {len(zone['near'])} 家" in header and "结果一致" in header
    rows = list(ws.iter_rows(min_row=4, values_only=True))
    assert rows[0] == HEADERS and len(rows) == 5
    stored = {row.id for row in session.scalars(
        select(Inspection).where(Inspection.draw_id == record.id))}
    assert {r[0] for r in rows[1:]} == stored
    assert all(r[3] == "互联网上网服务营业场所" and "（" in r[5] for r in rows[1:])
