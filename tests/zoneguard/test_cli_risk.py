"""`zoneguard risk`: the grade table and its JSON, against a scratch database."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from shapely.geometry import box
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from tests.factories import add_finding, add_premises, add_school
from tests.scratchdb import cli_environment
from zoneguard.cli.main import app

runner = CliRunner()
TODAY = datetime.now(ZoneInfo("Asia/Shanghai")).date()


def test_risk_table_and_json(scratch: tuple[str, Engine], monkeypatch: pytest.MonkeyPatch,
                             tmp_path: Path) -> None:
    with cli_environment(scratch, monkeypatch, tmp_path,
                         ZONEGUARD_HOME=str(tmp_path / "home")) as engine:
        with Session(engine) as s, s.begin():
            red = add_school(s, "CR-1", box(114.0, 30.5, 114.001, 30.501), name="红小学",
                             region="420102")
            add_school(s, "CR-2", box(114.01, 30.5, 114.011, 30.501), name="蓝小学",
                       region="420102")
            cafe = add_premises(s, "internet_cafe", 114.0015, 30.5005, region="420102")
            # 禁止 40 + open 100 days (≥ 90: +20) + 反弹 30 = 90 → 红, 每日
            old = add_finding(s, red, cafe, rule_id="t.internet_cafe")
            s.execute(text("UPDATE finding SET first_seen = :t, rebound = true WHERE id = :i"),
                      {"t": f"{TODAY - timedelta(days=100)} 12:00+08", "i": old})
        table = runner.invoke(app, ["risk", "--region", "420102"], terminal_width=200)
        assert table.exit_code == 0, table.output
        assert "红小学" in table.stdout and "每日" in table.stdout and "90" in table.stdout
        assert "反弹 +30" in table.stdout and "非法定" in table.stdout
        answer = runner.invoke(app, ["risk", "--grade", "red", "--json"])
        assert answer.exit_code == 0, answer.output
        doc = json.loads(answer.stdout)
        assert [(r["code"], r["grade_name"], r["score"]) for r in doc["schools"]] == \
            [("CR-1", "红", 90)]
        bad = runner.invoke(app, ["risk", "--region", "42x"])
        assert bad.exit_code != 0 and "Traceback" not in bad.output
