"""The report and rejected-rows files written beside an input."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from zoneguard.errors import ImportProblem
from zoneguard.imports import read_table, write_report_files


def test_report_and_rejected_files(tmp_path: Path) -> None:
    source = tmp_path / "schools.csv"
    source.write_text("学校名称,学段,经度,纬度,备注\n一小,小学,121.47,31.23,好\n"
                      "二小,培训机构,121.48,31.23,\"含,逗号\"\n三小,小学,abc,31.23,\n",
                      encoding="utf-8")
    parsed = read_table(source, kind="schools", crs="wgs84")
    report, rejected = write_report_files(parsed, tmp_path)
    assert report.name == "schools.csv.import-report.csv"
    assert rejected.name == "schools.csv.rejected.csv"
    assert report.read_bytes().startswith(b"\xef\xbb\xbf")  # Excel needs the BOM
    with report.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert list(rows[0]) == ["行号", "级别", "列", "值", "问题"]
    assert (rows[0]["行号"], rows[0]["级别"]) == ("0", "提示")
    assert "没有学校标识码列" in rows[0]["问题"]
    assert [(r["行号"], r["级别"], r["列"], r["值"], r["问题"]) for r in rows[1:]] == [
        ("3", "错误", "学段", "培训机构",
         "无法识别的学段“培训机构”：可填幼儿园、小学、初中、高中、中职、特殊教育、高校"),
        ("4", "错误", "经度", "abc", "不是数字")]
    with rejected.open(encoding="utf-8-sig", newline="") as handle:
        bad = list(csv.DictReader(handle))
    assert [r["原行号"] for r in bad] == ["3", "4"]
    assert bad[0]["备注"] == "含,逗号" and bad[0]["学校名称"] == "二小"
    assert bad[0]["问题"] == ("学段：无法识别的学段“培训机构”："
                              "可填幼儿园、小学、初中、高中、中职、特殊教育、高校")
    assert bad[1]["经度"] == "abc" and bad[1]["问题"] == "经度：不是数字"


def test_summary_and_problem_are_json(tmp_path: Path) -> None:
    source = tmp_path / "s.csv"
    source.write_text("学校名称,学段,经度,纬度,建校日期\n一小,幼儿园,121.47,31.23,2001-09-01\n"
                      "二小,?,121.47,31.23,\n", encoding="utf-8")
    parsed = read_table(source, kind="schools", crs="wgs84")
    json.dumps(parsed.summary())
    json.dumps(parsed.frame.attributes.tolist())
    problem = parsed.as_problem()
    assert isinstance(problem, ImportProblem) and "2 行中有 1 行有问题" in problem.detail
    assert problem.extra["report"]["rejected"] == 1
    valid = parsed.valid_frame()
    assert valid.name.tolist() == ["一小"]


def test_each_problem_reads_as_one_sentence_naming_row_column_and_value(tmp_path: Path) -> None:
    source = tmp_path / "s.csv"
    source.write_text("学校名称,学段,经度,纬度\n一小,小学,121.47,31.23\n二小,培训机构,121.47,31.23\n"
                      "三小,小学,abc,31.23\n", encoding="utf-8")
    report = read_table(source, kind="schools", crs="wgs84").as_problem().extra["report"]
    assert [p["message"] for p in report["problems"]] == [
        "第 3 行：学段：无法识别的学段“培训机构”："
        "可填幼儿园、小学、初中、高中、中职、特殊教育、高校",
        "第 4 行：经度“abc”不是数字"]
    assert report["problems"][1] | {"message": ""} == {
        "row": 4, "severity": "error", "column": "经度", "value": "abc", "problem": "不是数字",
        "message": ""}  # the machine-readable fields stay as they were
