"""A scripted history of cases with hand-computed November 2026 figures (Beijing dates).

Event times are UTC. Two sit at the month's edge: C1's 销号 at 2026-11-30 15:30 UTC
(23:30 on 30 November in Beijing, inside November) and C3's 发现 at 2026-11-30 16:10 UTC
(00:10 on 1 December in Beijing, outside). C5's 发现 at 2026-11-14 17:00 UTC is 15 November
in Beijing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

from shapely.geometry import box
from sqlalchemy import text
from sqlalchemy.orm import Session

from tests.factories import add_finding, add_premises, add_school

HAIDIAN, JIANGAN = "110108", "420102"


@dataclass
class History:
    """Ids of the scripted cases."""

    c1: int
    c2: int
    c3: int
    c4: int
    c5: int
    c6: int


def _at(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


def event(session: Session, finding: int, to_state: str, at: datetime, *,
          deadline: date | None = None, comment: str | None = None) -> None:
    """Record one state change at `at` (UTC) and move the finding there."""
    session.execute(text(
        "INSERT INTO finding_event (finding_id, actor, at, from_state, to_state, comment, "
        "deadline) VALUES (:f, 'test', :at, (SELECT state FROM finding WHERE id = :f), :to, "
        ":comment, :deadline)"),
        {"f": finding, "at": at, "to": to_state, "comment": comment, "deadline": deadline})
    session.execute(text("UPDATE finding SET state = :to WHERE id = :f"),
                    {"f": finding, "to": to_state})


def _assignee(session: Session, finding: int, unit: str) -> None:
    session.execute(text("UPDATE finding SET assignee = :u WHERE id = :f"),
                    {"f": finding, "u": unit})


def build_history(session: Session) -> History:
    """Two schools, four premises, six cases and their events, one 督办 and two 约谈."""
    a = add_school(session, "1101080001", box(116.30, 39.90, 116.302, 39.9015), name="第一中学",
                   levels=("secondary",), region=HAIDIAN, enrolment=1200)
    b = add_school(session, "4201020009", box(114.30, 30.55, 114.302, 30.5515), name="江岸小学",
                   region=JIANGAN, enrolment=800)
    p1 = add_premises(session, "internet_cafe", 116.3005, 39.9020, name="飞越网吧",
                      licence_no="WB-101", region=HAIDIAN)
    p2 = add_premises(session, "tobacco", 116.3025, 39.9010, name="海淀烟酒店",
                      licence_no="YC-101", region=HAIDIAN)
    p3 = add_premises(session, "lottery", 114.3025, 30.5510, name="体彩 0101",
                      licence_no="CP-101", region=JIANGAN)
    p4 = add_premises(session, "internet_cafe", 114.3005, 30.5520, name="江岸网吧",
                      licence_no="WB-102", region=JIANGAN)
    c1 = add_finding(session, a, p1, rule_id="t.internet_cafe", distance_m=80.0)
    c2 = add_finding(session, a, p2, rule_id="t.tobacco", distance_m=60.0, threshold_m=100)
    c3 = add_finding(session, b, p3, rule_id="t.lottery", distance_m=90.0)
    c4 = add_finding(session, b, p4, rule_id="t.internet_cafe", distance_m=120.0)
    c6 = add_finding(session, a, p4, rule_id="t.internet_cafe", distance_m=190.0)
    c5 = int(session.execute(text(
        "INSERT INTO finding (school_id, kind, rule_id, metric, verdict, state, "
        "problem_category, description) VALUES (:s, 'report', 'problem.traffic_parking', "
        "'boundary', 'review', 'found', 'traffic_parking', '校门口车辆违停') RETURNING id"),
        {"s": b}).scalar_one())
    _assignee(session, c1, "区文旅局")
    _assignee(session, c2, "区烟草局")
    _assignee(session, c4, "区文旅局")
    nov20, oct1 = date(2026, 11, 20), date(2026, 10, 1)
    for state, at, deadline, comment in (
            ("found", _at(2026, 10, 20, 2), None, None),
            ("reported", _at(2026, 10, 21, 2), None, None),
            ("assigned", _at(2026, 10, 22, 2), nov20, None),
            ("rectifying", _at(2026, 10, 23, 2), nov20, None),
            ("to_accept", _at(2026, 11, 18, 2), nov20, "已停业并注销许可"),
            ("accepted", _at(2026, 11, 25, 2), nov20, None),
            ("closed", _at(2026, 11, 30, 15, 30), nov20, None)):
        event(session, c1, state, at, deadline=deadline, comment=comment)
    nov10 = date(2026, 11, 10)
    for state, at, deadline in (("found", _at(2026, 11, 2, 1), None),
                                ("reported", _at(2026, 11, 3, 1), None),
                                ("assigned", _at(2026, 11, 4, 1), nov10),
                                ("rectifying", _at(2026, 11, 5, 1), nov10)):
        event(session, c2, state, at, deadline=deadline)
    event(session, c3, "found", _at(2026, 11, 30, 16, 10))
    for state, at, deadline, comment in (
            ("found", _at(2026, 9, 1, 2), None, None),
            ("reported", _at(2026, 9, 2, 2), None, None),
            ("assigned", _at(2026, 9, 3, 2), oct1, None),
            ("rectifying", _at(2026, 9, 4, 2), oct1, None),
            ("to_accept", _at(2026, 9, 25, 2), oct1, "已搬迁"),
            ("accepted", _at(2026, 9, 28, 2), oct1, None),
            ("closed", _at(2026, 10, 5, 2), oct1, None),
            ("found", _at(2026, 11, 10, 2), oct1, "反弹：销号后第 9 次扫描复查，场所仍在营")):
        event(session, c4, state, at, deadline=deadline, comment=comment)
    for state, at in (("found", _at(2026, 11, 14, 17)), ("proposed", _at(2026, 11, 16, 2)),
                      ("unfounded", _at(2026, 11, 17, 2))):
        event(session, c5, state, at)
    event(session, c6, "found", _at(2026, 10, 1, 2))
    event(session, c6, "resolved", _at(2026, 11, 11, 2))
    session.execute(text(
        "INSERT INTO supervision_order (finding_id, number, office, issued_on, deadline, "
        "requirements, issued_by) VALUES (:f, '督〔2026〕7号', '区综治办', '2026-11-20', "
        "'2026-12-05', '限期整改', 'test')"), {"f": c2})
    session.execute(text(
        "INSERT INTO interview (finding_id, unit, held_on, participants, summary, recorded_by) "
        "VALUES (:f, '区交警大队', '2026-11-18', '张三', '违停整治', 'test'), "
        "(NULL, '区市场监管局', '2026-11-25', '李四', '周边摊点', 'test')"), {"f": c5})
    return History(c1, c2, c3, c4, c5, c6)


# Figures in COUNTS order: 新增 上报 交办 整改完成 验收 销号 其他办结 自动解除 期末未办结
# 期末逾期 挂牌督办 约谈 反弹; then 整改率 按期办结率 反弹率 (percent, None = "—").
NOVEMBER_TOTAL = (2, 1, 1, 1, 1, 1, 1, 1, 2, 2, 1, 2, 1, 66.7, 50.0, 50.0)
OCTOBER_TOTAL = (2, 1, 1, 0, 0, 1, 0, 0, 2, 1, 0, 0, 0, 50.0, 0.0, 0.0)
NOVEMBER_BY_DISTRICT = (
    ("海淀区（110108）", 1, 1, 1, 1, 1, 1, 0, 0, 1, 1, 1, 0, 0, 50.0, 0.0, 0.0),
    ("江岸区（420102）", 1, 0, 0, 0, 0, 0, 1, 1, 1, 1, 0, 1, 1, 100.0, 100.0, 100.0),
    ("（未关联问题）", 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, None, None, None),
)
