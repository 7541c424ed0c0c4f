"""Spilled judging: the hits of `judge_pairs`, in order, in memory that does not grow."""

from __future__ import annotations

import tracemalloc
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

from spatial.measure import SchoolCandidate
from spatial.walking import WalkFailure
from tests.factories import write_rules
from tests.zoneguard.services.test_scan_stream import COLUMNS, _row
from zoneguard.evaluation import Tolerances
from zoneguard.rules import load_rule_set
from zoneguard.services.scan import judge as scan_judge
from zoneguard.services.scan import spill as scan_spill
from zoneguard.services.scan.diff import Plan, judge_pairs
from zoneguard.services.scan.spill import HitSpill


def _plan(tmp_path: Path) -> Plan:
    rules = load_rule_set(write_rules(tmp_path / "rules"))
    return Plan(on=date(2026, 1, 1), region=None, rules=rules, tolerances=Tolerances(1.0, 150.0))


def _walker(school: SchoolCandidate, door: tuple[float, float]) -> WalkFailure:
    return WalkFailure("no_network", f"no network near school {school.school_id} {door}")


def _rows(n: int) -> Iterator[tuple[Any, ...]]:
    """Conflicting pairs (tobacco at 50 m, 20 m), walked ones (entertainment) and far ones."""
    kinds = (("tobacco", 50.0), ("entertainment", 10.0), ("tobacco", 20.0), ("tobacco", 900.0))
    for i in range(n):
        category, metres = kinds[i % len(kinds)]
        yield _row(i + 1, category, metres)


def test_spilled_hits_equal_judge_pairs_in_order_with_walks_in_place(
        tmp_path: Path, monkeypatch: Any) -> None:
    monkeypatch.setattr(scan_spill, "CHUNK_HITS", 7)  # many chunks, walks across chunk edges
    plan = _plan(tmp_path)
    rows = list(_rows(103))
    walks: list[int] = []

    def walker(school: SchoolCandidate, door: tuple[float, float]) -> WalkFailure:
        walks.append(1)
        return _walker(school, door)

    expected_pairs, expected = judge_pairs(COLUMNS, rows, plan, _walker)
    with HitSpill() as spill:
        spill.judge(COLUMNS, iter(rows), plan, walker)
        assert walks == []  # no walk while the rows stream
        spill.walk(walker)
        assert len(walks) == 26  # every entertainment pair, once the rows are read
        got = list(spill.rows())
        assert (spill.pairs, spill.count) == (expected_pairs, len(expected))
    assert got == expected
    # 26 tobacco at 50 m + 26 at 20 m prohibited, 26 entertainment review, 25 far allowed
    assert [h[6] for h in got].count("prohibited") == 52
    assert [h[6] for h in got].count("review") == 26


def _peak_bytes(plan: Plan, n: int) -> int:
    tracemalloc.start()
    try:
        with HitSpill() as spill:
            spill.judge(COLUMNS, _rows(n), plan, _walker)
            spill.walk(_walker)
            written = sum(1 for _ in spill.rows())
        assert written == spill.count == 3 * n // 4
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_spilling_memory_does_not_grow_with_the_number_of_pairs(tmp_path: Path) -> None:
    plan = _plan(tmp_path)
    small, large = _peak_bytes(plan, 20_000), _peak_bytes(plan, 100_000)
    # Five times the pairs; kept in a list the hits alone would take tens of MB more.
    assert large < small * 1.3, (small, large)
    assert large < 20 * 1024 * 1024


def test_a_judge_whose_rule_cache_is_cleared_judges_exactly_as_before(
        tmp_path: Path, monkeypatch: Any) -> None:
    plan = _plan(tmp_path)
    rows = [(*r[:2], f"1101{i % 40:02d}", *r[3:]) for i, r in enumerate(_rows(400))]
    expected = judge_pairs(COLUMNS, rows, plan, _walker)
    monkeypatch.setattr(scan_judge, "CACHE_KEYS", 3)  # cleared again and again
    assert judge_pairs(COLUMNS, rows, plan, _walker) == expected
    assert len(expected[1]) == 300
