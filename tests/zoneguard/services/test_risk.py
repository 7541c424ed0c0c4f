"""Risk grades against real PostGIS, with hand-computed scores from data/risk.yaml."""

from __future__ import annotations

from datetime import date, timedelta

from shapely.geometry import box
from sqlalchemy import text
from sqlalchemy.orm import Session

from tests.factories import add_finding, add_premises, add_school
from zoneguard.services.access.keys import Scope
from zoneguard.services.cases.risk import school_risks

TODAY = date(2026, 12, 3)


def test_grades_scores_and_scope(session: Session) -> None:
    red = add_school(session, "R/1", box(114.0, 30.5, 114.001, 30.501), region="420102")
    yellow = add_school(session, "Y1", box(114.01, 30.5, 114.011, 30.501), region="420102")
    add_school(session, "B1", box(114.02, 30.5, 114.021, 30.501), region="420102")
    pid = add_premises(session, "internet_cafe", 114.0015, 30.5005)
    # 禁止 40 + open 100 days (≥90: 20) + 反弹 30 + 红牌 (due 20 days ago > 15: 20) = 110 → 红
    old = add_finding(session, red, pid, rule_id="cn.x", state="rectifying",
                      deadline=TODAY - timedelta(days=20))
    # a 缺失 facility finding: 20, not overdue → 黄
    fac = add_finding(session, yellow, pid, rule_id="req.sign", deadline=TODAY)
    session.execute(text("UPDATE finding SET first_seen = :t, rebound = true WHERE id = :i"),
                    {"t": f"{TODAY - timedelta(days=100)} 12:00+08", "i": old})
    session.execute(text("UPDATE finding SET kind = 'facility', premises_id = NULL, "
                         "first_seen = :t WHERE id = :i"),
                    {"t": f"{TODAY} 09:00+08", "i": fac})
    got = {r.code: r for r in school_risks(session, today=TODAY, region="420102")}
    assert (got["R/1"].grade_name, got["R/1"].score, got["R/1"].frequency) == ("红", 110, "日")
    assert got["R/1"].reasons[0].finding_id == old
    assert "反弹 +30" in got["R/1"].reasons[0].parts
    assert (got["Y1"].grade_name, got["Y1"].score) == ("黄", 20)
    assert (got["B1"].grade_name, got["B1"].score, got["B1"].reasons) == ("蓝", 0, ())
    assert school_risks(session, today=TODAY, scope=Scope(region_prefix="4403")) == []


def test_a_caller_limited_to_categories_is_graded_on_its_own_findings(session: Session) -> None:
    sid = add_school(session, "C1", box(114.0, 30.5, 114.001, 30.501), region="420102")
    cafe = add_premises(session, "internet_cafe", 114.0015, 30.5005)
    shop = add_premises(session, "tobacco", 114.0016, 30.5005)
    add_finding(session, sid, cafe, rule_id="cn.cafe")  # 禁止 40
    mine = add_finding(session, sid, shop, rule_id="cn.tobacco", verdict="review")  # 需复核 15
    tobacco = Scope(categories=frozenset({"tobacco"}), region_prefix="4201")
    (only,) = school_risks(session, today=TODAY, scope=tobacco, region="420102")
    assert (only.score, only.grade_name) == (15, "黄")
    assert [r.finding_id for r in only.reasons] == [mine]
    (everything,) = school_risks(session, today=TODAY, region="420102")
    assert everything.score == 55
