"""Registry files and walking networks go through one intake: same region check, same digest."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from zoneguard.errors import ImportProblem
from zoneguard.imports.intake import file_sha256
from zoneguard.services.ingest.files import import_file
from zoneguard.services.ingest.network import import_network
from zoneguard.settings import Settings

LINES = ('{"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {}, '
         '"geometry": {"type": "LineString", "coordinates": [[114.0, 30.0], [114.001, 30.0]]}}]}')


def test_a_bad_region_is_refused_in_the_same_words_by_both_paths(
        session: Session, settings: Settings, tmp_path: Path) -> None:
    registry = tmp_path / "schools.csv"
    registry.write_text("code,name,levels,lon,lat\nS1,一小,primary,114,30\n", encoding="utf-8")
    streets = tmp_path / "streets.geojson"
    streets.write_text(LINES, encoding="utf-8")
    with pytest.raises(ImportProblem) as file_refusal:
        import_file(session, registry, kind="schools", crs="wgs84", region="43x",
                    settings=settings)
    with pytest.raises(ImportProblem) as network_refusal:
        import_network(session, path=streets, region="43x", crs="EPSG:4326")
    expected = "行政区划代码（--region）应为 GB/T 2260 代码，如 430103，不能是“43x”"
    assert expected in file_refusal.value.detail
    assert network_refusal.value.detail == expected


def test_the_network_import_records_the_file_digest(session: Session, tmp_path: Path) -> None:
    streets = tmp_path / "streets.geojson"
    streets.write_text(LINES, encoding="utf-8")
    done = import_network(session, path=streets, region="4201", crs="EPSG:4326")
    stored = session.execute(
        text("SELECT file_sha256 FROM import WHERE id = :id"),
        {"id": done.import_id}).scalar_one()
    assert stored == hashlib.sha256(streets.read_bytes()).hexdigest() == file_sha256(streets)
