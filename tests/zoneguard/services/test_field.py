"""Field measurement: two measurers, a fixed list of methods; the case's verdict follows it."""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import pytest
from shapely.geometry import Point, box
from sqlalchemy import text
from sqlalchemy.orm import Session

from tests.factories import RULES_YAML, add_finding, add_premises, add_school, write_rules
from tests.oracle import from_local
from tests.zoneguard.services.test_evidence import PDF, jpeg
from zoneguard.domain import Role
from zoneguard.errors import Forbidden, NotFound, ValidationError
from zoneguard.services.access.keys import Scope
from zoneguard.services.cases.evidence import add_evidence
from zoneguard.services.cases.field import list_measurements, record_measurement
from zoneguard.services.cases.findings import get_finding, list_findings
from zoneguard.services.cases.workflow import act
from zoneguard.settings import Settings

TODAY = date.today()
LON, LAT = 114.0, 30.5
EXCLUSIVE = RULES_YAML + """\
  - id: t.exclusive
    category: game_hall
    protects: [primary]
    distance_m: 200
    inclusive: false
    metric: boundary
    existing: violation
    distance_kind: statutory
    citations: [{authority: 测试机关, title: 不得少于 200 米, confidence: C}]
    effective_from: 2000-01-01
"""


@dataclass(frozen=True)
class Who:
    actor: str
    role: Role


BUREAU = Who("key:7:洪山区市场监管局", Role.BUREAU)
ZONGZHI = Who("user:综治办王科长(wang)", Role.GOVERNANCE)
CHECKER = Who("user:综治办李验收(li)", Role.GOVERNANCE)


@pytest.fixture
def cfg(settings: Settings, tmp_path: Path) -> Settings:
    return settings.model_copy(update={"home": tmp_path / "home",
                                       "rules_dir": write_rules(tmp_path / "rules", EXCLUSIVE)})


@pytest.fixture
def school(session: Session) -> int:
    return add_school(session, "FM1", from_local(box(-100, -100, 100, 100), LON, LAT),
                      region="420102")


def case(session: Session, school: int, rule_id: str = "t.internet_cafe",
         threshold_m: float | None = 200.0) -> int:
    p = from_local(Point(0, -150), LON, LAT)
    count = session.execute(text("SELECT count(*) FROM premises")).scalar_one()
    premises = add_premises(session, "internet_cafe", p.x, p.y, region="420102",
                            licence_no=f"FM-{count}")
    return add_finding(session, school, premises, rule_id=rule_id, distance_m=50.0,
                       threshold_m=threshold_m)


def measure(session: Session, cfg: Settings, finding: int, distance_m: float, *,
            who: Who = BUREAU, scope: Scope | None = None, **kw: object) -> str:
    args: dict[str, object] = {"method": "激光测距仪", "instrument": "徕卡 DISTO D2 #0042",
                               "measurers": ["张三", "李四"], "measured_on": TODAY}
    row = record_measurement(session, finding, distance_m=distance_m, caller=who, scope=scope,
                             today=TODAY, settings=cfg, **{**args, **kw})  # type: ignore[arg-type]
    return row.verdict


def test_a_field_measurement_stands_beside_the_computed_distance_and_decides_the_verdict(
        session: Session, cfg: Settings, school: int) -> None:
    finding = case(session, school)
    photo = add_evidence(session, finding, stream=io.BytesIO(jpeg()), filename="尺.jpg",
                         media_type="image/jpeg", note=None, caller=BUREAU, scope=None,
                         settings=cfg).id
    assert measure(session, cfg, finding, 212.4, evidence_id=photo) == "allowed"
    detail = get_finding(session, finding)
    assert detail["distance_m"] == 50.0 and detail["field_distance_m"] == 212.4
    assert detail["verdict"] == "prohibited" and detail["field_verdict"] == "allowed"
    assert detail["effective_verdict"] == "allowed"
    assert "现场测量" in detail["reasons"][-1] and "212.40 米" in detail["reasons"][-1]
    assert "以现场测量为准" in detail["reasons"][-1]
    event = detail["events"][-1]
    assert event["from_state"] == event["to_state"] == "found"
    assert event["comment"].startswith("现场测量") and event["actor"] == BUREAU.actor
    (listed,), _ = list_findings(session, school="FM1", today=TODAY)
    assert (listed["distance_m"], listed["field_distance_m"]) == (50.0, 212.4)
    assert listed["effective_verdict"] == "allowed"
    (row,) = list_measurements(session, finding)
    assert row["measurers"] == ["张三", "李四"] and row["evidence_id"] == photo
    assert row["recorded_by"] == BUREAU.actor and row["method"] == "激光测距仪"
    audit = session.execute(text("SELECT after->>'field_verdict' FROM audit_log WHERE "
                                 "action = 'finding.measure' AND entity_id = :f"),
                            {"f": str(finding)}).scalar_one()
    assert audit == "allowed"
    # A later measurement inside the distance: the case follows the latest one.
    assert measure(session, cfg, finding, 180.0, method="卷尺") == "prohibited"
    assert get_finding(session, finding)["effective_verdict"] == "prohibited"


def test_the_rules_inclusiveness_decides_a_measurement_exactly_at_the_distance(
        session: Session, cfg: Settings, school: int) -> None:
    inclusive = case(session, school)  # "200 米以内" includes 200
    exclusive = case(session, school, "t.exclusive")  # "不得少于 200 米": 200 is allowed
    unknown = case(session, school, "gone.rule")  # not in the rule set: inclusive
    assert measure(session, cfg, inclusive, 200.0) == "prohibited"
    assert measure(session, cfg, exclusive, 200.0) == "allowed"
    assert measure(session, cfg, exclusive, 199.99) == "prohibited"
    assert measure(session, cfg, unknown, 200.0) == "prohibited"
    assert "（不含）以内" in get_finding(session, exclusive)["reasons"][-1]


def test_a_field_measurement_outside_the_distance_lets_acceptance_pass(
        session: Session, cfg: Settings, school: int) -> None:
    finding = case(session, school)  # the café stays active, computed 50 m from the wall

    def step(action: str, who: Who, **kw: object) -> str:
        return act(session, finding, action=action, caller=who, today=TODAY, settings=cfg,
                   **kw).state  # type: ignore[arg-type]

    for action, who in (("report", BUREAU), ("assign", ZONGZHI), ("start", BUREAU)):
        step(action, who, **({"assignee": "市场监管局"} if action == "assign" else {}))
    add_evidence(session, finding, stream=io.BytesIO(jpeg()), filename="a.jpg", media_type=None,
                 note=None, caller=BUREAU, scope=None, settings=cfg)
    step("submit", BUREAU, comment="场所已迁至新址")
    with pytest.raises(ValidationError, match="仍在营"):
        step("accept", CHECKER)
    measure(session, cfg, finding, 205.0, who=CHECKER)
    assert step("accept", CHECKER) == "accepted"


@pytest.mark.parametrize(("change", "error", "message"), [
    ({"method": "目测"}, ValidationError, "测量方法须为：卷尺、测距轮、激光测距仪、GNSS"),
    ({"measurers": ["张三"]}, ValidationError, "两名不同的测量人员"),
    ({"measurers": ["张三", " 张三 "]}, ValidationError, "两名不同的测量人员"),
    ({"measurers": ["张三", "李四", "王五"]}, ValidationError, "两名不同的测量人员"),
    ({"measured_on": TODAY + timedelta(days=1)}, ValidationError, "晚于今天"),
    ({"instrument": "  "}, ValidationError, "须填写测量仪器"),
    ({"distance_m": -1.0}, ValidationError, "测量距离须在"),
    ({"distance_m": float("nan")}, ValidationError, "测量距离须在"),
    ({"who": Who("key:9:grid", Role.GRID)}, Forbidden, "“网格员”角色不能记录现场测量"),
    ({"who": Who("key:9:viewer", Role.VIEWER)}, Forbidden, "“只读”角色不能记录现场测量"),
    ({"scope": Scope(region_prefix="44")}, NotFound, "不在您的权限范围内"),
])
def test_a_bad_measurement_is_refused_and_changes_nothing(
        session: Session, cfg: Settings, school: int, change: dict[str, object],
        error: type[Exception], message: str) -> None:
    finding = case(session, school)
    distance = change.pop("distance_m", 250.0)
    with pytest.raises(error, match=message):
        measure(session, cfg, finding, distance, **change)  # type: ignore[arg-type]
    detail = get_finding(session, finding)
    assert detail["field_distance_m"] is None and detail["events"] == []
    assert list_measurements(session, finding) == []


def test_the_photo_must_be_a_photo_of_the_same_case(
        session: Session, cfg: Settings, school: int) -> None:
    finding, other = case(session, school), case(session, school)

    def evidence(of: int, data: bytes, name: str) -> int:
        return add_evidence(session, of, stream=io.BytesIO(data), filename=name, media_type=None,
                            note=None, caller=BUREAU, scope=None, settings=cfg).id

    with pytest.raises(ValidationError, match=f"不是问题 {finding} 的证据"):
        measure(session, cfg, finding, 250.0, evidence_id=evidence(other, jpeg(), "o.jpg"))
    with pytest.raises(ValidationError, match="不是照片"):
        measure(session, cfg, finding, 250.0, evidence_id=evidence(finding, PDF, "a.pdf"))
    no_distance = case(session, school, threshold_m=None)
    with pytest.raises(ValidationError, match="没有规定距离"):
        measure(session, cfg, no_distance, 250.0)
    assert list_measurements(session, finding) == []
