"""`zoneguard finding evidence|measure`, `supervision`, `interview` and `audit`, end to end.

The commands commit, so they run against a scratch database (tests/scratchdb.py).
"""

from __future__ import annotations

import csv
import getpass
import hashlib
import io
import json
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from shapely.geometry import Point, box
from sqlalchemy import Engine
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from tests.factories import add_finding, add_premises, add_school
from tests.oracle import from_local
from tests.scratchdb import cli_environment
from tests.zoneguard.services.test_evidence import jpeg, png
from zoneguard.cli.main import app

runner = CliRunner()
TODAY = datetime.now(ZoneInfo("Asia/Shanghai")).date()


@pytest.fixture
def case(scratch: tuple[str, Engine], monkeypatch: pytest.MonkeyPatch,
         tmp_path: Path) -> Iterator[int]:
    with cli_environment(scratch, monkeypatch, tmp_path,
                         ZONEGUARD_HOME=str(tmp_path / "home")) as scratch_engine:
        with Session(scratch_engine) as s, s.begin():
            school = add_school(s, "CLI-C", from_local(box(-100, -100, 100, 100), 114.0, 30.5),
                                region="420102")
            p = from_local(Point(0, -150), 114.0, 30.5)
            premises = add_premises(s, "internet_cafe", p.x, p.y, region="420102")
            finding = add_finding(s, school, premises, rule_id="t.internet_cafe")
        yield finding


def ok(*args: str) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.stdout


def test_evidence_and_measurement_from_the_command_line(case: int, tmp_path: Path) -> None:
    photo = tmp_path / "现场.jpg"
    photo.write_bytes(jpeg(b"cli"))
    assert hashlib.sha256(photo.read_bytes()).hexdigest() in " ".join(
        ok("finding", "evidence", "add", str(case), str(photo), "--note", "门口").split())
    fake = tmp_path / "fake.jpg"
    fake.write_bytes(png())
    refused = runner.invoke(app, ["finding", "evidence", "add", str(case), str(fake)])
    assert refused.exit_code == 1 and "与其内容（PNG 图片）不符" in refused.stderr
    (item,) = json.loads(ok("finding", "evidence", "list", str(case), "--json"))
    assert item["uploaded_by"] == f"cli:{getpass.getuser()}" and item["filename"] == "现场.jpg"
    assert (tmp_path / "home" / "evidence" / item["sha256"][:2] / item["sha256"]).is_file()
    measured = json.loads(ok("finding", "measure", str(case), "--distance", "210", "--method",
                             "卷尺", "--instrument", "50 米钢卷尺", "--measurer", "张三",
                             "--measurer", "李四", "--on", TODAY.isoformat(), "--photo",
                             str(item["id"]), "--json"))
    assert measured["verdict"] == "allowed" and measured["evidence_id"] == item["id"]
    one = runner.invoke(app, ["finding", "measure", str(case), "--distance", "210", "--method",
                              "卷尺", "--instrument", "x", "--measurer", "张三", "--on",
                              TODAY.isoformat()])
    assert one.exit_code == 1 and "两名不同的测量人员" in one.stderr
    shown = json.loads(ok("finding", "show", str(case), "--json"))
    assert shown["field_distance_m"] == 210 and shown["effective_verdict"] == "allowed"
    (row,) = csv.DictReader(io.StringIO(ok("findings", "--format", "csv")))
    assert (row["distance_m"], row["field_distance_m"]) == ("50.0", "210.0")
    assert (row["verdict"], row["effective_verdict"]) == ("prohibited", "allowed")


def test_supervision_interviews_and_audit_from_the_command_line(case: int) -> None:
    deadline = (TODAY + timedelta(days=7)).isoformat()
    assert "已挂牌督办" in ok("supervision", "order", str(case), "--number", "CLI督1号",
                           "--office", "区综治办", "--deadline", deadline,
                           "--requirements", "七日内关停")
    counts = json.loads(ok("supervision", "--json", "--region", "4201"))
    assert counts["districts"] == [{"district": "420102", "yellow": 0, "red": 1,
                                    "open_orders": 1, "interviews": 0}]
    assert "420102" in ok("supervision")
    (order,) = json.loads(ok("supervision", "orders", "--active", "--json"))
    assert "已解除" in ok("supervision", "lift", str(order["id"]))
    assert "已记录约谈" in ok("interview", "add", "--unit", "区市场监管局", "--on",
                          TODAY.isoformat(), "--participants", "王科长", "--summary",
                          "通报督办情况", "--finding", str(case))
    (talk,) = json.loads(ok("interview", "list", "--since", TODAY.isoformat(), "--json"))
    assert talk["unit"] == "区市场监管局" and talk["district"] == "420102"
    page = json.loads(ok("audit", "--entity", "finding", "--id", str(case), "--json"))
    assert [r["action"] for r in page["items"]] == ["supervision.lift", "supervision.order"]
    assert page["items"][0]["at"].endswith("+08:00")
    assert "共 2 条" in ok("audit", "--action", "supervision", "--since", TODAY.isoformat())
    assert "共 0 条" in ok("audit", "--action", "supervision", "--until",
                         (TODAY - timedelta(days=1)).isoformat())
    bad = runner.invoke(app, ["audit", "--since", "昨天"])
    assert bad.exit_code == 1 and "YYYY-MM-DD" in bad.stderr
