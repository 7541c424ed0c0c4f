"""督办: 督办单 issued and lifted, 约谈 recorded, 黄牌/红牌 and the rest counted by district."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import pytest
from shapely.geometry import Point, box
from sqlalchemy import text
from sqlalchemy.orm import Session

from tests.factories import add_finding, add_premises, add_school
from tests.oracle import from_local
from zoneguard.domain import Role
from zoneguard.errors import Conflict, Forbidden, NotFound, ValidationError
from zoneguard.services.access.keys import Scope
from zoneguard.services.cases.findings import get_finding, list_findings
from zoneguard.services.cases.supervision import issue_order, lift_order, record_interview
from zoneguard.services.cases.supervision_view import (
    UNLINKED,
    list_interviews,
    list_orders,
    supervision_counts,
)

TODAY = date.today()
LATER = TODAY + timedelta(days=10)


@dataclass(frozen=True)
class Who:
    actor: str
    role: Role


ZONGZHI = Who("user:综治办王科长(wang)", Role.GOVERNANCE)
BUREAU = Who("key:7:洪山区市场监管局", Role.BUREAU)


def place(session: Session, code: str, lon: float, region: str, n: int = 1) -> list[int]:
    """A school in `region` with `n` found cases around it."""
    school = add_school(session, code, from_local(box(-100, -100, 100, 100), lon, 30.5),
                        region=region)
    cases = []
    for i in range(n):
        p = from_local(Point(0, -150 - 10 * i), lon, 30.5)
        premises = add_premises(session, "internet_cafe", p.x, p.y, region=region,
                                licence_no=f"{code}-{i}")
        cases.append(add_finding(session, school, premises, rule_id="t.internet_cafe"))
    return cases


def overdue(session: Session, finding: int, days: int) -> None:
    session.execute(text("UPDATE finding SET step_due = :d WHERE id = :f"),
                    {"d": TODAY - timedelta(days=days), "f": finding})


def order(session: Session, finding: int, number: str, **kw: object) -> int:
    args: dict[str, object] = {"office": "区综治办", "deadline": LATER,
                               "requirements": "十日内完成整改并书面报告", "caller": ZONGZHI,
                               "scope": None, "today": TODAY}
    return issue_order(session, finding, number=number, **{**args, **kw}).id  # type: ignore[arg-type]


def level(session: Session, finding: int) -> str | None:
    rows, _ = list_findings(session, today=TODAY)
    return next(r["supervision"] for r in rows if r["id"] == finding)


def test_an_order_makes_the_case_red_until_lifted(session: Session) -> None:
    (finding,) = place(session, "SV1", 114.0, "420102")
    assert level(session, finding) is None
    issued = order(session, finding, "洪综督〔2025〕1号")
    assert level(session, finding) == "red"
    assert get_finding(session, finding)["events"][-1]["comment"].startswith("挂牌督办：区综治办")
    rows, total = list_orders(session, today=TODAY, active=True)
    assert total == 1 and rows[0]["number"] == "洪综督〔2025〕1号"
    assert rows[0]["district"] == "420102" and not rows[0]["overdue"]
    with pytest.raises(Conflict, match="已挂牌督办"):
        order(session, finding, "洪综督〔2025〕2号")
    lift_order(session, issued, caller=ZONGZHI, comment="已按期整改", scope=None, today=TODAY)
    assert level(session, finding) is None
    assert list_orders(session, today=TODAY, active=True)[1] == 0
    assert list_orders(session, today=TODAY, active=False)[0][0]["lifted_by"] == ZONGZHI.actor
    with pytest.raises(Conflict, match="已于"):
        lift_order(session, issued, caller=ZONGZHI, scope=None, today=TODAY)
    with pytest.raises(Conflict, match="已被使用"):
        order(session, finding, "洪综督〔2025〕1号")
    audits = session.execute(text("SELECT action FROM audit_log WHERE entity = 'finding' AND "
                                  "entity_id = :f ORDER BY id"), {"f": str(finding)}).scalars()
    assert list(audits) == ["supervision.order", "supervision.lift"]


@pytest.mark.parametrize(("change", "error", "message"), [
    ({"caller": BUREAU}, Forbidden, "“业务主管部门”角色不能挂牌督办"),
    ({"deadline": TODAY - timedelta(days=1)}, ValidationError, "早于今天"),
    ({"requirements": "整改"}, ValidationError, "督办要求"),
    ({"office": " "}, ValidationError, "督办单位"),
    ({"scope": Scope(region_prefix="44")}, NotFound, "不在您的权限范围内"),
])
def test_a_bad_order_is_refused(session: Session, change: dict[str, object],
                                error: type[Exception], message: str) -> None:
    (finding,) = place(session, "SV2", 114.0, "420102")
    with pytest.raises(error, match=message):
        order(session, finding, "N-1", **change)
    assert list_orders(session, today=TODAY)[1] == 0 and level(session, finding) is None


def test_a_closed_case_cannot_be_ordered(session: Session) -> None:
    (finding,) = place(session, "SV3", 114.0, "420102")
    session.execute(text("UPDATE finding SET state = 'closed' WHERE id = :f"), {"f": finding})
    with pytest.raises(Conflict, match="已办结（已销号）"):
        order(session, finding, "N-2")


def test_counts_by_district_follow_the_finding_list(session: Session) -> None:
    a, b, c = place(session, "SV4", 114.0, "653101", n=3)
    d, e = place(session, "SV5", 114.1, "653201", n=2)
    overdue(session, a, 3)  # yellow
    overdue(session, b, 20)  # red by days
    order(session, c, "N-3")  # red by order
    overdue(session, d, 1)  # yellow
    order(session, e, "N-4", deadline=TODAY)
    record_interview(session, unit="洪山区市场监管局", held_on=TODAY - timedelta(days=40),
                     participants="王科长、赵局长", summary="逾期未整改，限期十日", finding_id=b,
                     caller=ZONGZHI, scope=None, today=TODAY)
    record_interview(session, unit="龙岗区文化局", held_on=TODAY, participants="王科长",
                     summary="督办情况通报", caller=ZONGZHI, scope=None, today=TODAY)
    counts = supervision_counts(session, today=TODAY)
    mine = {r["district"]: r for r in counts["districts"]}
    assert {k: mine["653101"][k] for k in ("yellow", "red", "open_orders", "interviews")} == \
        {"yellow": 1, "red": 2, "open_orders": 1, "interviews": 1}
    assert {k: mine["653201"][k] for k in ("yellow", "red", "open_orders", "interviews")} == \
        {"yellow": 1, "red": 1, "open_orders": 1, "interviews": 0}
    assert mine[UNLINKED]["interviews"] == 1
    listed, _ = list_findings(session, today=TODAY)
    ours = [r for r in listed if r["id"] in (a, b, c, d, e)]
    assert sum(r["supervision"] == "red" for r in ours) == 3
    recent = supervision_counts(session, today=TODAY, since=TODAY - timedelta(days=7))
    assert "653101" not in {r["district"] for r in recent["districts"]
                            if r["interviews"]} and recent["total"]["interviews"] >= 1
    only = supervision_counts(session, today=TODAY, region="6532")
    assert [r["district"] for r in only["districts"]] == ["653201"]
    scoped = supervision_counts(session, today=TODAY, scope=Scope(region_prefix="6531"))
    assert [r["district"] for r in scoped["districts"]] == ["653101"]
    talks, total = list_interviews(session, since=TODAY - timedelta(days=50), until=TODAY)
    assert total >= 2 and [t["unit"] for t in talks][:2] == ["龙岗区文化局", "洪山区市场监管局"]
    assert get_finding(session, b)["events"][-1]["comment"].startswith("约谈 洪山区市场监管局")
    assert list_interviews(session, scope=Scope(region_prefix="6532"))[1] == 0
    with pytest.raises(ValidationError, match="晚于结束日期"):
        supervision_counts(session, today=TODAY, since=TODAY, until=TODAY - timedelta(days=1))


def test_an_interview_needs_governance_a_past_date_and_a_summary(session: Session) -> None:
    args: dict[str, object] = {"unit": "某单位", "participants": "甲、乙",
                               "summary": "逾期未整改", "caller": ZONGZHI, "scope": None,
                               "today": TODAY, "held_on": TODAY}
    for change, error, message in (
            ({"caller": BUREAU}, Forbidden, "不能记录约谈"),
            ({"held_on": TODAY + timedelta(days=1)}, ValidationError, "晚于今天"),
            ({"summary": "好"}, ValidationError, "约谈内容"),
            ({"finding_id": 2**62}, NotFound, "不存在")):
        with pytest.raises(error, match=message):
            record_interview(session, **{**args, **change})  # type: ignore[arg-type]
    assert list_interviews(session, since=TODAY, until=TODAY)[1] == 0
