"""`/api/v1/risk` and `/api/v1/schools/{id}/risk`: grades from open findings, scoped by key.

Scores are hand-computed from data/risk.yaml: 禁止 40, 需复核 15; open ≥ 30 days +10,
≥ 90 days +20; 反弹 +30; grades 红 ≥ 80, 橙 ≥ 40, 黄 ≥ 1, 蓝 0.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from fastapi.testclient import TestClient
from shapely.geometry import box
from sqlalchemy import text
from sqlalchemy.orm import Session

from tests.factories import add_finding, add_premises, add_school

TODAY = datetime.now(ZoneInfo("Asia/Shanghai")).date()


def _city(session: Session) -> dict[str, int]:
    orange = add_school(session, "RK-1", box(114.0, 30.5, 114.001, 30.501), name="橙小学",
                        region="420102")
    yellow = add_school(session, "RK-2", box(114.01, 30.5, 114.011, 30.501), name="黄小学",
                        region="420102")
    blue = add_school(session, "RK-3", box(114.02, 30.5, 114.021, 30.501), name="蓝小学",
                      region="420102")
    other = add_school(session, "RK-9", box(112.9, 28.2, 112.901, 28.201), name="外市小学",
                       region="430103")
    cafe = add_premises(session, "internet_cafe", 114.0015, 30.5005, region="420102")
    # 禁止 40 + open 35 days (≥ 30: +10) = 50 → 橙 (no deadline: no 督办 card)
    old = add_finding(session, orange, cafe, rule_id="t.internet_cafe")
    session.execute(text("UPDATE finding SET first_seen = :t WHERE id = :i"),
                    {"t": f"{TODAY - timedelta(days=35)} 12:00+08", "i": old})
    # 需复核 15, new → 黄
    add_finding(session, yellow, cafe, rule_id="t.internet_cafe", verdict="review")
    return {"orange": orange, "yellow": yellow, "blue": blue, "other": other, "old": old}


def test_grades_are_listed_highest_first_with_their_reasons(
        client: TestClient, admin: dict[str, str], session: Session) -> None:
    made = _city(session)
    page = client.get("/api/v1/risk", params={"region": "420102"}, headers=admin).json()
    got = [(s["code"], s["grade_name"], s["score"], s["frequency"]) for s in page["schools"]]
    assert got == [("RK-1", "橙", 50, "周"), ("RK-2", "黄", 15, "月"), ("RK-3", "蓝", 0, "季")]
    assert page["counts"] == {"red": 0, "orange": 1, "yellow": 1, "blue": 1}
    assert "非法定" in page["notice"] and "固原" in page["basis"]
    (reason,) = page["schools"][0]["reasons"]
    assert reason["finding_id"] == made["old"] and reason["points"] == 50
    assert reason["parts"] == ["禁止 +40", "已持续35天（≥30天） +10"]
    only = client.get("/api/v1/risk", params={"grade": "yellow"}, headers=admin).json()
    assert [s["code"] for s in only["schools"]] == ["RK-2"]
    one = client.get(f"/api/v1/schools/{made['orange']}/risk", headers=admin).json()
    assert (one["grade"], one["score"]) == ("orange", 50)


def test_a_bureau_sees_only_the_schools_of_its_region(
        client: TestClient, key_for: Callable[..., dict[str, str]], session: Session) -> None:
    made = _city(session)
    bureau = key_for("bureau", categories=["internet_cafe"], region="4301")
    page = client.get("/api/v1/risk", headers=bureau).json()
    assert [s["code"] for s in page["schools"]] == ["RK-9"]
    refused = client.get(f"/api/v1/schools/{made['orange']}/risk", headers=bureau)
    assert refused.status_code == 404
    assert client.get("/api/v1/risk", params={"grade": "purple"}, headers=bureau).status_code \
        == 422
