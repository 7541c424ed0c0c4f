"""The map, report, export and record commands write their files on the test database."""

from __future__ import annotations

from openpyxl import load_workbook
from typer.testing import CliRunner

from zoneguard.cli.main import app


def test_map_report_and_export_commands_write_files(engine, tmp_path):
    runner = CliRunner()
    city = tmp_path / "city.html"
    result = runner.invoke(app, ["map", "city", "--out", str(city), "--basemap", "none"])
    assert result.exit_code == 0, result.output
    html = city.read_text(encoding="utf-8")
    assert html.startswith("<!DOCTYPE html>") and "<script src=" not in html
    summary = tmp_path / "summary.xlsx"
    result = runner.invoke(app, ["report", "summary", "--region", "4201", "--out", str(summary)])
    assert result.exit_code == 0, result.output
    assert load_workbook(summary).sheetnames[0] == "分区汇总"
    schools = tmp_path / "schools.geojson"
    result = runner.invoke(app, ["export", "schools", "--format", "geojson", "--out",
                                 str(schools)])
    assert result.exit_code == 0, result.output
    assert '"FeatureCollection"' in schools.read_text(encoding="utf-8")


def test_commands_report_missing_rows_without_a_traceback(engine, tmp_path):
    runner = CliRunner()
    result = runner.invoke(app, ["report", "school", "no-such-school", "--out",
                                 str(tmp_path / "x.xlsx")])
    assert result.exit_code == 1 and "学校代码为「no-such-school」的学校不存在" in result.output
    result = runner.invoke(app, ["record", "finding", "987654321", "--out",
                                 str(tmp_path / "x.txt")])
    assert result.exit_code == 1
    result = runner.invoke(app, ["export", "users", "--format", "csv", "--out",
                                 str(tmp_path / "u.csv")])
    assert result.exit_code == 1 and "不能导出「users」" in result.output
