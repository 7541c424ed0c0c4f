"""Rescans in the rolled-back session: new, still open, resolved, reopened, grandfathering,
agreement with screening, failures and the scan lock. (Commits and kills: test_scan_commits.)
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest
from shapely.geometry import Point, box
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from benchmarks.synthetic import city, load
from tests.conftest import ROOT
from tests.factories import add_gate, add_premises, add_school, write_rules
from tests.oracle import distance_m, from_local
from tests.scratchdb import empty
from zoneguard.errors import ScanRunning
from zoneguard.services.cases.findings import list_findings
from zoneguard.services.scan import run as scan_module
from zoneguard.services.scan.run import run_scan
from zoneguard.services.scan.sql import LOCK_KEY
from zoneguard.services.screening import screen
from zoneguard.settings import Settings

LON, LAT = 114.0, 30.5
REGION = "710102"  # a region no other test writes
SCOPE = "71"
CAMPUS = from_local(box(-100, -100, 100, 100), LON, LAT)  # 200 m × 200 m


def at(x: float, y: float) -> tuple[float, float]:
    """WGS 84 lon/lat of a point `x`, `y` metres east/north of the campus centre."""
    p = from_local(Point(x, y), LON, LAT)
    return p.x, p.y


@pytest.fixture
def cfg(settings: Settings, tmp_path: Path) -> Settings:
    return settings.model_copy(update={"rules_dir": write_rules(tmp_path / "rules")})


def _premises(session: Session, category: str, x: float, y: float, **kw: object) -> int:
    lon, lat = at(x, y)
    return add_premises(session, category, lon, lat, region=REGION, **kw)  # type: ignore[arg-type]


def _findings(session: Session) -> dict[tuple[int, str], dict[str, object]]:
    rows = session.execute(text(
        "SELECT premises_id, rule_id, state, verdict, distance_m, resolution, reasons "
        "FROM finding")).mappings()
    return {(r["premises_id"], r["rule_id"]): dict(r) for r in rows}


def _events(session: Session, premises_id: int) -> list[tuple[str | None, str]]:
    return [tuple(r) for r in session.execute(text(  # type: ignore[misc]
        "SELECT e.from_state, e.to_state FROM finding_event e JOIN finding f "
        "ON f.id = e.finding_id WHERE f.premises_id = :p ORDER BY e.id"), {"p": premises_id})]


def test_scan_finds_conflicts_and_a_rescan_of_unchanged_data_adds_nothing(
        session: Session, cfg: Settings) -> None:
    add_school(session, "S1", CAMPUS, region=REGION)
    cafe = _premises(session, "internet_cafe", 250, 0)      # 150 m: inside 200 m
    tobacco = _premises(session, "tobacco", 0, 240)         # 140 m: outside 100 m
    lottery = _premises(session, "lottery", -130, 0)        # 30 m: inside 50 m
    far = _premises(session, "internet_cafe", 0, 500)       # 400 m
    first = run_scan(session, trigger="manual", settings=cfg, region=SCOPE)
    assert (first.new, first.open, first.resolved, first.reopened) == (2, 0, 0, 0)
    found = _findings(session)
    assert set(found) == {(cafe, "t.internet_cafe"), (lottery, "t.lottery")}
    expected, _ = distance_m(*at(250, 0), CAMPUS)
    assert found[(cafe, "t.internet_cafe")]["distance_m"] == pytest.approx(expected, abs=0.05)
    assert found[(cafe, "t.internet_cafe")]["verdict"] == "prohibited"
    assert tobacco not in {k[0] for k in found} and far not in {k[0] for k in found}
    second = run_scan(session, trigger="manual", settings=cfg, region=SCOPE)
    assert (second.new, second.open, second.resolved, second.reopened) == (0, 2, 0, 0)
    assert _events(session, cafe) == [(None, "found")]
    rows = session.execute(text("SELECT status, new, still_open, data_versions FROM scan "
                                "ORDER BY id")).all()
    assert [(r.status, r.new, r.still_open) for r in rows] == [("succeeded", 2, 0),
                                                              ("succeeded", 0, 2)]
    assert rows[0].data_versions["premises"] >= 4 and rows[0].data_versions["schools"] >= 1


def test_closing_a_premises_resolves_its_findings_and_reopening_it_reopens_them(
        session: Session, cfg: Settings) -> None:
    add_school(session, "S1", CAMPUS, region=REGION)
    cafe = _premises(session, "internet_cafe", 150, 0)
    run_scan(session, trigger="manual", settings=cfg, region=SCOPE)
    session.execute(text("UPDATE premises SET status = 'closed' WHERE id = :p"), {"p": cafe})
    closed = run_scan(session, trigger="nightly", settings=cfg, region=SCOPE)
    assert (closed.new, closed.resolved) == (0, 1)
    finding = _findings(session)[(cafe, "t.internet_cafe")]
    assert finding["state"] == "resolved"
    assert finding["resolution"] == "场所状态为 closed（已不在营）"
    session.execute(text("UPDATE premises SET status = 'active' WHERE id = :p"), {"p": cafe})
    back = run_scan(session, trigger="nightly", settings=cfg, region=SCOPE)
    assert (back.new, back.reopened, back.resolved) == (0, 1, 0)
    assert _findings(session)[(cafe, "t.internet_cafe")]["state"] == "found"
    assert _events(session, cafe) == [(None, "found"), ("found", "resolved"), ("resolved", "found")]


def test_moving_a_premises_away_resolves_and_moving_it_back_reopens(
        session: Session, cfg: Settings) -> None:
    add_school(session, "S1", CAMPUS, region=REGION)
    cafe = _premises(session, "internet_cafe", 150, 0)
    run_scan(session, trigger="manual", settings=cfg, region=SCOPE)
    move = text("UPDATE premises SET location = ST_SetSRID(ST_MakePoint(:lon, :lat), 4326) "
                "WHERE id = :p")
    lon, lat = at(400, 0)
    session.execute(move, {"p": cafe, "lon": lon, "lat": lat})
    assert run_scan(session, trigger="manual", settings=cfg, region=SCOPE).resolved == 1
    assert _findings(session)[(cafe, "t.internet_cafe")]["resolution"].startswith(  # type: ignore[union-attr]
        "场所已迁移")
    lon, lat = at(120, 0)
    session.execute(move, {"p": cafe, "lon": lon, "lat": lat})
    again = run_scan(session, trigger="manual", settings=cfg, region=SCOPE)
    assert again.reopened == 1
    assert _findings(session)[(cafe, "t.internet_cafe")]["distance_m"] == pytest.approx(
        distance_m(lon, lat, CAMPUS)[0], abs=0.05)


def test_an_exempted_finding_holds_until_the_conflict_changes_materially(
        session: Session, cfg: Settings) -> None:
    add_school(session, "S1", CAMPUS, region=REGION)
    cafe = _premises(session, "internet_cafe", 180, 0)  # 80 m from the campus
    run_scan(session, trigger="manual", settings=cfg, region=SCOPE)
    fid = session.execute(text("SELECT id FROM finding WHERE premises_id = :p"),
                          {"p": cafe}).scalar_one()
    session.execute(text("UPDATE finding SET state = 'special' WHERE id = :f"), {"f": fid})
    move = text("UPDATE premises SET location = ST_SetSRID(ST_MakePoint(:lon, :lat), 4326) "
                "WHERE id = :p")
    session.execute(move, {"p": cafe, **dict(zip(("lon", "lat"), at(181, 0), strict=True))})
    same = run_scan(session, trigger="manual", settings=cfg, region=SCOPE)
    assert (same.reopened, same.new) == (0, 0)
    assert _findings(session)[(cafe, "t.internet_cafe")]["state"] == "special"
    session.execute(move, {"p": cafe, **dict(zip(("lon", "lat"), at(120, 0), strict=True))})
    closer = run_scan(session, trigger="manual", settings=cfg, region=SCOPE)
    assert closer.reopened == 1
    assert _findings(session)[(cafe, "t.internet_cafe")]["state"] == "found"
    comment = session.execute(text("SELECT comment FROM finding_event WHERE finding_id = :f "
                                   "ORDER BY id DESC LIMIT 1"), {"f": fid}).scalar_one()
    assert "冲突自办结后发生实质变化" in comment and "→ prohibited 20.0 米" in comment


def test_closing_the_school_resolves_with_the_school_as_the_reason(
        session: Session, cfg: Settings) -> None:
    school = add_school(session, "S1", CAMPUS, region=REGION)
    cafe = _premises(session, "internet_cafe", 150, 0)
    run_scan(session, trigger="manual", settings=cfg, region=SCOPE)
    session.execute(text("UPDATE school SET closed_on = DATE '2024-07-01' WHERE id = :s"),
                    {"s": school})
    assert run_scan(session, trigger="manual", settings=cfg, region=SCOPE).resolved == 1
    assert _findings(session)[(cafe, "t.internet_cafe")]["resolution"] == \
        "学校已于 2024-07-01 停办"


def test_applicants_are_not_scanned_and_suspended_premises_are(
        session: Session, cfg: Settings) -> None:
    add_school(session, "S1", CAMPUS, region=REGION)
    applicant = _premises(session, "internet_cafe", 150, 0, status="applicant")
    suspended = _premises(session, "internet_cafe", 0, 150, status="suspended")
    run_scan(session, trigger="manual", settings=cfg, region=SCOPE)
    found = {k[0] for k in _findings(session)}
    assert suspended in found and applicant not in found


def test_grandfathered_premises_follow_each_rules_existing_policy(
        session: Session, cfg: Settings) -> None:
    add_school(session, "S1", CAMPUS, region=REGION, opened_on=date(2020, 9, 1))
    before = date(2010, 5, 1)
    cafe = _premises(session, "internet_cafe", 150, 0, issued_on=before)   # existing: violation
    tobacco = _premises(session, "tobacco", 0, 150, issued_on=before)      # existing: review
    lottery = _premises(session, "lottery", -120, 0, issued_on=before)     # existing: exempt
    newer = _premises(session, "tobacco", 0, -150, issued_on=date(2021, 1, 1))
    run_scan(session, trigger="manual", settings=cfg, region=SCOPE)
    found = _findings(session)
    assert found[(cafe, "t.internet_cafe")]["verdict"] == "prohibited"
    assert any("早于学校设立（2020-09-01）" in r for r in found[(cafe, "t.internet_cafe")]
               ["reasons"])  # type: ignore[attr-defined]
    assert found[(tobacco, "t.tobacco")]["verdict"] == "review"
    assert any("存量" in r for r in found[(tobacco, "t.tobacco")]["reasons"])  # type: ignore[attr-defined]
    assert (lottery, "t.lottery") not in found
    assert found[(newer, "t.tobacco")]["verdict"] == "prohibited"


def test_scan_and_screen_agree_on_every_premises_of_a_small_synthetic_city(
        session: Session, cfg: Settings) -> None:
    raw = session.connection().connection.driver_connection
    assert raw is not None
    loaded = load(raw, city(schools=30, premises=600, seed=7))
    assert (loaded.schools, loaded.premises) == (30, 600) and loaded.gates > 0
    summary = run_scan(session, trigger="manual", settings=cfg, region="4201")
    assert summary.new > 20
    scanned = {}
    for r in session.execute(text("SELECT premises_id, school_id, rule_id, verdict FROM finding")):
        scanned.setdefault(r.premises_id, set()).add((r.school_id, r.rule_id, r.verdict))
    premises = session.execute(text(
        "SELECT id, category, region, issued_on, ST_X(location) AS lon, ST_Y(location) AS lat, "
        "ST_X(entrance) AS elon, ST_Y(entrance) AS elat FROM premises WHERE status IN "
        "('active', 'suspended') AND category <> 'gas_station' AND region LIKE '4201%'")).all()
    assert len(premises) > 400
    for p in premises:
        result = screen(session, category=p.category, point=(p.lon, p.lat), region=p.region,
                        entrance=None if p.elon is None else (p.elon, p.elat),
                        issued_on=p.issued_on, store=False, settings=cfg)
        screened = {(c.school.school_id, c.rule.rule.id, c.verdict.value)
                    for c in result.conflicts}
        assert screened == scanned.get(p.id, set()), p.id


def test_a_failed_scan_leaves_the_findings_and_is_recorded_failed(
        session: Session, cfg: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    add_school(session, "S1", CAMPUS, region=REGION)
    cafe = _premises(session, "internet_cafe", 150, 0)
    run_scan(session, trigger="manual", settings=cfg, region=SCOPE)
    session.execute(text("UPDATE premises SET status = 'closed' WHERE id = :p"), {"p": cafe})
    _premises(session, "lottery", -120, 0)

    def crash(*_args: object) -> None:  # after every finding change, before the commit
        raise RuntimeError("disk full")

    monkeypatch.setattr(scan_module, "data_versions", crash)
    with pytest.raises(RuntimeError, match="disk full"):
        run_scan(session, trigger="manual", settings=cfg, region=SCOPE)
    assert [(k[1], f["state"]) for k, f in _findings(session).items()] == \
        [("t.internet_cafe", "found")]
    failed = session.execute(text("SELECT status, error, finished_at FROM scan "
                                  "ORDER BY id DESC LIMIT 1")).one()
    assert failed.status == "failed" and failed.error == "RuntimeError: disk full"
    assert failed.finished_at is not None


def test_a_second_scan_cannot_run_while_one_holds_the_lock(
        session: Session, cfg: Settings, engine: Engine) -> None:
    with engine.connect() as running:
        assert running.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": LOCK_KEY}).scalar()
        try:
            with pytest.raises(ScanRunning, match="另一次扫描正在进行"):
                run_scan(session, trigger="manual", settings=cfg, region=SCOPE)
        finally:  # a pooled connection keeps a session lock: never leave it to the next test
            running.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": LOCK_KEY})
    assert session.execute(text("SELECT count(*) FROM scan")).scalar_one() == 0


def test_wait_waits_for_the_running_scan_to_release_the_lock(
        session: Session, cfg: Settings, engine: Engine) -> None:
    running = engine.connect()
    running.execute(text("SELECT pg_advisory_lock(:k)"), {"k": LOCK_KEY})

    def finish() -> None:
        time.sleep(1.0)
        running.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": LOCK_KEY})
        running.close()

    releaser = threading.Thread(target=finish)
    started = time.perf_counter()
    releaser.start()
    summary = run_scan(session, trigger="manual", settings=cfg, wait=True)
    releaser.join()
    assert time.perf_counter() - started >= 0.9
    assert summary.scan_id > 0


# -- real commits: a scratch database of the test cluster (see tests/scratchdb.py) ----------

@pytest.fixture
def db(scratch: tuple[str, Engine]) -> Engine:
    empty(scratch[1])
    return scratch[1]


def _commit(db: Engine, sql: str, **params: object) -> None:
    with db.begin() as conn:
        conn.execute(text(sql), params)


def _seed(db: Engine) -> tuple[int, int]:
    with Session(db) as s, s.begin():
        school = add_school(s, "S1", CAMPUS, region=REGION)
        add_gate(s, school, *at(100, 0))
        cafe = _premises(s, "internet_cafe", 150, 0)
    return school, cafe


def _state(db: Engine, premises_id: int) -> str:
    with db.connect() as conn:
        return str(conn.execute(text("SELECT state FROM finding WHERE premises_id = :p"),
                                {"p": premises_id}).scalar_one())


def test_a_rescan_of_unchanged_committed_data_measures_nothing_and_confirms_the_findings(
        db: Engine, cfg: Settings) -> None:
    _, cafe = _seed(db)
    started: list[int] = []
    first = run_scan(db, trigger="manual", settings=cfg, on_start=started.append)
    assert (first.mode, first.new, first.pairs) == ("full", 1, 1)
    assert started == [first.scan_id]
    second = run_scan(db, trigger="nightly", settings=cfg)
    assert (second.mode, second.pairs, second.new, second.open) == ("incremental", 0, 0, 1)
    with Session(db) as s, s.begin():
        near = _premises(s, "lottery", -120, 0)
    third = run_scan(db, trigger="manual", settings=cfg)
    assert (third.mode, third.pairs, third.new, third.open) == ("incremental", 1, 1, 1)
    _commit(db, "UPDATE premises SET status = 'revoked' WHERE id = :p", p=cafe)
    fourth = run_scan(db, trigger="manual", settings=cfg)
    assert (fourth.mode, fourth.resolved, fourth.open) == ("incremental", 1, 1)
    assert _state(db, cafe) == "resolved" and _state(db, near) == "found"
    _commit(db, "DELETE FROM school_gate")
    assert run_scan(db, trigger="manual", settings=cfg).mode == "full"
    assert run_scan(db, trigger="manual", settings=cfg, full=True).mode == "full"


def _wait_for(predicate: Callable[[], bool], timeout_s: float = 60.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


def test_a_killed_scan_leaves_the_findings_and_the_next_scan_marks_it_failed(
        db: Engine, scratch: tuple[str, Engine], cfg: Settings, tmp_path: Path) -> None:
    _, cafe = _seed(db)
    run_scan(db, trigger="manual", settings=cfg)
    _commit(db, "UPDATE premises SET status = 'closed' WHERE id = :p", p=cafe)
    env = {**os.environ, "ZONEGUARD_DATABASE_URL": scratch[0],
           "ZONEGUARD_RULES_DIR": str(cfg.rules_dir), "ZONEGUARD_HOME": str(tmp_path)}
    blocker = db.connect()
    # The scan's last write is its audit row: blocked there, it has resolved the finding and
    # marked itself succeeded, uncommitted, when it is killed.
    blocker.execute(text("LOCK TABLE audit_log IN SHARE MODE"))
    child = subprocess.Popen(
        [sys.executable, "-c", "from zoneguard.cli.main import app; app()", "scan", "--json"],
        env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        def blocked() -> bool:
            with db.connect() as conn:
                return bool(conn.execute(text(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                    "AND wait_event_type = 'Lock' AND query LIKE '%audit_log%'")).scalar())

        _wait_for(blocked)
        with db.connect() as conn:
            running = conn.execute(text("SELECT id FROM scan WHERE status = 'running'")).all()
        assert len(running) == 1
        with pytest.raises(ScanRunning, match=f"扫描 {running[0].id}（"):
            run_scan(db, trigger="manual", settings=cfg)
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=30)
    finally:
        if child.poll() is None:
            child.kill()
        blocker.rollback()
        blocker.close()
    assert child.returncode == -signal.SIGKILL
    assert _state(db, cafe) == "found"  # the killed scan's resolution never committed
    after = run_scan(db, trigger="manual", settings=cfg, wait=True)
    assert after.resolved == 1 and _state(db, cafe) == "resolved"
    with db.connect() as conn:
        killed = conn.execute(text("SELECT status, error FROM scan WHERE id = :i"),
                              {"i": running[0].id}).one()
    assert killed.status == "failed" and killed.error.startswith("扫描中断")


def test_a_premises_out_of_reach_is_found_by_its_door_near_a_gate(
        session: Session, cfg: Settings) -> None:
    # Doors 80 m and 250 m from their points: past the default plausibility limit, allowed here
    cfg = cfg.model_copy(update={"max_entrance_m": 300.0})
    sid = add_school(session, "S1", CAMPUS, region=REGION)
    add_gate(session, sid, *at(100, 0))
    near_door = _premises(session, "fireworks", 260, 0)   # point 160 m out, door 80 m from gate
    far_door = _premises(session, "fireworks", 400, 0)    # point 300 m out, door 50 m from gate
    point_only = _premises(session, "fireworks", 150, 0)  # no door: its point is the door
    doors = {near_door: at(180, 0), far_door: at(150, 0)}
    for pid, (lon, lat) in doors.items():
        session.execute(text("UPDATE premises SET entrance = ST_SetSRID(ST_MakePoint(:lon, :lat),"
                             " 4326) WHERE id = :id"), {"lon": lon, "lat": lat, "id": pid})
    run_scan(session, trigger="manual", settings=cfg, region=SCOPE)
    found = _findings(session)
    assert set(found) == {(near_door, "t.fireworks"), (far_door, "t.fireworks"),
                          (point_only, "t.fireworks")}
    gate = at(100, 0)
    for pid, door in ((near_door, at(180, 0)), (far_door, at(150, 0)),
                      (point_only, at(150, 0))):
        assert found[(pid, "t.fireworks")]["verdict"] == "prohibited"
        expected, _ = distance_m(*door, Point(gate))
        got = found[(pid, "t.fireworks")]["distance_m"]
        assert isinstance(got, float) and abs(got - expected) < 1e-3


def test_a_door_just_nearer_than_its_point_is_found_where_east_is_an_axis_of_the_index(
        session: Session, cfg: Settings) -> None:
    # At 90°E east is the geocentric -x axis, so the index box of the campus grown by the
    # reach ends the reach east of it: the point 215 m out lies outside it, its door (16 m
    # nearer, within the scan's door slack) inside the 200 m walking rule.
    lon, lat = 90.0, 29.65
    campus = from_local(box(-100, -100, 100, 100), lon, lat)
    sid = add_school(session, "S90", campus, region=REGION)
    add_gate(session, sid, *_at(100, 0, lon, lat))
    pid = add_premises(session, "entertainment", *_at(315, 0, lon, lat), region=REGION)
    door = _at(299, 0, lon, lat)
    session.execute(text("UPDATE premises SET entrance = ST_SetSRID(ST_MakePoint(:lon, :lat), "
                         "4326) WHERE id = :id"), {"lon": door[0], "lat": door[1], "id": pid})
    run_scan(session, trigger="manual", settings=cfg, region=SCOPE)
    found = _findings(session)
    assert set(found) == {(pid, "t.entertainment")}
    assert found[(pid, "t.entertainment")]["verdict"] == "review"  # no network to walk


def _at(x: float, y: float, lon: float, lat: float) -> tuple[float, float]:
    p = from_local(Point(x, y), lon, lat)
    return p.x, p.y


def test_an_unchanged_rescan_confirms_open_findings_without_rewriting_them(
        db: Engine, cfg: Settings) -> None:
    with Session(db) as s, s.begin():
        add_school(s, "S1", CAMPUS, region=REGION)
        cafe = _premises(s, "internet_cafe", 250, 0)      # 150 m: stays open
        lottery = _premises(s, "lottery", -130, 0)        # 30 m: exempted below
    first = run_scan(db, trigger="manual", settings=cfg, region=SCOPE)
    version = "SELECT premises_id, id, last_scan_id, last_seen, xmin::text AS v FROM finding"
    with db.connect() as conn:
        before = {r.premises_id: r for r in conn.execute(text(version))}
    with Session(db) as s, s.begin():
        s.execute(text("UPDATE finding SET state = 'unfounded' WHERE id = :f"),
                  {"f": before[lottery].id})
    with db.connect() as conn:
        exempted_seen = conn.execute(text("SELECT last_seen FROM finding WHERE id = :i"),
                                     {"i": before[lottery].id}).scalar_one()
    run_scan(db, trigger="manual", settings=cfg, region="72")  # another region: no news
    again = run_scan(db, trigger="manual", settings=cfg, region=SCOPE)
    assert again.mode == "incremental" and (again.pairs, again.new, again.open) == (0, 0, 1)
    with db.connect() as conn:
        after = {r.premises_id: r for r in conn.execute(text(version))}
        finished = conn.execute(text("SELECT finished_at FROM scan WHERE id = :i"),
                                {"i": again.scan_id}).scalar_one()
    assert (after[cafe].last_scan_id, after[cafe].v) == (first.scan_id, before[cafe].v)
    with Session(db) as s:
        listed = {f["premises_id"]: f for f in list_findings(s)[0]}
    assert listed[cafe]["last_seen"] == finished > before[cafe].last_seen
    assert listed[lottery]["last_seen"] == exempted_seen  # closed: when last measured
    # A full rescan measures the finding again, finds it the same, and does not rewrite it.
    full = run_scan(db, trigger="manual", settings=cfg, region=SCOPE, full=True)
    assert (full.mode, full.new, full.open) == ("full", 0, 1)
    with db.connect() as conn:
        unchanged = {r.premises_id: r for r in conn.execute(text(version))}[cafe]
        finished = conn.execute(text("SELECT finished_at FROM scan WHERE id = :i"),
                                {"i": full.scan_id}).scalar_one()
    assert (unchanged.last_scan_id, unchanged.v) == (first.scan_id, before[cafe].v)
    with Session(db) as s:
        assert {f["premises_id"]: f for f in list_findings(s)[0]}[cafe]["last_seen"] == finished


def test_a_premises_moved_but_still_in_conflict_stays_open_with_its_new_distance(
        session: Session, cfg: Settings) -> None:
    add_school(session, "S1", CAMPUS, region=REGION)
    cafe = _premises(session, "internet_cafe", 250, 0)  # 150 m
    run_scan(session, trigger="manual", settings=cfg, region=SCOPE)
    lon, lat = at(200, 0)  # 100 m: still within 200 m
    session.execute(text("UPDATE premises SET location = ST_SetSRID(ST_MakePoint(:lon, :lat), "
                         "4326) WHERE id = :p"), {"p": cafe, "lon": lon, "lat": lat})
    again = run_scan(session, trigger="manual", settings=cfg, region=SCOPE, full=True)
    assert (again.new, again.open, again.resolved) == (0, 1, 0)
    found = _findings(session)[(cafe, "t.internet_cafe")]
    assert found["distance_m"] == pytest.approx(distance_m(lon, lat, CAMPUS)[0], abs=0.01)
    assert found["state"] == "found" and _events(session, cafe) == [(None, "found")]
