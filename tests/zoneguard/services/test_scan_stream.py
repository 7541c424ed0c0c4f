"""Streamed judging: walks (which query the database) wait until the measurement is read."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

from spatial.measure import SchoolCandidate
from spatial.walking import WalkFailure
from tests.factories import write_rules
from zoneguard.evaluation import Tolerances
from zoneguard.rules import load_rule_set
from zoneguard.services.scan.diff import Plan, judge_pairs

PAIR = ["premises_id", "category", "premises_region", "issued_on", "lon", "lat", "door_lon",
        "door_lat"]
COLUMNS = PAIR + list(SchoolCandidate._fields)


def _row(premises_id: int, category: str, boundary_m: float) -> tuple[Any, ...]:
    school = SchoolCandidate(7, "S7", "school", ("primary",), None, "110101", "polygon", None,
                             boundary_m, 116.0, 40.0, None, None, None, None)
    return (premises_id, category, "110101", None, 116.001, 40.0, 116.001, 40.0,
            *(getattr(school, name) for name in SchoolCandidate._fields))


def test_streamed_judging_walks_only_after_the_rows_and_keeps_their_order(
        tmp_path: Path) -> None:
    rules = load_rule_set(write_rules(tmp_path / "rules"))
    plan = Plan(on=date(2026, 1, 1), region=None, rules=rules, tolerances=Tolerances(1.0, 150.0))
    rows = [_row(1, "tobacco", 50.0), _row(2, "entertainment", 10.0), _row(3, "tobacco", 20.0),
            _row(4, "entertainment", 30.0), _row(5, "tobacco", 500.0)]
    read = 0

    def stream() -> Iterator[tuple[Any, ...]]:
        nonlocal read
        for row in rows:
            read += 1
            yield row

    walked_after: list[int] = []

    def walker(school: SchoolCandidate, door: tuple[float, float]) -> WalkFailure:
        walked_after.append(read)
        return WalkFailure("no_network", f"no network near school {school.school_id} {door}")

    pairs, streamed = judge_pairs(COLUMNS, stream(), plan, walker, streaming=True)
    assert walked_after == [len(rows), len(rows)]  # both walks once every row was read
    plain_pairs, plain = judge_pairs(COLUMNS, rows, plan, walker)
    assert (pairs, streamed) == (plain_pairs, plain)
    assert [(h[1], h[2], h[6]) for h in streamed] == [
        (1, "t.tobacco", "prohibited"), (2, "t.entertainment", "review"),
        (3, "t.tobacco", "prohibited"), (4, "t.entertainment", "review")]
