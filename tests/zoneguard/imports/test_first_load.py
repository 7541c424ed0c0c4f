"""A first load of a registry COPYed straight into premises, against the staging path."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import psycopg
import pytest
import shapely
from sqlalchemy import text
from sqlalchemy.orm import Session

from zoneguard.services.ingest import copy as import_copy
from zoneguard.services.ingest import files as service
from zoneguard.services.ingest.files import ImportOutcome, import_file
from zoneguard.settings import Settings

HEADER = ["许可证号", "名称", "地址", "经营者", "经度", "纬度", "入口经度", "入口纬度",
          "发证日期", "有效期至", "状态", "备注"]
NOTES = ['引号"和\\反斜杠', "}, {", "制表\t换行\n回车\r", '{"json": 1}', "😀", "", "\\.",
         ",,", "NULL", " 前后空格 "]
ROWS = ("SELECT licence_no, name, address, operator, region, status, issued_on, expires_on, "
        "source, source_crs, attributes, ST_AsEWKB(location), ST_AsEWKB(entrance), import_id "
        "FROM premises WHERE category = 'lottery' AND region = :region AND licence_no <> 'X' "
        "ORDER BY licence_no")
GIST = ("SELECT c.relname, pg_get_indexdef(i.indexrelid) FROM pg_index i "
        "JOIN pg_class c ON c.oid = i.indexrelid WHERE i.indrelid = 'premises'::regclass "
        "ORDER BY 1")


def _coordinate(i: int) -> str:
    """Coordinates with every digit a double holds (repr), so rounding would show."""
    return repr(113.0 + i * 0.000123456789012345 + 1e-13)


def _write(path: Path, rows: int) -> Path:
    with path.open("w", encoding="utf-8", newline="") as handle:
        out = csv.writer(handle)
        out.writerow(HEADER)
        for i in range(rows):
            entrance = ["", ""] if i % 3 else [_coordinate(i + 1), "28.2000000000001"]
            out.writerow([f"L{i:04d}", f"店{i}", "" if i % 2 else f"路{i}号",
                          "" if i % 4 else f"经营者{i}", _coordinate(i), repr(28.2 + i * 1e-7),
                          *entrance, "2021-09-01" if i % 5 == 0 else "",
                          "2031-08-31" if i % 5 == 0 else "", "暂停" if i == 1 else "",
                          NOTES[i % len(NOTES)]])
    return path


def _import(session: Session, settings: Settings, path: Path, region: str,
            **options: Any) -> ImportOutcome:
    return import_file(session, path, kind="premises", crs="wgs84", category="lottery",
                       region=region, settings=settings, **options)


def _rows(session: Session, region: str) -> list[tuple[Any, ...]]:
    rows = session.execute(text(ROWS), {"region": region}).all()
    return [tuple(bytes(v) if isinstance(v, memoryview) else v for v in r) for r in rows]


def _claim(session: Session, region: str) -> None:
    """Register one premises of the registry, so that the next import has to merge."""
    session.execute(text(
        "INSERT INTO premises (category, licence_no, name, region, location) VALUES "
        "('lottery', 'X', 'x', :region, ST_SetSRID(ST_MakePoint(113, 28), 4326))"),
        {"region": region})


def _count(session: Session) -> int:
    return int(session.execute(text("SELECT count(*) FROM premises")).scalar_one())


def test_first_load_and_staging_path_write_the_same_rows(
    session: Session, settings: Settings, tmp_path: Path
) -> None:
    path = _write(tmp_path / "registry.csv", 60)
    direct = _import(session, settings, path, "430103")
    _claim(session, "430104")
    staged = _import(session, settings, path, "430104")
    assert "copy" in direct.timings and "stage" not in direct.timings
    assert "stage" in staged.timings and "copy" not in staged.timings
    assert (direct.inserted, direct.updated, direct.missing) == (60, 0, 0)
    assert (staged.inserted, staged.updated, staged.missing) == (60, 0, 1)
    first, second = _rows(session, "430103"), _rows(session, "430104")
    assert len(first) == 60
    for a, b in zip(first, second, strict=True):
        assert a[4] == "430103" and b[4] == "430104"
        assert a[:4] + a[5:-1] == b[:4] + b[5:-1]
    assert (first[0][-1], second[0][-1]) == (direct.import_id, staged.import_id)
    assert [r[10]["备注"] for r in first[:len(NOTES)]] == [n or None for n in NOTES]
    assert first[1][5] == "suspended" and first[1][2] is None and first[0][3] == "经营者0"
    assert str(first[0][6]) == "2021-09-01" and first[1][6] is None
    for i, row in enumerate(first):  # coordinates exact to the bit
        point = shapely.from_wkb(row[11])
        assert (point.x, point.y) == (float(_coordinate(i)), 28.2 + i * 1e-7)
        assert shapely.get_srid(point) == 4326
        entrance = None if row[12] is None else shapely.from_wkb(row[12])
        assert (entrance is None) == (i % 3 != 0)
        if entrance is not None:
            assert (entrance.x, entrance.y) == (float(_coordinate(i + 1)), 28.2000000000001)


def test_reimport_after_a_first_load_changes_nothing(
    session: Session, settings: Settings, tmp_path: Path
) -> None:
    path = _write(tmp_path / "registry.csv", 30)
    _import(session, settings, path, "430103")
    again = _import(session, settings, path, "430103")
    assert "stage" in again.timings
    assert (again.inserted, again.updated, again.unchanged, again.missing) == (0, 0, 30, 0)


def test_first_load_is_not_taken_when_the_registry_has_rows(
    session: Session, settings: Settings, tmp_path: Path
) -> None:
    _claim(session, "430103")
    outcome = _import(session, settings, _write(tmp_path / "registry.csv", 20), "430103")
    assert "stage" in outcome.timings and "copy" not in outcome.timings
    assert (outcome.inserted, outcome.missing) == (20, 1)
    other = _import(session, settings, _write(tmp_path / "other.csv", 20), "430105")
    assert "copy" in other.timings  # another region: another registry


def test_first_load_dry_run_counts_and_writes_nothing(
    session: Session, settings: Settings, tmp_path: Path
) -> None:
    before = _count(session)
    outcome = _import(session, settings, _write(tmp_path / "r.csv", 25), "430103",
                      dry_run=True)
    assert outcome.inserted == 25 and outcome.import_id is None and "copy" in outcome.timings
    assert _count(session) == before


@pytest.fixture
def small_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    """Chunks of 7 rows and a bulk load from 30 rows: the GiST indexes are dropped."""
    monkeypatch.setattr(import_copy, "CHUNK_ROWS", 7)
    monkeypatch.setattr(service, "BULK_MIN_ROWS", 30)


@pytest.mark.usefixtures("small_chunks")
def test_a_failure_in_the_middle_of_the_copy_leaves_premises_unchanged(
    session: Session, settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _claim(session, "430101")
    before, indexes = _rows(session, "430101"), session.execute(text(GIST)).all()
    imports = session.execute(text("SELECT count(*) FROM import")).scalar_one()
    chunks = import_copy.csv_chunks

    def failing(columns: dict[str, tuple[str, Any]], rows: int) -> Iterator[bytes]:
        for k, chunk in enumerate(chunks(columns, rows)):
            if k == 3:
                raise RuntimeError("the disk is full")
            yield chunk

    monkeypatch.setattr(import_copy, "csv_chunks", failing)
    with pytest.raises(RuntimeError, match="disk is full"):
        _import(session, settings, _write(tmp_path / "r.csv", 50), "430103")
    assert _rows(session, "430103") == [] and _rows(session, "430101") == before
    assert session.execute(text(GIST)).all() == indexes
    assert session.execute(text("SELECT count(*) FROM import")).scalar_one() == imports


@pytest.mark.usefixtures("small_chunks")
def test_a_row_the_database_refuses_leaves_premises_unchanged(
    session: Session, settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    count, indexes = _count(session), session.execute(text(GIST)).all()
    columns = import_copy.premises_columns

    def corrupted(frame: Any) -> dict[str, tuple[str, Any]]:
        out = columns(frame)
        out["status"] = ("text", [*out["status"][1][:-1], "bogus"])  # the last row only
        return out

    monkeypatch.setattr(import_copy, "premises_columns", corrupted)
    with pytest.raises(psycopg.errors.CheckViolation, match="ck_premises_status_valid"):
        _import(session, settings, _write(tmp_path / "r.csv", 50), "430103")
    assert _count(session) == count and session.execute(text(GIST)).all() == indexes


def test_points_are_written_as_shapely_writes_them() -> None:
    geoms = np.array([shapely.Point(114.1234567891234, 30.5), None,
                      shapely.Point(-0.0, 5e-324), shapely.Point(1e308, -90.0)], dtype=object)
    expected = shapely.to_wkb(shapely.set_srid(geoms, 4326), hex=True, include_srid=True)
    got = import_copy.hex_ewkb(geoms).to_pylist()
    assert got == [None if e is None else e.lower() for e in expected.tolist()]
    other = np.array([shapely.Point(1, 2, 3), shapely.LineString([(0, 0), (1, 1)]), None],
                     dtype=object)
    assert import_copy.hex_ewkb(other).to_pylist() == shapely.to_wkb(
        shapely.set_srid(other, 4326), hex=True, include_srid=True).tolist()
