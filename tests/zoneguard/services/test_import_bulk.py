"""The bulk import path against real PostGIS: GiST rebuild, binary COPY, whole-column checks."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from tests.oracle import GEOD
from zoneguard.imports import read_table
from zoneguard.services.ingest import files as service
from zoneguard.services.ingest.files import import_file
from zoneguard.settings import Settings

GIST = ("SELECT c.relname, pg_get_indexdef(i.indexrelid), i.indisvalid FROM pg_index i "
        "JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_am a ON a.oid = c.relam "
        "WHERE i.indrelid = 'premises'::regclass AND a.amname = 'gist' ORDER BY 1")


def _registry(path: Path, rows: int, first: int = 0) -> Path:
    with path.open("w", encoding="utf-8", newline="") as handle:
        out = csv.writer(handle)
        out.writerow(["许可证号", "名称", "地址", "经度", "纬度"])
        for i in range(first, first + rows):
            out.writerow([f"B{i:06d}", f"零售户{i}", f"一路{i}号", f"{113.0 + i * 1e-4:.7f}",
                          f"{28.2 + (i % 50) * 1e-4:.7f}"])
    return path


def _gist(session: Session) -> list[tuple[str, str, bool]]:
    return [(str(a), str(b), bool(c)) for a, b, c in session.execute(text(GIST)).all()]


@pytest.fixture
def bulk_from_300(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(service, "BULK_MIN_ROWS", 300)


@pytest.mark.usefixtures("bulk_from_300")
def test_first_bulk_load_rebuilds_the_same_gist_indexes(
    session: Session, settings: Settings, tmp_path: Path
) -> None:
    before = _gist(session)
    assert {name for name, _, _ in before} == {"ix_premises_geog", "ix_premises_location",
                                               "ix_premises_far_door_geog"}
    outcome = import_file(session, _registry(tmp_path / "r.csv", 400), kind="premises",
                          crs="wgs84", category="tobacco", region="430103", settings=settings)
    assert outcome.inserted == 400 and "indexes" in outcome.timings
    assert _gist(session) == before and all(valid for _, _, valid in before)
    session.execute(text("SET LOCAL enable_seqscan = off"))
    near = session.execute(text(
        "SELECT count(*) FROM premises WHERE ST_DWithin(geography(location), "
        "geography(ST_SetSRID(ST_MakePoint(113.0, 28.2), 4326)), 50)")).scalar_one()
    plan = "\n".join(r[0] for r in session.execute(text(
        "EXPLAIN SELECT id FROM premises WHERE ST_DWithin(geography(location), "
        "geography(ST_SetSRID(ST_MakePoint(113.0, 28.2), 4326)), 50)")).all())
    lons = [113.0 + i * 1e-4 for i in range(400)]
    lats = [28.2 + (i % 50) * 1e-4 for i in range(400)]
    _, _, gaps = GEOD.inv([113.0] * 400, [28.2] * 400, lons, lats)
    assert near == sum(gap <= 50 for gap in gaps) > 1 and "ix_premises_geog" in plan


@pytest.mark.usefixtures("bulk_from_300")
def test_dry_run_bulk_load_leaves_indexes_and_rows_untouched(
    session: Session, settings: Settings, tmp_path: Path
) -> None:
    before = _gist(session)
    count = session.execute(text("SELECT count(*) FROM premises")).scalar_one()
    outcome = import_file(session, _registry(tmp_path / "r.csv", 400), kind="premises",
                          crs="wgs84", category="tobacco", region="430103", dry_run=True,
                          settings=settings)
    assert outcome.inserted == 400 and outcome.import_id is None
    assert _gist(session) == before
    assert session.execute(text("SELECT count(*) FROM premises")).scalar_one() == count


@pytest.mark.usefixtures("bulk_from_300")
def test_small_share_of_new_rows_keeps_the_indexes_in_place(
    session: Session, settings: Settings, tmp_path: Path
) -> None:
    options = {"kind": "premises", "crs": "wgs84", "category": "tobacco", "region": "430103",
               "settings": settings}
    import_file(session, _registry(tmp_path / "a.csv", 400), **options)  # type: ignore[arg-type]
    again = import_file(session, _registry(tmp_path / "b.csv", 400, first=100),
                        **options)  # type: ignore[arg-type]
    assert (again.inserted, again.unchanged, again.missing) == (100, 300, 100)
    assert "indexes" not in again.timings  # 100 new rows beside 400: maintained row by row
    assert len(_gist(session)) == 3


def test_attributes_and_nulls_survive_the_binary_copy(
    session: Session, settings: Settings, tmp_path: Path
) -> None:
    awkward = ['引号"和\\反斜杠', "}, {", "制表\t换行\n", "{\"json\": 1}", "😀"]
    path = tmp_path / "p.csv"
    with path.open("w", encoding="utf-8", newline="") as handle:
        out = csv.writer(handle)
        out.writerow(["许可证号", "名称", "地址", "经度", "纬度", "备注", "发证日期"])
        for i, note in enumerate(awkward):
            out.writerow([f"A{i}", f"店{i}", "" if i % 2 else f"路{i}", "113.0", "28.2", note,
                          "2021-09-01" if i == 0 else ""])
    outcome = import_file(session, path, kind="premises", crs="wgs84", category="lottery",
                          settings=settings)
    assert outcome.inserted == len(awkward)
    rows = session.execute(text(
        "SELECT attributes, address, region, issued_on, ST_AsText(location) FROM premises "
        "WHERE import_id = :id ORDER BY licence_no"), {"id": outcome.import_id}).all()
    assert [r[0]["备注"] for r in rows] == awkward
    assert rows[1][0]["地址"] is None and rows[1][1] is None and rows[0][1] == "路0"
    assert {r[2] for r in rows} == {""}  # no region given: the registry's empty region
    assert str(rows[0][3]) == "2021-09-01" and rows[1][3] is None
    assert rows[0][4] == "POINT(113 28.2)"
    assert json.loads(json.dumps(rows[0][0], ensure_ascii=False))["许可证号"] == "A0"


def _problems(path: Path) -> dict[int, list[tuple[str | None, str | None, str]]]:
    parsed = read_table(path, kind="premises", crs="wgs84", category="tobacco",
                        region="430103")
    out: dict[int, list[tuple[str | None, str | None, str]]] = {}
    for p in parsed.problems:
        out.setdefault(p.row, []).append((p.column, p.value, p.problem))
    return out


BAD_CELLS = [
    ("东经113度", "28.2"), ("113.0", ""), ("", ""), ("28.2", "113.0"), ("113.0", "nan"),
    ("１１３.０", "28.2"), (" 113.0 ", "28.2"), ("1,13.0", "28.2"), ("200", "95"),
    ("2.35", "48.85"), ("113.0", "inf"), ("113.0", "28.2e0"), ("abc", "def"),
]


def test_a_rows_problems_do_not_depend_on_the_rest_of_the_file(tmp_path: Path) -> None:
    header = "许可证号,名称,经度,纬度\n"
    good = "".join(f"G{i},店{i},{113.0 + i * 1e-5:.6f},28.2\n" for i in range(3000))
    bad = "".join(f"X{k},坏{k},\"{x}\",\"{y}\"\n" for k, (x, y) in enumerate(BAD_CELLS))
    (tmp_path / "big.csv").write_text(header + good + bad, encoding="utf-8")
    big = _problems(tmp_path / "big.csv")
    assert set(big) <= {3002 + k for k in range(len(BAD_CELLS))}
    for k, (x, y) in enumerate(BAD_CELLS):
        alone = tmp_path / f"alone{k}.csv"
        alone.write_text(f"{header}X{k},坏{k},\"{x}\",\"{y}\"\n", encoding="utf-8")
        assert big.get(3002 + k) == _problems(alone).get(2), (x, y)
    assert big[3002] == [("经度", "东经113度", "不是数字")]
    assert big[3002 + 10] == [("纬度", "inf", "不是数字")]
    assert 3002 + 5 not in big and 3002 + 6 not in big and 3002 + 11 not in big
    assert "经纬度疑似颠倒" in big[3002 + 3][0][2] and "超出坐标系" in big[3002 + 8][0][2]
