"""`zoneguard import` on hostile files: a clear error and exit 1, never a traceback."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, text
from typer.testing import CliRunner

from tests.zoneguard.imports import hostile
from zoneguard.cli.main import app
from zoneguard.settings import get_settings

runner = CliRunner()


@pytest.fixture
def db(scratch: tuple[str, Engine], monkeypatch: pytest.MonkeyPatch) -> Iterator[Engine]:
    url, scratch_engine = scratch
    monkeypatch.setenv("ZONEGUARD_DATABASE_URL", url)
    get_settings.cache_clear()
    yield scratch_engine
    monkeypatch.undo()
    get_settings.cache_clear()


def _flat(text_: str) -> str:
    return " ".join(text_.split())


def test_bad_crc_zip_is_a_clear_error(db: Engine, tmp_path: Path) -> None:
    shp = hostile.school_shapefile(tmp_path)
    crc = hostile.corrupt_crc(hostile.zipped_shapefile(shp, tmp_path / "crc.zip"), "schools.shp")
    bomb = hostile.zipped_shapefile(shp, tmp_path / "bomb.zip", dbf_bytes=64 << 20,
                                    declared_dbf_size=1000)
    loop = hostile.view_gpkg(tmp_path / "loop.gpkg", recursive=True)
    for path, words in ((crc, "校验和错误"), (bomb, "已损坏"), (loop, "是视图")):
        result = runner.invoke(app, ["import", "schools", str(path), "--crs", "EPSG:4326"])
        assert result.exit_code == 1, result.output
        assert isinstance(result.exception, SystemExit)
        assert words in _flat(result.stderr) and path.name in _flat(result.stderr)
        assert "Traceback" not in result.output
    with db.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM school")).scalar_one() == 0


def test_import_limits_are_read_from_the_environment(db: Engine, tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ZONEGUARD_IMPORT_MAX_COLUMNS", "3")
    get_settings.cache_clear()
    path = tmp_path / "schools.csv"
    path.write_text("学校名称,学段,经度,纬度\n一小,小学,112.98,28.19\n", encoding="utf-8")
    result = runner.invoke(app, ["import", "schools", str(path), "--crs", "wgs84"])
    assert result.exit_code == 1
    assert "文件有 4 列，超过 3 列的上限" in _flat(result.stderr)
    with db.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM school")).scalar_one() == 0


def test_the_cli_reports_an_import_and_its_rejected_rows_in_chinese(
    db: Engine, tmp_path: Path
) -> None:
    bad = tmp_path / "premises.csv"
    bad.write_text("许可证号,名称,类别,行政区划代码,经度,纬度\n"
                   "TX-1,一店,tobacco,430103,abc,28.19\n", encoding="utf-8")
    refused = runner.invoke(app, ["import", "premises", str(bad), "--crs", "wgs84"])
    assert refused.exit_code == 1
    flat = _flat(refused.stderr)
    assert flat.startswith("错误：premises.csv：1 行中有 1 行有问题，整个文件未导入")
    assert "导入报告 ┏" in flat and "┃ 行 ┃ 列 ┃ 值 ┃" in flat
    report = tmp_path / "premises.csv.import-report.csv"
    assert f"导入报告已写入{report}" in "".join(refused.stderr.split())
    assert report.read_text(encoding="utf-8-sig").splitlines() == [
        "行号,级别,列,值,问题", "2,错误,经度,abc,不是数字"]
    mapped = runner.invoke(app, ["import", "premises", str(bad), "--map", "经度"])
    assert mapped.exit_code == 2
    assert "列对应“经度”的写法不对" in "".join(mapped.output.split())
    good = tmp_path / "good.csv"
    good.write_text("许可证号,名称,类别,行政区划代码,经度,纬度\n"
                    "TX-2,二店,tobacco,430103,112.98,28.19\n", encoding="utf-8")
    done = runner.invoke(app, ["import", "premises", str(good), "--crs", "wgs84"])
    assert done.exit_code == 0, done.output
    assert done.stdout.startswith("已导入场所 good.csv（EPSG:4326）："
                                  "新增 1，更新 0，未变 0，拒收 0 — ")
    with db.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM premises")).scalar_one() == 1
