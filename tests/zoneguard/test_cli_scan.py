"""`zoneguard scan`, `findings`, `finding show|assign|move` and `schedule`, end to end.

The commands commit, so they run against a scratch database of the test cluster
(tests/scratchdb.py) named by ZONEGUARD_DATABASE_URL.
"""

from __future__ import annotations

import csv
import getpass
import io
import json
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from shapely.geometry import box
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from tests.factories import add_premises, add_school
from tests.oracle import from_local
from tests.scratchdb import cli_environment
from zoneguard.cli.main import app
from zoneguard.services.scan.schedule import next_run, run_schedule
from zoneguard.services.scan.sql import LOCK_KEY
from zoneguard.settings import get_settings

runner = CliRunner()
SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.fixture
def db(scratch: tuple[str, Engine], monkeypatch: pytest.MonkeyPatch,
       tmp_path: Path) -> Iterator[Engine]:
    with cli_environment(scratch, monkeypatch, tmp_path) as scratch_engine:
        with Session(scratch_engine) as s, s.begin():
            school = from_local(box(-100, -100, 100, 100), 114.0, 30.5)
            add_school(s, "CLI-1", school, name="测试小学", region="420102")
            for x, category in ((150.0, "internet_cafe"), (-130.0, "lottery"),
                                (400.0, "tobacco")):
                p = from_local(box(x, 0, x, 0).centroid, 114.0, 30.5)
                add_premises(s, category, p.x, p.y, region="420102",
                             licence_no=f"CLI-{category}")
        yield scratch_engine


def _flat(text_: str) -> str:
    """Output with rich's line wrapping undone."""
    return " ".join(text_.split())


def _ok(*args: str) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.stdout


def test_scan_json_reports_counts_and_a_second_scan_adds_nothing(db: Engine) -> None:
    first = json.loads(_ok("scan", "--json"))
    assert {"scan_id", "new", "open", "resolved", "reopened", "duration_s"} <= set(first)
    assert (first["new"], first["open"]) == (2, 0)
    second = json.loads(_ok("scan", "--json"))
    assert (second["new"], second["open"], second["scan_id"]) == (0, 2, first["scan_id"] + 1)
    assert "still open: 2" in _flat(_ok("scan"))


def test_scan_while_another_holds_the_lock_fails_clearly(db: Engine) -> None:
    with db.connect() as other:
        other.execute(text("SELECT pg_advisory_lock(:k)"), {"k": LOCK_KEY})
        result = runner.invoke(app, ["scan"])
        other.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": LOCK_KEY})
    assert result.exit_code == 1
    assert "正在进行" in _flat(result.stderr) and "--wait" in _flat(result.stderr)
    assert "Traceback" not in result.output


def test_findings_in_every_format(db: Engine) -> None:
    _ok("scan")
    rows = json.loads(_ok("findings", "--format", "json"))
    assert sorted(r["category"] for r in rows) == ["internet_cafe", "lottery"]
    assert rows[0]["school_name"] == "测试小学" and rows[0]["state"] == "found"
    assert [r["licence_no"] for r in json.loads(_ok("findings", "--format", "json",
                                                    "--category", "lottery"))] == ["CLI-lottery"]
    table = list(csv.DictReader(io.StringIO(_ok("findings", "--format", "csv"))))
    assert {t["licence_no"] for t in table} == {"CLI-internet_cafe", "CLI-lottery"}
    collection = json.loads(_ok("findings", "--format", "geojson", "--verdict", "prohibited"))
    assert {f["geometry"]["type"] for f in collection["features"]} == {"LineString"}
    assert "2 of 2 findings" in _flat(_ok("findings"))
    assert json.loads(_ok("findings", "--format", "json", "--overdue")) == []


def test_finding_show_and_act(db: Engine) -> None:
    _ok("scan")
    fid = json.loads(_ok("findings", "--format", "json", "--category", "internet_cafe"))[0]["id"]
    deadline = (datetime.now(SHANGHAI).date() + timedelta(days=14)).isoformat()
    assert "已上报" in _ok("finding", "act", str(fid), "report")
    assert "已交办" in _ok("finding", "act", str(fid), "assign", "--unit", "区文旅局",
                        "--deadline", deadline)
    assert "整改中" in _ok("finding", "act", str(fid), "start")
    refused = runner.invoke(app, ["finding", "act", str(fid), "close"])
    assert refused.exit_code == 1 and "submit（整改完成，提请验收）" in _flat(refused.stderr)
    shown = json.loads(_ok("finding", "show", str(fid), "--json"))
    assert [e["to_state"] for e in shown["events"]] == ["found", "reported", "assigned",
                                                        "rectifying"]
    assert shown["events"][1]["actor"] == f"cli:{getpass.getuser()}"
    assert shown["deadline"] == deadline and shown["assignee"] == "区文旅局"
    described = json.loads(_ok("finding", "workflow", "--json"))
    assert described["loop"] == ["排查", "上报", "交办", "整改", "验收", "销号"]
    assert "区文旅局" in _ok("finding", "show", str(fid))
    missing = runner.invoke(app, ["finding", "show", "999999"])
    assert missing.exit_code == 1 and "问题 999999 不存在" in _flat(missing.stderr)


def test_schedule_once_runs_a_nightly_scan_and_skips_when_one_is_running(db: Engine) -> None:
    assert "scheduled scan succeeded" in _ok("schedule", "--once")
    with db.connect() as conn:
        assert conn.execute(text("SELECT trigger FROM scan")).scalar_one() == "nightly"
        conn.execute(text("SELECT pg_advisory_lock(:k)"), {"k": LOCK_KEY})
        skipped = _ok("schedule", "--once")
        conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": LOCK_KEY})
    assert "skipped" in skipped
    bad = runner.invoke(app, ["schedule", "--once", "--cron", "61 * * * *"])
    assert bad.exit_code == 1 and "定时表达式「61 * * * *」" in _flat(bad.stderr)


def test_the_schedule_fires_on_the_cron_and_survives_a_failed_run(
        db: Engine, tmp_path: Path) -> None:
    rules = tmp_path / "rules" / "cn.yaml"
    good = rules.read_text()
    rules.write_text("rules: [")  # the first run fails: the rule file is broken
    now = [datetime(2026, 11, 23, 1, 59, 30, tzinfo=SHANGHAI)]

    def sleep(seconds: float) -> None:
        now[0] += timedelta(seconds=seconds)
        if now[0] > datetime(2026, 11, 23, 2, 1, tzinfo=SHANGHAI):
            rules.write_text(good)

    cfg = get_settings()
    outcomes = run_schedule(db, cfg, max_runs=2, sleep=sleep, clock=lambda: now[0])
    assert [o.status for o in outcomes] == ["failed", "succeeded"]
    assert [o.at.isoformat() for o in outcomes] == ["2026-11-23T02:00:00+08:00",
                                                    "2026-11-24T02:00:00+08:00"]
    assert outcomes[1].summary is not None and outcomes[1].summary.new == 2


def test_next_run_follows_the_cron_in_the_configured_zone() -> None:
    after = datetime(2026, 3, 1, 2, 0, tzinfo=SHANGHAI)
    assert next_run("0 2 * * *", after) == datetime(2026, 3, 2, 2, 0, tzinfo=SHANGHAI)
    assert next_run("30 */6 * * 1", after).isoformat() == "2026-03-02T00:30:00+08:00"


def test_the_cli_finds_the_http_server_through_its_entry_point() -> None:
    from api.server import run
    from zoneguard.cli.serve import http_server

    assert http_server() is run
