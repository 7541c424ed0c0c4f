"""POST /api/v1/imports: multipart upload, row-level report, all-or-nothing, size limit, scope."""

from __future__ import annotations

import os
import shutil
import struct
import time
from pathlib import Path
from typing import Any

import geopandas as gpd
from fastapi.testclient import TestClient
from shapely.geometry import Polygon
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from api.deps import get_session
from api.main import create_app
from tests.api.conftest import KeyMaker
from tests.zoneguard.imports import hostile
from zoneguard.imports.uploads import upload_root
from zoneguard.models import AuditLog, Premises, School
from zoneguard.settings import Settings

GOOD = ("licence_no,name,category,region,lon,lat\n"
        "TX-1,便利店一,tobacco,430103,112.985,28.195\n"
        "TX-2,便利店二,tobacco,430103,112.986,28.196\n")


def _upload(client: TestClient, headers: dict[str, str], body: str, **form: str) -> object:
    return client.post("/api/v1/imports", headers=headers,
                       files={"file": ("premises.csv", body.encode(), "text/csv")},
                       data={"kind": "premises", "crs": "wgs84", **form})


def _count(session: Session) -> int:
    return int(session.scalar(select(func.count()).select_from(Premises)) or 0)


def test_import_writes_rows_and_returns_report(
    client: TestClient, admin: dict[str, str], session: Session
) -> None:
    response = _upload(client, admin, GOOD)
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["inserted"] == 2 and body["rejected"] == 0 and body["import_id"] > 0
    assert body["report"]["rows"] == 2 and body["report"]["problems"] == []
    assert _count(session) == 2
    assert session.scalar(select(func.count()).select_from(AuditLog).where(
        AuditLog.entity == "import")) == 1


def test_bad_row_rejects_whole_file_with_row_report(
    client: TestClient, admin: dict[str, str], session: Session
) -> None:
    bad = GOOD + "TX-3,坏行,tobacco,430103,east,28.19\n"
    response = _upload(client, admin, bad)
    assert response.status_code == 422
    problem = response.json()
    assert problem["type"] == "urn:zoneguard:problem:import"
    rows = {p["row"] for p in problem["report"]["problems"]}
    assert 3 in rows or 4 in rows
    assert [p["message"] for p in problem["report"]["problems"]] == ["第 4 行：lon“east”不是数字"]
    assert "parsed" not in problem
    assert _count(session) == 0
    partial = _upload(client, admin, bad, skip_invalid="true")
    assert partial.status_code == 201 and partial.json()["inserted"] == 2
    assert partial.json()["rejected"] == 1


def test_dry_run_writes_nothing(client: TestClient, admin: dict[str, str],
                                session: Session) -> None:
    response = _upload(client, admin, GOOD, dry_run="true")
    assert response.status_code == 200 and response.json()["inserted"] == 2
    assert _count(session) == 0


def test_upload_over_the_limit_is_413_problem(
    api_settings: Settings, key_for: KeyMaker, session: Session
) -> None:
    app = create_app(api_settings.model_copy(update={"import_max_bytes": 100}))
    app.dependency_overrides[get_session] = lambda: session
    with TestClient(app, raise_server_exceptions=False) as raw:
        big = GOOD + "".join(f"TX-{i},店,tobacco,430103,112.98,28.19\n" for i in range(10, 20))
        response = _upload(raw, key_for("admin"), big)
        # Declared far over the limit: refused from the headers, before the body is read.
        huge = _upload(raw, key_for("admin"), GOOD + "x" * 200_000)
    assert huge.status_code == 413 and huge.json()["status"] == 413
    assert response.status_code == 413
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["type"] == "urn:zoneguard:problem:too-large"
    assert response.json()["detail"] == (
        "文件超过导入大小上限（100 字节，ZONEGUARD_IMPORT_MAX_BYTES）；"
        "请拆成几个文件分批导入，未导入任何数据")
    assert _count(session) == 0


def test_a_malformed_column_map_is_refused_in_chinese(
    client: TestClient, admin: dict[str, str], session: Session
) -> None:
    response = _upload(client, admin, GOOD, map="经度")
    assert response.status_code == 422
    assert response.json()["detail"] == "列对应“经度”的写法不对：应写成“列名=字段”，如“经度=lon”"
    assert _count(session) == 0


def test_bureau_imports_only_its_scope(
    client: TestClient, key_for: KeyMaker, session: Session
) -> None:
    bureau = key_for("bureau", categories=["tobacco"], region="4301")
    assert _upload(client, bureau, GOOD).status_code == 201
    lottery = GOOD.replace("TX-", "LX-").replace("tobacco", "lottery")
    refused = _upload(client, bureau, lottery)
    assert refused.status_code == 403
    guangzhou = GOOD.replace("TX-", "GZ-").replace("430103", "440106")
    assert _upload(client, bureau, guangzhou).status_code == 403
    assert _upload(client, bureau, GOOD.replace("TX-", "SX-"), kind="schools").status_code == 403
    assert _count(session) == 2


def _post_file(client: TestClient, headers: dict[str, str], path: Path,
               **form: str) -> Any:
    return client.post("/api/v1/imports", headers=headers,
                       files={"file": (path.name, path.read_bytes(), "application/octet-stream")},
                       data={"kind": "schools", "crs": "EPSG:4326", **form})


def _import_problem(response: Any) -> dict[str, Any]:
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    problem: dict[str, Any] = response.json()
    assert problem["type"] == "urn:zoneguard:problem:import"
    assert "Traceback" not in response.text
    return problem


def _schools(session: Session) -> int:
    return int(session.scalar(select(func.count()).select_from(School)) or 0)


def test_hostile_files_are_422_problems_and_change_nothing(
    client: TestClient, admin: dict[str, str], session: Session, tmp_path: Path
) -> None:
    shp = hostile.school_shapefile(tmp_path)
    bomb = hostile.zipped_shapefile(shp, tmp_path / "bomb.zip", dbf_bytes=256 << 20,
                                    declared_dbf_size=1000)
    crc = hostile.corrupt_crc(hostile.zipped_shapefile(shp, tmp_path / "crc.zip"), "schools.shp")
    loop = hostile.view_gpkg(tmp_path / "loop.gpkg", recursive=True)
    wide = tmp_path / "wide.csv"
    wide.write_text(",".join(f"c{i}" for i in range(100_000)) + "\n1,2\n")
    expected = {bomb: "已损坏", crc: "校验和错误", loop: "是视图", wide: "文件有 100000 列"}
    for path, words in expected.items():
        problem = _import_problem(_post_file(client, admin, path))
        assert words in problem["detail"], (path.name, problem["detail"])
        assert problem["report"]["error"] in problem["detail"]
    assert _schools(session) == 0


def test_nan_in_a_school_polygon_is_a_row_of_the_report(
    client: TestClient, admin: dict[str, str], session: Session, tmp_path: Path
) -> None:
    good = Polygon([(112.98, 28.19), (112.99, 28.19), (112.99, 28.2), (112.98, 28.19)])
    mark, nan = struct.pack("<d", 28.2), struct.pack("<d", float("nan"))
    frame = gpd.GeoDataFrame({"名称": ["一小"], "学段": ["小学"]}, geometry=[good],
                             crs="EPSG:4326")
    geojson = tmp_path / "nan.geojson"
    geojson.write_text(frame.to_json().replace("28.2", "NaN"))
    paths = [geojson]
    for name, driver in (("nan.gpkg", "GPKG"), ("nan.shp", "ESRI Shapefile")):
        frame.to_file(tmp_path / name, driver=driver)
        data = (tmp_path / name).read_bytes()
        (tmp_path / name).write_bytes(data.replace(mark, nan))
        paths.append(tmp_path / name)
    paths[-1] = hostile.zipped_shapefile(paths[-1], tmp_path / "nan.zip")
    for path in paths:
        problem = _import_problem(_post_file(client, admin, path))
        (row,) = problem["report"]["problems"]
        assert row["row"] == 1 and row["column"] == "geometry", path.name
        assert "Infinity 或 NaN" in row["problem"], path.name
    assert _schools(session) == 0


def test_far_entrance_is_rejected_with_a_chinese_reason(
    client: TestClient, admin: dict[str, str], session: Session
) -> None:
    body = ("licence_no,name,category,region,lon,lat,entrance_lon,entrance_lat\n"
            "TX-1,便利店一,tobacco,430103,112.985,28.195,112.985,28.1953\n"
            "TX-2,便利店二,tobacco,430103,112.985,28.195,112.985,28.2023\n")
    problem = _import_problem(_upload(client, admin, body))
    (row,) = problem["report"]["problems"]
    assert row["row"] == 3 and row["column"] == "entrance_lon"
    assert row["problem"].startswith("入口距场所点 8") and row["problem"].endswith(
        "米，超过 50 米上限")
    assert _count(session) == 0


def test_upload_directory_is_removed_after_the_import(
    client: TestClient, admin: dict[str, str], api_settings: Settings
) -> None:
    assert _upload(client, admin, GOOD, dry_run="true").status_code == 200
    root = upload_root(api_settings.home)
    assert root.is_dir() and not any(root.iterdir())


def test_stale_upload_directories_are_cleaned_at_start(
    api_settings: Settings, session: Session
) -> None:
    root = upload_root(api_settings.home)
    root.mkdir(parents=True, exist_ok=True)
    dead = root / "999999999-abc"  # over any pid_max: that worker is gone
    live = root / f"{os.getpid()}-def"
    fresh = root / "999999998-ghi"
    for directory in (dead, live, fresh):
        directory.mkdir()
        (directory / "premises.csv").write_text(GOOD)
    hour_ago = time.time() - 2 * 3600
    for directory in (dead, live):
        os.utime(directory, (hour_ago, hour_ago))
    app = create_app(api_settings)
    app.dependency_overrides[get_session] = lambda: session
    with TestClient(app, raise_server_exceptions=False):
        pass
    assert not dead.exists()
    assert live.is_dir() and fresh.is_dir()
    shutil.rmtree(live)
    shutil.rmtree(fresh)
