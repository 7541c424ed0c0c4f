"""The case loop: every path through it, its refusals, separation of duties, 督办 and 反弹."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import pytest
from shapely.geometry import Point, box
from sqlalchemy import text
from sqlalchemy.orm import Session

from tests.factories import add_finding, add_premises, add_school, write_rules
from tests.oracle import from_local
from zoneguard.domain import Role
from zoneguard.errors import Forbidden, InvalidTransition, NotFound, ValidationError
from zoneguard.models import Finding
from zoneguard.services.access.keys import Scope
from zoneguard.services.cases.findings import get_finding, list_findings
from zoneguard.services.cases.flow import ACTIONS, LOOP_WORDS, describe
from zoneguard.services.cases.workflow import act, supervision_level
from zoneguard.services.scan.run import run_scan
from zoneguard.settings import Settings

TODAY = date.today()
LATER = TODAY + timedelta(days=30)
LON, LAT = 114.0, 30.5


@dataclass(frozen=True)
class Who:
    actor: str
    role: Role


ZONGZHI = Who("user:综治办王科长", Role.GOVERNANCE)
CHECKER = Who("user:综治办李验收", Role.GOVERNANCE)
BUREAU = Who("key:7:洪山区市场监管局", Role.BUREAU)
VIEWER = Who("key:8:viewer", Role.VIEWER)


def at(x: float, y: float) -> tuple[float, float]:
    p = from_local(Point(x, y), LON, LAT)
    return p.x, p.y


@pytest.fixture
def cfg(settings: Settings, tmp_path: Path) -> Settings:
    return settings.model_copy(update={"rules_dir": write_rules(tmp_path / "rules")})


@pytest.fixture
def case(session: Session) -> tuple[int, int]:
    """A found internet café 100 m from a campus wall; returns (finding id, premises id)."""
    school = add_school(session, "WF1", from_local(box(-100, -100, 100, 100), LON, LAT),
                        region="420102")
    premises = add_premises(session, "internet_cafe", *at(0, -200), region="420102")
    finding = add_finding(session, school, premises, rule_id="t.internet_cafe", state="found",
                          line=(at(0, -200), at(0, -100)))
    return finding, premises


def _act(session: Session, cfg: Settings, finding: int, action: str, who: Who,
         **kw: object) -> Finding:
    return act(session, finding, action=action, caller=who, today=TODAY, settings=cfg,
               **kw)  # type: ignore[arg-type]


def _evidence(session: Session, finding: int, who: Who = BUREAU) -> None:
    session.execute(text(
        "INSERT INTO evidence (finding_id, sha256, size_bytes, media_type, filename, uploaded_by)"
        " VALUES (:f, repeat('a', 64), 1024, 'image/jpeg', 'photo.jpg', :who)"),
        {"f": finding, "who": who.actor})


def _close_premises(session: Session, premises: int) -> None:
    session.execute(text("UPDATE premises SET status = 'closed' WHERE id = :id"), {"id": premises})


def _steps(session: Session, finding: int) -> list[tuple[str | None, str, str]]:
    return [(r.from_state, r.to_state, r.actor) for r in session.execute(text(
        "SELECT from_state, to_state, actor FROM finding_event WHERE finding_id = :f "
        "ORDER BY id"), {"f": finding})]


def test_the_whole_loop_to_closing_records_who_did_each_step(
        session: Session, cfg: Settings, case: tuple[int, int]) -> None:
    finding, premises = case
    _act(session, cfg, finding, "report", BUREAU)
    _act(session, cfg, finding, "assign", ZONGZHI, assignee="洪山区市场监管局", deadline=LATER)
    _act(session, cfg, finding, "start", BUREAU)
    _evidence(session, finding)
    _act(session, cfg, finding, "submit", BUREAU, comment="已责令停业并拆除招牌")
    _act(session, cfg, finding, "reject", CHECKER, comment="招牌仍在，退回整改")
    _act(session, cfg, finding, "submit", BUREAU, comment="招牌已拆除，场所已关闭")
    _close_premises(session, premises)
    _act(session, cfg, finding, "accept", CHECKER)
    done = _act(session, cfg, finding, "close", ZONGZHI)
    assert done.state == "closed" and done.resolved_at is not None
    assert _steps(session, finding) == [
        ("found", "reported", BUREAU.actor), ("reported", "assigned", ZONGZHI.actor),
        ("assigned", "rectifying", BUREAU.actor), ("rectifying", "to_accept", BUREAU.actor),
        ("to_accept", "rectifying", CHECKER.actor), ("rectifying", "to_accept", BUREAU.actor),
        ("to_accept", "accepted", CHECKER.actor), ("accepted", "closed", ZONGZHI.actor)]
    audits = session.execute(text(
        "SELECT action, actor FROM audit_log WHERE entity = 'finding' AND entity_id = :f "
        "ORDER BY id"), {"f": str(finding)}).all()
    assert [a for a, _ in audits] == [
        "finding.report", "finding.assign", "finding.start", "finding.submit", "finding.reject",
        "finding.submit", "finding.accept", "finding.close"]
    detail = get_finding(session, finding)
    assert detail["state_name"] == "已销号" and detail["assignee"] == "洪山区市场监管局"


def test_the_rectifier_cannot_accept_or_close_its_own_case(
        session: Session, cfg: Settings, case: tuple[int, int]) -> None:
    finding, premises = case
    rectifier = Who("user:综治办张三", Role.GOVERNANCE)  # governance that also rectified
    _act(session, cfg, finding, "report", BUREAU)
    _act(session, cfg, finding, "assign", ZONGZHI, assignee="综治办")
    _act(session, cfg, finding, "start", rectifier)
    _evidence(session, finding, rectifier)
    _act(session, cfg, finding, "submit", rectifier, comment="已协调关闭")
    _close_premises(session, premises)
    with pytest.raises(Forbidden, match="整改人员不能验收自己整改的问题"):
        _act(session, cfg, finding, "accept", rectifier)
    with pytest.raises(Forbidden, match="“业务主管部门”角色不能验收"):
        _act(session, cfg, finding, "accept", BUREAU)
    _act(session, cfg, finding, "accept", CHECKER)
    with pytest.raises(Forbidden, match="整改人员不能销号"):
        _act(session, cfg, finding, "close", rectifier)


def test_acceptance_needs_evidence_and_the_conflict_gone(
        session: Session, cfg: Settings, case: tuple[int, int]) -> None:
    finding, premises = case
    _act(session, cfg, finding, "report", BUREAU)
    _act(session, cfg, finding, "assign", ZONGZHI, assignee="市场监管局")
    _act(session, cfg, finding, "start", BUREAU)
    with pytest.raises(ValidationError, match="须上传至少一份证据材料"):
        _act(session, cfg, finding, "submit", BUREAU, comment="已整改完毕")
    _evidence(session, finding)
    _act(session, cfg, finding, "submit", BUREAU, comment="已整改完毕")
    # The café still operates 100 m from the wall: measured again now, still prohibited.
    with pytest.raises(ValidationError, match="仍在营，且按现行规则重新测算仍不符合距离要求"):
        _act(session, cfg, finding, "accept", CHECKER)
    session.execute(text("UPDATE premises SET location = ST_SetSRID(ST_MakePoint(:x, :y), 4326)"
                         " WHERE id = :id"), {"x": at(0, -400)[0], "y": at(0, -400)[1],
                                               "id": premises})
    accepted = _act(session, cfg, finding, "accept", CHECKER)  # moved 300 m out: gone
    assert accepted.state == "accepted"


def test_closings_other_than_xiaohao_are_proposed_then_approved_by_someone_else(
        session: Session, cfg: Settings, case: tuple[int, int]) -> None:
    finding, _ = case
    with pytest.raises(ValidationError, match="拟办结需选择理由"):
        _act(session, cfg, finding, "propose", BUREAU, comment="存量场所")
    with pytest.raises(ValidationError, match="依法保留只适用于存量场所"):
        _act(session, cfg, finding, "propose", BUREAU, closing="retained", comment="存量场所保留")
    with pytest.raises(ValidationError, match="至少 4 个字"):
        session.execute(text("UPDATE finding SET existing = true WHERE id = :f"), {"f": finding})
        _act(session, cfg, finding, "propose", BUREAU, closing="retained", comment="存量")
    _act(session, cfg, finding, "propose", BUREAU, closing="retained",
         comment="许可证 2019 年核发早于规则施行，期满不予延续")
    with pytest.raises(Forbidden, match="提出办结的人员不能批准办结自己的提议"):
        _act(session, cfg, finding, "approve", Who(BUREAU.actor, Role.GOVERNANCE))
    with pytest.raises(ValidationError, match="说明"):
        _act(session, cfg, finding, "decline", ZONGZHI)
    _act(session, cfg, finding, "decline", ZONGZHI, comment="请补充许可证复印件")
    assert get_finding(session, finding)["state"] == "found"  # back where it was proposed
    _act(session, cfg, finding, "propose", BUREAU, closing="retained",
         comment="已补充许可证复印件，期满不予延续")
    done = _act(session, cfg, finding, "approve", ZONGZHI)
    assert done.state == "retained"
    assert "依法保留（存量，到期处理）" in done.resolution


def test_unfounded_needs_a_field_measurement_or_evidence(
        session: Session, cfg: Settings, case: tuple[int, int]) -> None:
    finding, _ = case
    with pytest.raises(ValidationError, match="核查不属实须有现场测量记录或证据材料"):
        _act(session, cfg, finding, "propose", BUREAU, closing="unfounded",
             comment="现场测量距离 212 米")
    _evidence(session, finding)
    _act(session, cfg, finding, "propose", BUREAU, closing="unfounded",
         comment="现场测量距离 212 米")
    assert get_finding(session, finding)["state"] == "proposed"


def test_an_invalid_action_names_the_allowed_ones_and_changes_nothing(
        session: Session, cfg: Settings, case: tuple[int, int]) -> None:
    finding, _ = case
    with pytest.raises(InvalidTransition, match="当前为“发现（排查）”，不能验收.*report（上报）"):
        _act(session, cfg, finding, "accept", CHECKER)
    with pytest.raises(ValidationError, match="未知操作"):
        _act(session, cfg, finding, "exempt", ZONGZHI)
    with pytest.raises(Forbidden, match="“只读”角色不能上报"):
        _act(session, cfg, finding, "report", VIEWER)
    with pytest.raises(ValidationError, match="交办需指定责任单位"):
        _act(session, cfg, finding, "report", BUREAU)
        _act(session, cfg, finding, "assign", ZONGZHI)
    with pytest.raises(ValidationError, match="早于今天"):
        _act(session, cfg, finding, "assign", ZONGZHI, assignee="b", deadline=date(2020, 1, 1))
    assert [s[:2] for s in _steps(session, finding)] == [("found", "reported")]


def test_a_case_outside_the_callers_scope_is_not_found(
        session: Session, cfg: Settings, case: tuple[int, int]) -> None:
    finding, _ = case
    with pytest.raises(NotFound, match="不在您的权限范围内"):
        act(session, finding, action="report", caller=BUREAU, today=TODAY, settings=cfg,
            scope=Scope(categories=frozenset({"tobacco"})))
    with pytest.raises(NotFound):
        get_finding(session, finding, scope=Scope(region_prefix="44"))
    assert _steps(session, finding) == []


def test_overdue_cases_escalate_to_yellow_then_red(
        session: Session, cfg: Settings, case: tuple[int, int]) -> None:
    finding, _ = case
    assert supervision_level("found", TODAY - timedelta(days=1), TODAY) == "yellow"
    assert supervision_level("found", TODAY - timedelta(days=16), TODAY) == "red"
    assert supervision_level("found", TODAY, TODAY) is None
    assert supervision_level("closed", TODAY - timedelta(days=40), TODAY) is None
    session.execute(text("UPDATE finding SET step_due = :d WHERE id = :f"),
                    {"d": TODAY - timedelta(days=3), "f": finding})
    (row,), _ = list_findings(session, overdue=True, today=TODAY)
    assert row["id"] == finding and row["supervision"] == "yellow" and row["overdue"]
    session.execute(text("UPDATE finding SET step_due = :d WHERE id = :f"),
                    {"d": TODAY - timedelta(days=20), "f": finding})
    assert list_findings(session, overdue=True, today=TODAY)[0][0]["supervision"] == "red"


def test_a_closed_case_whose_premises_is_still_there_rebounds_on_the_next_scan(
        session: Session, cfg: Settings) -> None:
    add_school(session, "RB1", from_local(box(-100, -100, 100, 100), LON, LAT), region="710102")
    premises = add_premises(session, "internet_cafe", *at(0, -150), region="710102")
    run_scan(session, trigger="manual", settings=cfg, region="71")
    finding = session.execute(text("SELECT id FROM finding WHERE premises_id = :p"),
                              {"p": premises}).scalar_one()
    # A case that was 销号 by hand although the café still operates 50 m from the wall.
    session.execute(text("UPDATE finding SET state = 'closed', resolved_at = now() "
                         "WHERE id = :f"), {"f": finding})
    summary = run_scan(session, trigger="manual", settings=cfg, region="71", full=True)
    row = get_finding(session, finding)
    assert summary.reopened == 1 and row["state"] == "found" and row["rebound"]
    assert row["events"][-1]["comment"].startswith("反弹：销号后")
    listed, _ = list_findings(session, region="71", state="active", today=TODAY)
    assert [r["id"] for r in listed if r["rebound"]] == [finding]


def test_the_workflow_description_is_complete_and_in_the_seeds_words() -> None:
    described = describe()
    assert described["loop"] == ["排查", "上报", "交办", "整改", "验收", "销号"] == list(LOOP_WORDS)
    names = {s["code"]: s["name"] for s in described["states"]}  # type: ignore[union-attr]
    assert names["reported"] == "已上报" and names["closed"] == "已销号"
    assert names["to_accept"] == "待验收" and names["accepted"] == "已验收"
    labels = {a.label for a in ACTIONS}
    assert {"上报", "交办", "验收", "销号", "退回整改"} <= labels
    codes = [a["code"] for a in described["actions"]]  # type: ignore[union-attr, index]
    assert len(codes) == len(set(codes))
