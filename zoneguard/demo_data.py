"""The demo's sample data: what is loaded from where, idempotently (re-runs change nothing).

Real: OpenStreetMap campuses, gates and fuel stations of Beijing Haidian and Shenzhen
Longgang; the real tobacco registry of 长沙市天心区 (GCJ-02 geometry mislabelled CRS84).
Synthetic (data/make_sample.py, fixed seed, labelled in the data): campuses, gates and
required facilities (防冲撞设施, 交通标志, 护学岗, 监控摄像头, 警示标牌) in 天心区, regulated
premises around the Haidian campuses.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.orm import Session

from zoneguard.imports import ImportKind
from zoneguard.services.ingest.files import ImportOutcome, import_file
from zoneguard.settings import PROJECT_ROOT, Settings

REAL = PROJECT_ROOT / "data" / "real"
SAMPLE = PROJECT_ROOT / "data" / "sample"


@dataclass(frozen=True)
class SampleFile:
    """One file of the sample data and how to import it."""

    label: str
    kind: ImportKind
    path: Path
    crs: str | None
    category: str | None = None
    region: str | None = None
    real: bool = True


SAMPLE_FILES: tuple[SampleFile, ...] = (
    SampleFile("Haidian campuses (OSM)", "schools", REAL / "beijing_haidian.osm", None,
               region="110108"),
    SampleFile("Haidian gates (OSM)", "gates", REAL / "beijing_haidian.osm", None),
    SampleFile("Haidian fuel stations (OSM)", "premises", REAL / "beijing_haidian.osm", None,
               category="gas_station", region="110108"),
    SampleFile("Longgang campuses (OSM)", "schools", REAL / "shenzhen_longgang.osm", None,
               region="440307"),
    SampleFile("Longgang gates (OSM)", "gates", REAL / "shenzhen_longgang.osm", None),
    SampleFile("Longgang fuel stations (OSM)", "premises", REAL / "shenzhen_longgang.osm",
               None, category="gas_station", region="440307"),
    SampleFile("Tianxin campuses (synthetic)", "schools",
               SAMPLE / "changsha_schools_synthetic.geojson", "wgs84", real=False),
    SampleFile("Tianxin gates (synthetic)", "gates", SAMPLE / "changsha_gates_synthetic.csv",
               "wgs84", real=False),
    SampleFile("Tianxin required facilities (synthetic)", "facilities",
               SAMPLE / "changsha_facilities_synthetic.csv", "wgs84", real=False),
    SampleFile("Tianxin tobacco registry (real, GCJ-02)", "premises",
               REAL / "changsha_tianxin_tobacco.geojson", "gcj02", category="tobacco",
               region="430103"),
    SampleFile("Haidian regulated premises (synthetic)", "premises",
               SAMPLE / "haidian_premises_synthetic.csv", "wgs84", real=False),
)


def load_sample(session: Session, *, settings: Settings,
                progress: Callable[[SampleFile], None] | None = None) -> list[ImportOutcome]:
    """Import every sample file (skipping invalid rows, reported); re-runs change nothing."""
    outcomes = []
    for item in SAMPLE_FILES:
        if progress is not None:
            progress(item)
        outcomes.append(import_file(session, item.path, kind=item.kind, crs=item.crs,
                                    category=item.category, region=item.region,
                                    skip_invalid=True, actor="demo", settings=settings))
    return outcomes

