"""Import service against real PostGIS: counts, datums, idempotence, history, nothing half-done."""

from __future__ import annotations

import json
import shutil
import zipfile
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from tests.conftest import REAL
from tests.oracle import GEOD, bd_to_gcj_conventional, invert, wgs_to_gcj
from zoneguard.errors import ImportProblem
from zoneguard.services.ingest.files import import_file
from zoneguard.settings import Settings

TABLES = ("school", "school_gate", "premises", "import", "registry_history", "audit_log")


def _counts(session: Session) -> dict[str, int]:
    return {t: session.execute(text(f"SELECT count(*) FROM {t}")).scalar_one() for t in TABLES}


def _csv(tmp_path: Path, body: str, name: str = "p.csv", encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes(body.encode(encoding))
    return path


PREMISES_CSV = (
    "许可证号,名称,地址,经度,纬度\n"
    "430103001,甲烟酒店,天心区一路,112.98,28.17\n"
    "430103002,乙便利店,天心区二路,112.99,28.18\n"
)


def test_changsha_registry_lands_within_a_millimetre_of_its_bd09_attributes(
    session: Session, settings: Settings
) -> None:
    outcome = import_file(session, REAL / "changsha_tianxin_tobacco.geojson", kind="premises",
                          crs="gcj02", category="tobacco", region="430103", settings=settings)
    assert outcome.inserted == 1386 and outcome.rejected == 0
    rows = session.execute(text(
        "SELECT ST_X(location), ST_Y(location), attributes->>'经度', attributes->>'纬度' "
        "FROM premises WHERE import_id = :id"), {"id": outcome.import_id}).all()
    assert len(rows) == 1386
    # The file's GCJ-02 geometry was made from its BD-09 attributes with the conventional
    # decrypt (they agree to 1e-9 m); convert the attributes the same way, then invert GCJ-02.
    worst = 0.0
    for lon, lat, bd_lon, bd_lat in rows:
        gcj = bd_to_gcj_conventional(float(bd_lon), float(bd_lat))
        wgs = invert(wgs_to_gcj, *gcj)
        _, _, gap = GEOD.inv(lon, lat, wgs[0], wgs[1])
        worst = max(worst, gap)
    assert worst < 0.001, f"worst {worst * 1000:.3f} mm"


def test_reimport_changes_nothing_and_a_changed_row_keeps_history(
    session: Session, settings: Settings, tmp_path: Path
) -> None:
    path = _csv(tmp_path, PREMISES_CSV)
    first = import_file(session, path, kind="premises", crs="wgs84", category="tobacco",
                        region="430103", settings=settings)
    assert (first.inserted, first.updated) == (2, 0)
    again = import_file(session, path, kind="premises", crs="wgs84", category="tobacco",
                        region="430103", settings=settings)
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, 2)
    path.write_text(PREMISES_CSV.replace("甲烟酒店", "甲烟酒商行"), encoding="utf-8")
    changed = import_file(session, path, kind="premises", crs="wgs84", category="tobacco",
                          region="430103", settings=settings)
    assert (changed.inserted, changed.updated, changed.unchanged) == (0, 1, 1)
    previous = session.execute(text(
        "SELECT previous->>'name' FROM registry_history WHERE entity = 'premises'")).scalars()
    assert list(previous) == ["甲烟酒店"]


def test_missing_premises_are_closed_only_with_the_flag(
    session: Session, settings: Settings, tmp_path: Path
) -> None:
    import_file(session, _csv(tmp_path, PREMISES_CSV), kind="premises", crs="wgs84",
                category="tobacco", region="430103", settings=settings)
    partial = _csv(tmp_path, PREMISES_CSV.rsplit("\n", 2)[0] + "\n", name="partial.csv")
    outcome = import_file(session, partial, kind="premises", crs="wgs84", category="tobacco",
                          region="430103", settings=settings)
    assert outcome.missing == 1 and outcome.closed == 0
    assert session.execute(text("SELECT count(*) FROM premises WHERE status = 'closed'"))\
        .scalar_one() == 0
    closing = import_file(session, partial, kind="premises", crs="wgs84", category="tobacco",
                          region="430103", close_missing=True, settings=settings)
    assert closing.closed == 1
    assert session.execute(text("SELECT licence_no FROM premises WHERE status = 'closed'"))\
        .scalar_one() == "430103002"


def test_dry_run_counts_but_writes_nothing(session: Session, settings: Settings,
                                           tmp_path: Path) -> None:
    before = _counts(session)
    outcome = import_file(session, _csv(tmp_path, PREMISES_CSV), kind="premises", crs="wgs84",
                          category="tobacco", region="430103", dry_run=True, settings=settings)
    assert outcome.inserted == 2 and outcome.import_id is None
    assert _counts(session) == before


def test_skip_invalid_writes_the_good_rows(session: Session, settings: Settings,
                                           tmp_path: Path) -> None:
    body = PREMISES_CSV + "430103003,丙店,三路,abc,28.19\n"
    outcome = import_file(session, _csv(tmp_path, body), kind="premises", crs="wgs84",
                          category="tobacco", region="430103", skip_invalid=True,
                          settings=settings)
    assert (outcome.inserted, outcome.rejected) == (2, 1)


def test_schools_gates_and_osm_campuses(session: Session, settings: Settings,
                                        tmp_path: Path) -> None:
    shanghai = import_file(session, REAL / "shanghai_schools_amap.csv", kind="schools",
                           crs="wgs84", skip_invalid=True, settings=settings)
    assert shanghai.inserted + shanghai.rejected == 6151 and shanghai.inserted > 6100
    levels = dict(session.execute(text(
        "SELECT l, count(*) FROM school, unnest(levels) l WHERE precision = 'point' "
        "GROUP BY l")).all())
    assert levels["kindergarten"] == 2312 and levels["higher"] == 1903
    osm = import_file(session, REAL / "beijing_haidian.osm", kind="schools", crs=None,
                      settings=settings)
    assert osm.inserted >= 5
    valid, polygons = session.execute(text(
        "SELECT count(*) FILTER (WHERE ST_IsValid(boundary)), count(*) FROM school "
        "WHERE precision = 'boundary' AND import_id = :id"), {"id": osm.import_id}).one()
    assert valid == polygons >= 5
    code = session.execute(text("SELECT code FROM school WHERE precision = 'boundary' "
                                "ORDER BY code LIMIT 1")).scalar_one()
    gates = _csv(tmp_path, f"school_code,kind,lon,lat\n{code},main,116.35,40.0\n"
                           f"{code},back,116.351,40.001\n", name="gates.csv")
    first = import_file(session, gates, kind="gates", crs="wgs84", settings=settings)
    assert first.inserted == 2
    assert import_file(session, gates, kind="gates", crs="wgs84",
                       settings=settings).inserted == 0
    unknown = _csv(tmp_path, "school_code,kind,lon,lat\nnope,main,116.35,40.0\n", name="u.csv")
    with pytest.raises(ImportProblem, match="行有问题，整个文件未导入"):
        import_file(session, unknown, kind="gates", crs="wgs84", settings=settings)


def _broken_inputs(tmp_path: Path) -> dict[str, tuple[Path, str | None]]:
    cases: dict[str, tuple[Path, str | None]] = {}
    cases["wrong encoding"] = (_csv(tmp_path, "x", name="bin.csv"), "wgs84")
    (tmp_path / "bin.csv").write_bytes(bytes(range(128, 256)) * 40)
    trunc = tmp_path / "trunc.geojson"
    full = (REAL / "changsha_tianxin_tobacco.geojson").read_text(encoding="utf-8")
    trunc.write_text(full[: len(full) // 2], encoding="utf-8")
    cases["truncated"] = (trunc, "gcj02")
    cases["text in a number column"] = (_csv(tmp_path, PREMISES_CSV.replace("28.17", "北"),
                                             name="nan.csv"), "wgs84")
    cases["swapped coordinates"] = (_csv(tmp_path, PREMISES_CSV.replace(
        "112.98,28.17", "28.17,112.98"), name="swap.csv"), "wgs84")
    zipped = tmp_path / "noshp.zip"
    with zipfile.ZipFile(zipped, "w") as archive:
        archive.writestr("readme.txt", "no shapefile here")
    cases["zip without .shp"] = (zipped, "wgs84")
    cases["empty"] = (_csv(tmp_path, "", name="empty.csv"), "wgs84")
    cases["missing crs"] = (_csv(tmp_path, PREMISES_CSV, name="nocrs.csv"), None)
    return cases


def test_broken_inputs_leave_the_database_exactly_as_it_was(
    session: Session, settings: Settings, tmp_path: Path
) -> None:
    import_file(session, _csv(tmp_path, PREMISES_CSV, name="seed.csv"), kind="premises",
                crs="wgs84", category="tobacco", region="430103", settings=settings)
    before = _counts(session)
    for label, (path, crs) in _broken_inputs(tmp_path).items():
        with pytest.raises(ImportProblem) as caught:
            import_file(session, path, kind="premises", crs=crs, category="tobacco",
                        region="430103", settings=settings)
        assert len(caught.value.detail) > 20, label
        assert _counts(session) == before, label
    small = settings.model_copy(update={"import_max_bytes": 10})
    with pytest.raises(ImportProblem, match="上限"):
        import_file(session, _csv(tmp_path, PREMISES_CSV, name="big.csv"), kind="premises",
                    crs="wgs84", category="tobacco", region="430103", settings=small)
    assert _counts(session) == before


def test_bowtie_campus_is_refused_and_nothing_is_written(session: Session, settings: Settings,
                                   tmp_path: Path) -> None:
    bowtie = {"type": "FeatureCollection", "features": [{
        "type": "Feature", "properties": {"code": "b1", "name": "蝴蝶小学", "levels": "小学"},
        "geometry": {"type": "Polygon", "coordinates": [[[114.0, 30.0], [114.01, 30.01],
                                                         [114.01, 30.0], [114.0, 30.01],
                                                         [114.0, 30.0]]]}}]}
    path = tmp_path / "bowtie.geojson"
    path.write_text(json.dumps(bowtie), encoding="utf-8")
    before = _counts(session)
    with pytest.raises(ImportProblem) as caught:
        import_file(session, path, kind="schools", crs="wgs84", settings=settings)
    assert "校园边界自相交" in json.dumps(caught.value.extra["report"],
                                                     ensure_ascii=False)
    assert _counts(session) == before


def test_a_gbk_csv_imports_with_its_chinese_names(session: Session, settings: Settings,
                                                  tmp_path: Path) -> None:
    path = _csv(tmp_path, PREMISES_CSV, name="gbk.csv", encoding="gbk")
    import_file(session, path, kind="premises", crs="wgs84", category="tobacco",
                region="430103", settings=settings)
    names = set(session.execute(text("SELECT name FROM premises")).scalars())
    assert {"甲烟酒店", "乙便利店"} <= names
    shutil.rmtree(tmp_path, ignore_errors=True)
