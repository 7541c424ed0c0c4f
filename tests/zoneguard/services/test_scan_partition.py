"""Partitions of a distributed rescan: every scanned premises in exactly one, sizes bounded."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.orm import Session

from tests.factories import add_premises
from zoneguard.services.scan.partition import Group, pack, plan_groups, region_counts

REGIONS = ([""] * 2 + ["99"] * 2 + ["9999"] + ["44"] * 2 + ["4401"] + ["440101"] * 5
           + ["440102"] * 4 + ["440103001"] * 6 + ["440103002"] * 2 + ["4402"] * 3
           + ["43"] * 2 + ["4301"] * 1)
MEMBERS = """
SELECT p.id FROM premises p WHERE p.status IN ('active', 'suspended')
  AND (CAST(:region AS text) IS NULL OR p.region LIKE CAST(:region AS text) || '%')
  {part}
"""


def _add(session: Session) -> set[int]:
    ids = set()
    for i, region in enumerate(REGIONS):
        ids.add(add_premises(session, "tobacco", 113.0 + i * 1e-3, 23.0, region=region))
    add_premises(session, "tobacco", 113.5, 23.5, region="440101", status="closed")  # unscanned
    return ids


def _members(session: Session, group: Group, region: str | None) -> set[int]:
    part, params = group.premises_part()
    return set(session.execute(text(MEMBERS.format(part=part)),
                               {"region": region, **params}).scalars())


def test_partitions_cover_every_scanned_premises_once_and_split_what_exceeds_the_target(
        session: Session) -> None:
    ids = _add(session)
    groups = plan_groups(region_counts(session.connection(), region=None), target=4)
    seen: list[int] = []
    for group in groups:
        members = _members(session, group, None)
        assert len(members) == group.premises > 0
        seen.extend(members)
    assert sorted(seen) == sorted(ids)  # all of them, none twice
    by_key = {(g.level, g.key): g.premises for g in groups}
    assert by_key[(2, "")] == 2  # without a region code
    assert by_key[(2, "99")] == 3  # the last prefix of all: no upper bound
    assert by_key[(2, "43")] == 3  # small enough: a province stays whole
    # Guangdong (23) is split: cities, counties, townships; short codes stay exact.
    assert by_key[(4, "44")] == 2 and by_key[(6, "4401")] == 1
    assert by_key[(9, "440101")] == 5  # over the target, but no longer code to split by
    assert by_key[(6, "440102")] == 4
    assert by_key[(12, "440103001")] == 6 and by_key[(9, "440103002")] == 2
    assert by_key[(4, "4402")] == 3
    assert [g.premises for g in groups] == sorted((g.premises for g in groups), reverse=True)


def test_partitions_of_a_region_scan_stay_inside_the_region(session: Session) -> None:
    ids = _add(session)
    groups = plan_groups(region_counts(session.connection(), region="4401"), target=100)
    assert [(g.level, g.key, g.premises) for g in groups] == [(2, "44", 18)]
    members = _members(session, groups[0], "4401")
    assert len(members) == 18 and members < ids


def test_groups_pack_into_balanced_tasks_largest_first() -> None:
    groups = [Group(2, str(10 + i), n) for i, n in enumerate([9, 7, 5, 4, 3, 3, 2, 1])]
    tasks = pack(groups, 3)
    assert sorted(g.key for t in tasks for g in t) == sorted(g.key for g in groups)
    assert [sum(g.premises for g in t) for t in tasks] == [12, 11, 11]
    assert pack(groups[:2], 5) == [(groups[0],), (groups[1],)]
