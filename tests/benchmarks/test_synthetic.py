"""The synthetic registries of the benchmarks, at small scale: sizes, places, shapes, seed."""

from __future__ import annotations

import itertools

from sqlalchemy import text
from sqlalchemy.orm import Session

from benchmarks import synthetic
from benchmarks.synthetic import city, load, nation


def test_the_nation_streams_in_chunks_and_lands_in_china(session: Session) -> None:
    spec = nation(schools=300, premises=3_000, seed=11)
    chunks = list(synthetic.premises_chunks(spec))
    assert sum(len(c) for c in chunks) == 3_000
    assert all(len(c) <= synthetic.CHUNK for c in chunks)
    raw = session.connection().connection.driver_connection
    assert raw is not None
    loaded = load(raw, spec)
    assert (loaded.schools, loaded.premises) == (300, 3_000)
    box = session.execute(text(
        "SELECT min(ST_X(location)), max(ST_X(location)), min(ST_Y(location)), "
        "max(ST_Y(location)), count(DISTINCT left(region, 2)) FROM premises "
        "WHERE source = 'synthetic'")).one()
    assert 73 < box[0] and box[1] < 135 and 18 < box[2] and box[3] < 54
    assert box[4] > 20  # spread over the provinces


def test_city_campuses_are_valid_metric_polygons_around_wuhan(session: Session) -> None:
    raw = session.connection().connection.driver_connection
    assert raw is not None
    loaded = load(raw, city(schools=200, premises=500, seed=5))
    assert loaded.gates >= 150
    shapes = session.execute(text(
        "SELECT count(*) FILTER (WHERE NOT ST_IsValid(boundary)), "
        "min(ST_Area(geography(boundary))), max(ST_Area(geography(boundary))), "
        "max(ST_Distance(geography(location), geography(ST_MakePoint(114, 30.5)))), "
        "count(*) FILTER (WHERE precision = 'point') FROM school WHERE source = 'synthetic'")).one()
    invalid, smallest, largest, farthest, points = shapes
    assert invalid == 0 and points > 5
    assert 80 * 80 * 0.3 < smallest and largest < 300 * 300 * 1.001
    assert farthest < 60_000
    near = session.execute(text(
        "SELECT count(*) FROM premises p WHERE p.source = 'synthetic' AND EXISTS (SELECT 1 "
        "FROM school s WHERE ST_DWithin(geography(COALESCE(s.boundary, s.location)), "
        "geography(p.location), 300))")).scalar_one()
    assert near > 200  # half the premises are placed by a campus


def test_the_same_seed_gives_the_same_rows() -> None:
    def first_rows(seed: int) -> list[tuple[object, ...]]:
        return next(synthetic.premises_chunks(city(schools=10, premises=50, seed=seed)))[:5]

    assert first_rows(3) == first_rows(3) != first_rows(4)
    schools = [s for s, _ in itertools.islice(synthetic.school_chunks(city(10, 50, 3), 1), 1)]
    assert schools[0][0][0] == 1 and len(schools[0]) == 10
