"""Hostile files are refused with a clear error, in bounded time and memory, never a crash.

Every fixture is generated here (tests/zoneguard/imports/hostile.py); none is committed.
"""

from __future__ import annotations

import json
import sqlite3
import struct
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import geopandas as gpd
import openpyxl
import pytest
from shapely.geometry import Point, Polygon
from sqlalchemy.orm import Session

from tests.zoneguard.imports import hostile
from zoneguard.errors import ImportProblem
from zoneguard.imports import Limits, read_table
from zoneguard.imports.zipped import Budget
from zoneguard.services.ingest.network import import_network

ROOT = Path(__file__).resolve().parents[3]
SMALL = Limits(max_unpacked_bytes=8 << 20, max_members=64, max_rows=5, max_columns=20,
               max_cell_chars=1000)


def refused(path: Path, limits: Limits | None = None, **kwargs: object) -> str:
    kwargs.setdefault("kind", "schools")
    kwargs.setdefault("crs", "EPSG:4326")
    started = time.perf_counter()
    with pytest.raises(ImportProblem) as info:
        read_table(path, limits=limits, **kwargs)  # type: ignore[arg-type]
    assert time.perf_counter() - started < 20
    assert info.value.extra["report"]["error"] == info.value.detail.split("：", 1)[1]
    return info.value.detail


def test_a_plain_zipped_shapefile_is_read(tmp_path: Path) -> None:
    archive = hostile.zipped_shapefile(hostile.school_shapefile(tmp_path), tmp_path / "s.zip")
    parsed = read_table(archive, kind="schools", crs="EPSG:4326", limits=SMALL)
    assert parsed.frame["name"].tolist() == ["一小"]


def test_zip_bomb_that_lies_about_its_size_is_refused(tmp_path: Path) -> None:
    shp = hostile.school_shapefile(tmp_path)
    bomb = hostile.zipped_shapefile(shp, tmp_path / "bomb.zip", dbf_bytes=256 << 20,
                                    declared_dbf_size=1000)
    assert bomb.stat().st_size < 2 << 20
    with zipfile.ZipFile(bomb) as archive:
        assert archive.getinfo("schools.dbf").file_size == 1000  # the lie is in place
    detail = refused(bomb)
    assert "schools.dbf" in detail and "已损坏" in detail


def test_zip_bomb_with_honest_sizes_is_refused_before_unpacking(tmp_path: Path) -> None:
    bomb = hostile.zipped_shapefile(hostile.school_shapefile(tmp_path), tmp_path / "big.zip",
                                    dbf_bytes=16 << 20)
    detail = refused(bomb, SMALL)
    assert "ZONEGUARD_IMPORT_MAX_UNPACKED_BYTES" in detail and "疑似压缩炸弹" in detail


def test_unpacking_counts_real_bytes_not_declared_ones(tmp_path: Path) -> None:
    bomb = hostile.zipped_shapefile(hostile.school_shapefile(tmp_path), tmp_path / "big.zip",
                                    dbf_bytes=16 << 20)
    target = tmp_path / "out.dbf"
    with zipfile.ZipFile(bomb) as archive, pytest.raises(Exception) as info:
        Budget(SMALL).extract(archive, archive.getinfo("schools.dbf"), target)
    assert "解压后超过 8.4 MB" in str(info.value)
    assert target.stat().st_size <= 8 << 20  # stopped at the budget, not at the member's end


def test_zip_with_a_bad_crc_is_a_clear_error(tmp_path: Path) -> None:
    archive = hostile.zipped_shapefile(hostile.school_shapefile(tmp_path), tmp_path / "crc.zip")
    hostile.corrupt_crc(archive, "schools.shp")
    assert "校验和错误" in refused(archive)


def test_zip_with_too_many_members_is_refused(tmp_path: Path) -> None:
    shp = hostile.school_shapefile(tmp_path)
    archive = hostile.zipped_shapefile(shp, tmp_path / "many.zip")
    with zipfile.ZipFile(archive, "a") as extra:
        for i in range(70):
            extra.writestr(f"junk/{i}.txt", "x")
    assert read_table(archive, kind="schools", crs="EPSG:4326").ok  # 74 of 1000: read
    assert "ZONEGUARD_IMPORT_MAX_MEMBERS" in refused(archive, SMALL)


def test_zip_whose_end_record_understates_its_members_is_refused(tmp_path: Path) -> None:
    archive = tmp_path / "liar.zip"
    with zipfile.ZipFile(archive, "w") as out:
        for i in range(2000):
            out.writestr(f"{i}.shp", "x")
    data = bytearray(archive.read_bytes())
    end = data.rfind(b"PK\x05\x06")
    struct.pack_into("<HH", data, end + 8, 1, 1)  # one member declared, 2000 in the directory
    archive.write_bytes(bytes(data))
    assert "中的文件过多" in refused(archive, SMALL)


def test_zip_member_leaving_the_archive_is_refused(tmp_path: Path) -> None:
    shp = hostile.school_shapefile(tmp_path)
    archive = hostile.zipped_shapefile(shp, tmp_path / "slip.zip")
    with zipfile.ZipFile(archive, "a") as extra:
        extra.writestr("../../etc/cron.d/evil", "x")
    assert "路径不安全" in refused(archive)
    assert not (tmp_path.parent.parent / "etc").exists()


def test_xlsx_that_lies_about_its_sizes_is_refused(tmp_path: Path) -> None:
    book = openpyxl.Workbook()
    book.active.append(["名称", "学段", "经度", "纬度"])
    book.active.append(["一小", "小学", 112.98, 28.19])
    book.save(tmp_path / "book.xlsx")
    hostile.corrupt_crc(tmp_path / "book.xlsx", "xl/worksheets/sheet1.xml")
    assert "已损坏" in refused(tmp_path / "book.xlsx", crs="wgs84")


def test_recursive_view_layer_is_refused_at_once(tmp_path: Path) -> None:
    gpkg = hostile.view_gpkg(tmp_path / "loop.gpkg", recursive=True)
    assert "是视图" in refused(gpkg)


def test_million_row_view_layer_is_refused(tmp_path: Path) -> None:
    gpkg = hostile.view_gpkg(tmp_path / "rows.gpkg", recursive=False)
    assert gpkg.stat().st_size < 200_000
    assert "是视图" in refused(gpkg, layer="schools")


def test_geopackage_with_a_foreign_trigger_is_refused(tmp_path: Path) -> None:
    assert "触发器" in refused(hostile.trigger_gpkg(tmp_path / "t.gpkg"))


def _points_gpkg(path: Path, rows: int) -> Path:
    frame = gpd.GeoDataFrame({"名称": [f"学校{i}" for i in range(rows)], "学段": ["小学"] * rows},
                             geometry=[Point(112.98 + i / 1e4, 28.19) for i in range(rows)],
                             crs="EPSG:4326")
    frame.to_file(path, layer="schools", driver="GPKG")
    return path


def test_rows_over_the_limit_are_refused_from_the_feature_count(tmp_path: Path) -> None:
    detail = refused(_points_gpkg(tmp_path / "ten.gpkg", 10), SMALL)
    assert "文件有 10 行" in detail and "ZONEGUARD_IMPORT_MAX_ROWS" in detail


def test_rows_over_the_limit_are_refused_when_the_count_lies(tmp_path: Path) -> None:
    gpkg = _points_gpkg(tmp_path / "ten.gpkg", 10)
    with sqlite3.connect(gpkg) as db:
        db.execute("UPDATE gpkg_ogr_contents SET feature_count = 1")
    detail = refused(gpkg, SMALL)
    assert "文件超过 5 行" in detail


def test_a_geopackage_within_the_limits_is_read(tmp_path: Path) -> None:
    parsed = read_table(_points_gpkg(tmp_path / "five.gpkg", 5), kind="schools",
                        crs="EPSG:4326", limits=SMALL)
    assert len(parsed.frame) == 5 and parsed.ok


def test_csv_with_a_million_columns_is_refused_quickly(tmp_path: Path) -> None:
    path = tmp_path / "wide.csv"
    header = ",".join(f"c{i}" for i in range(1_000_000))
    path.write_text(f"{header}\n" + ",".join("1" for _ in range(1_000_000)) + "\n")
    started = time.perf_counter()
    detail = refused(path, crs="wgs84")
    assert time.perf_counter() - started < 5
    assert "文件有 1000000 列" in detail and "500" in detail


def test_xlsx_with_too_many_columns_is_refused(tmp_path: Path) -> None:
    book = openpyxl.Workbook()
    book.active.append(["名称", "学段", "经度", "纬度", *(f"x{i}" for i in range(30))])
    book.save(tmp_path / "wide.xlsx")
    assert "文件有 34 列" in refused(tmp_path / "wide.xlsx", SMALL, crs="wgs84")


def test_xlsx_with_too_many_rows_is_refused(tmp_path: Path) -> None:
    book = openpyxl.Workbook()
    book.active.append(["名称", "学段", "经度", "纬度"])
    for i in range(30):
        book.active.append([f"学校{i}", "小学", 112.98, 28.19])
    book.save(tmp_path / "long.xlsx")
    assert "ZONEGUARD_IMPORT_MAX_ROWS" in refused(tmp_path / "long.xlsx", SMALL, crs="wgs84")


@pytest.mark.parametrize("quoted", [False, True])
def test_csv_cell_over_the_limit_is_refused(tmp_path: Path, quoted: bool) -> None:
    path = tmp_path / "cell.csv"
    cell = "长" * 1500
    cell = f'"{cell}"' if quoted else cell
    path.write_text(f"学校名称,学段,经度,纬度\n{cell},小学,112.98,28.19\n", encoding="utf-8")
    detail = refused(path, SMALL, crs="wgs84")
    assert "长 1500 个字符" in detail and "ZONEGUARD_IMPORT_MAX_CELL_CHARS" in detail


def test_csv_with_too_many_rows_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "rows.csv"
    body = "".join(f"学校{i},小学,112.98,28.19\n" for i in range(6))
    path.write_text("学校名称,学段,经度,纬度\n" + body, encoding="utf-8")
    assert "文件有 6 行" in refused(path, SMALL, crs="wgs84")


def _nan_polygon_files(directory: Path) -> list[Path]:
    mark, nan = struct.pack("<d", 28.2), struct.pack("<d", float("nan"))
    good = Polygon([(112.98, 28.19), (112.99, 28.19), (112.99, 28.2), (112.98, 28.19)])
    ring = [[112.98, 28.19], [112.99, 28.19], [112.99, "NAN"], [112.98, 28.19]]
    feature = {"type": "Feature", "properties": {"名称": "一小", "学段": "小学"},
               "geometry": {"type": "Polygon", "coordinates": [ring]}}
    text = json.dumps({"type": "FeatureCollection", "features": [feature]})
    (directory / "bare.geojson").write_text(text.replace('"NAN"', "NaN"))
    (directory / "quoted.geojson").write_text(text.replace('"NAN"', '"NaN"'))
    frame = gpd.GeoDataFrame({"名称": ["一小"], "学段": ["小学"]}, geometry=[good],
                             crs="EPSG:4326")
    out = []
    for name, driver in (("nan.gpkg", "GPKG"), ("nan.shp", "ESRI Shapefile")):
        frame.to_file(directory / name, driver=driver)
        data = (directory / name).read_bytes()
        assert mark in data
        (directory / name).write_bytes(data.replace(mark, nan))  # a WKB / shape with NaN
        out.append(directory / name)
    return [directory / "bare.geojson", directory / "quoted.geojson", *out]


def test_nan_in_a_school_polygon_is_a_rejected_row(tmp_path: Path) -> None:
    files = _nan_polygon_files(tmp_path)
    quoted = tmp_path / "quoted.geojson"  # not a number at all: GDAL refuses the file
    assert "invalid 'y' coordinate" in refused(quoted) and "NaN" in refused(quoted)
    for path in (f for f in files if f != quoted):
        parsed = read_table(path, kind="schools", crs="EPSG:4326")
        assert parsed.rejected_rows == {1}, path.name
        (problem,) = parsed.problems
        assert problem.column == "geometry" and problem.severity == "error"
        assert "坐标不是有限的数（Infinity 或 NaN）" in problem.problem, path.name


def test_zip_bomb_memory_stays_flat(tmp_path: Path) -> None:
    """A 1 GiB .dbf declared as 1,000 bytes: refused with a peak RSS far below its size."""
    bomb = hostile.zipped_shapefile(hostile.school_shapefile(tmp_path), tmp_path / "bomb.zip",
                                    dbf_bytes=1 << 30, declared_dbf_size=1000)
    probe = (
        "import resource, sys\n"
        "from pathlib import Path\n"
        "from zoneguard.errors import ImportProblem\n"
        "from zoneguard.imports import read_table\n"
        "before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
        "try:\n"
        "    read_table(Path(sys.argv[1]), kind='schools', crs='EPSG:4326')\n"
        "except ImportProblem as exc:\n"
        "    print(exc.detail)\n"
        "after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
        "print(before // 1024, after // 1024)\n"
    )
    result = subprocess.run([sys.executable, "-c", probe, str(bomb)], capture_output=True,
                            text=True, timeout=120, cwd=ROOT, check=True)
    detail, numbers = result.stdout.strip().splitlines()
    before_mb, after_mb = map(int, numbers.split())
    assert "已损坏" in detail
    assert after_mb - before_mb < 64, (before_mb, after_mb)


def test_xlsx_cell_over_the_limit_is_refused(tmp_path: Path) -> None:
    book = openpyxl.Workbook()
    book.active.append(["名称", "学段", "经度", "纬度"])
    book.active.append(["长" * 1500, "小学", 112.98, 28.19])
    book.save(tmp_path / "cell.xlsx")
    detail = refused(tmp_path / "cell.xlsx", SMALL, crs="wgs84")
    assert "长 1500 个字符" in detail and "“名称”列" in detail


def test_xlsx_wide_only_in_blank_cells_is_read(tmp_path: Path) -> None:
    book = openpyxl.Workbook()
    book.active.append(["名称", "学段", "经度", "纬度"])
    book.active.append(["一小", "小学", 112.98, 28.19])
    book.active.cell(row=2, column=700, value=" ")  # a blank cell far right widens the sheet
    book.save(tmp_path / "wide.xlsx")
    parsed = read_table(tmp_path / "wide.xlsx", kind="schools", crs="wgs84")
    assert parsed.ok and parsed.frame["name"].tolist() == ["一小"]


def test_rows_are_bounded_for_geojson_and_osm(tmp_path: Path) -> None:
    real = ROOT / "data" / "real"
    tobacco = refused(real / "changsha_tianxin_tobacco.geojson", Limits(max_rows=100),
                      kind="premises", crs="gcj02", category="tobacco")
    assert "文件有 1386 行，超过 100 行的上限" in tobacco
    osm = refused(real / "beijing_haidian.osm", Limits(max_rows=5), crs=None)
    assert "文件有 11 行，超过 5 行的上限" in osm  # 9 campuses and 2 school points


def test_network_import_refuses_a_view_layer(session: Session, tmp_path: Path) -> None:
    gpkg = hostile.view_gpkg(tmp_path / "streets.gpkg", recursive=True)
    with pytest.raises(ImportProblem) as info:
        import_network(session, path=gpkg, crs="EPSG:4326")
    assert "是视图" in info.value.detail
