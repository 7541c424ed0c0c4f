"""`zoneguard report period|joint`, `export --labels zh` and `findings --labels zh`, end to end.

The commands commit, so they run against a scratch database of the test cluster.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy import Engine
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from tests.scratchdb import cli_environment
from tests.zoneguard.reports.period_history import NOVEMBER_TOTAL, build_history
from zoneguard.cli.main import app
from zoneguard.reports.period import COUNTS, RATES

runner = CliRunner()
KEYS = [k for k, _ in COUNTS] + [k for k, *_ in RATES]


@pytest.fixture
def db(scratch: tuple[str, Engine], monkeypatch: pytest.MonkeyPatch,
       tmp_path: Path) -> Iterator[Engine]:
    with cli_environment(scratch, monkeypatch, tmp_path) as scratch_engine:
        with Session(scratch_engine) as s, s.begin():
            build_history(s)
        yield scratch_engine


def _ok(*args: str) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.stdout


def test_report_period_json_xlsx_and_pdf(db: Engine, tmp_path: Path) -> None:  # noqa: ARG001
    data = json.loads(_ok("report", "period", "--month", "2026-11", "--json"))
    assert tuple(data["total"][k] for k in KEYS) == NOVEMBER_TOTAL
    out = tmp_path / "nov.xlsx"
    _ok("report", "period", "--from", "2026-11-01", "--to", "2026-11-30", "--by", "unit",
        "--out", str(out))
    total = [r for r in load_workbook(out)["按区"].iter_rows(values_only=True) if r[0] == "合计"]
    assert total[0][1:3] == NOVEMBER_TOTAL[:2]
    pdf = tmp_path / "q4.pdf"
    _ok("report", "period", "--quarter", "2026Q4", "--region", "42", "--out", str(pdf))
    assert pdf.read_bytes().startswith(b"%PDF")
    for bad in (["--month", "2026-11", "--year", "2026"], ["--month", "2026-11"],
                ["--month", "2026-11", "--out", str(tmp_path / "x.doc")],
                ["--from", "2026-11-01", "--to", "11/30", "--json"]):
        result = runner.invoke(app, ["report", "period", *bad])
        assert result.exit_code != 0 and "Traceback" not in result.output, bad
    assert not (tmp_path / "x.doc").exists()


def test_report_joint_and_chinese_exports(db: Engine, tmp_path: Path) -> None:  # noqa: ARG001
    out = tmp_path / "joint.xlsx"
    _ok("report", "joint", "4201020009", "--year", "2026", "--out", str(out))
    assert load_workbook(out)["一校一表"]["A1"].value.startswith("江岸小学 2026 年度")
    csv_out = tmp_path / "findings.csv"
    _ok("export", "findings", "--format", "csv", "--labels", "zh", "--out", str(csv_out))
    rows = list(csv.DictReader(io.StringIO(csv_out.read_text(encoding="utf-8-sig"))))
    assert {r["行政区划"] for r in rows} == {"海淀区（110108）", "江岸区（420102）"}
    listed = list(csv.DictReader(io.StringIO(_ok("findings", "--format", "csv", "--labels",
                                                 "zh"))))
    assert "处置状态" in listed[0] and {r["处置状态"] for r in listed} >= {"已销号", "整改中"}
    plain = list(csv.DictReader(io.StringIO(_ok("findings", "--format", "csv"))))
    assert {r["state"] for r in plain} >= {"closed", "rectifying"}
    bad = runner.invoke(app, ["export", "findings", "--format", "csv", "--labels", "fr",
                              "--out", str(tmp_path / "bad.csv")])
    assert bad.exit_code != 0 and not (tmp_path / "bad.csv").exists()
