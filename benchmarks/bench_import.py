"""Import speed: the COPY path of `import_file` vs `GeoDataFrame.to_postgis`, same rows.

Run: .venv/bin/python -m benchmarks.bench_import [--rows 200000] [--repeat 3]

Each round, into an empty premises table: `import_file` of a synthetic CSV (read + validate,
then, as a first load of the registry, COPY straight into premises; stage times from
`ImportOutcome.timings`), the same import with
the GiST indexes maintained row by row instead of rebuilt (the bulk-load option measured
against its alternative), a re-import of the unchanged file, and the naive way: pandas
`read_csv` + `points_from_xy` (no validation) and `GeoDataFrame.to_postgis` of the same
rows into a table without indexes or constraints. The machine may be shared: the spread
over rounds is printed with the medians.
"""

from __future__ import annotations

import argparse
import csv
import statistics
import tempfile
import time
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
from sqlalchemy import Engine, text

from benchmarks.common import scratch_database
from zoneguard.db.engine import session_scope
from zoneguard.services.ingest import files as service
from zoneguard.settings import Settings


def write_csv(path: Path, rows: int, seed: int = 7) -> None:
    """A synthetic tobacco registry around 114°E 30.5°N with Chinese headers (labelled)."""
    rng = np.random.default_rng(seed)
    lon = 114.0 + rng.random(rows) * 0.6
    lat = 30.3 + rng.random(rows) * 0.5
    with path.open("w", encoding="utf-8", newline="") as handle:
        out = csv.writer(handle)
        out.writerow(["许可证号", "名称", "地址", "经度", "纬度", "来源"])
        for i in range(rows):
            out.writerow([f"4201{i:08d}", f"合成零售户{i}", f"合成路{i % 997}号",
                          f"{lon[i]:.7f}", f"{lat[i]:.7f}", "synthetic"])


def _run(engine: Engine, settings: Settings, path: Path) -> service.ImportOutcome:
    with session_scope(engine) as session:
        return service.import_file(session, path, kind="premises", crs="wgs84",
                                   category="tobacco", region="420100", settings=settings)


def _import(engine: Engine, settings: Settings, path: Path, rows: int,
            *, rebuild: bool) -> dict[str, float]:
    """One import_file into an empty premises table; its stage times and total."""
    with engine.begin() as conn:
        conn.execute(text("TRUNCATE premises CASCADE"))
    threshold = service.BULK_MIN_ROWS
    service.BULK_MIN_ROWS = threshold if rebuild else rows + 1
    try:
        started = time.perf_counter()
        outcome = _run(engine, settings, path)
        total = time.perf_counter() - started
    finally:
        service.BULK_MIN_ROWS = threshold
    assert outcome.inserted == rows, outcome
    assert ("indexes" in outcome.timings) == rebuild, outcome.timings
    times = dict(outcome.timings)
    times["write"] = total - times["read"]
    times["total"] = total
    return times


def _reimport(engine: Engine, settings: Settings, path: Path, rows: int) -> float:
    started = time.perf_counter()
    outcome = _run(engine, settings, path)
    assert outcome.unchanged == rows, outcome
    return time.perf_counter() - started


def _naive(engine: Engine, path: Path, rows: int) -> dict[str, float]:
    """pandas read_csv + points_from_xy, then to_postgis into a bare table."""
    started = time.perf_counter()
    table = pd.read_csv(path, encoding="utf-8", dtype={"许可证号": str})
    frame = gpd.GeoDataFrame(table, geometry=gpd.points_from_xy(table["经度"], table["纬度"]),
                             crs="EPSG:4326")
    read = time.perf_counter() - started
    frame.to_postgis("naive_premises", engine, if_exists="replace", index=False)
    total = time.perf_counter() - started
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM naive_premises")).scalar_one() == rows
    return {"read": read, "write": total - read, "total": total}


def _line(label: str, runs: list[float], rows: int) -> None:
    mid = statistics.median(runs)
    spread = f"({min(runs):6.2f}–{max(runs):6.2f} s)" if len(runs) > 1 else " " * 17
    print(f"  {label:44s} {mid:6.2f} s  {spread}  {rows / mid:10,.0f} rows/s")


def _report(title: str, rounds: list[dict[str, float]], rows: int,
            labels: dict[str, str]) -> None:
    print(title)
    for key, label in labels.items():
        runs = [r[key] for r in rounds if key in r]
        if runs:
            _line(label, runs, rows)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()
    rows = args.rows
    bulky = rows >= service.BULK_MIN_ROWS
    bulk, maintained, naive, again = [], [], [], []
    with tempfile.TemporaryDirectory() as tmp, scratch_database() as (settings, engine):
        path = Path(tmp) / "registry.csv"
        write_csv(path, rows)
        for _ in range(args.repeat):
            maintained.append(_import(engine, settings, path, rows, rebuild=False))
            naive.append(_naive(engine, path, rows))
            bulk.append(_import(engine, settings, path, rows, rebuild=bulky))
            again.append({"total": _reimport(engine, settings, path, rows)})
    print(f"rows: {rows}, rounds: {args.repeat} (median, min–max over rounds)")
    stages = {"read": "read + validate (read_table)",
              "copy": "COPY into premises (first load, no staging)",
              "stage": "COPY into staging",
              "upsert": "upsert (history, update, insert, missing)",
              "indexes": "  of which GiST rebuild",
              "write": "database write (copy, or stage + upsert)",
              "total": "end-to-end import_file"}
    _report("import_file, first load (bulk: GiST indexes rebuilt):" if bulky else
            f"import_file, first load (under {service.BULK_MIN_ROWS:,} rows: not a bulk load):",
            bulk, rows, stages)
    _report("import_file, first load, GiST indexes maintained per row:", maintained, rows,
            stages)
    _report("import_file, re-import of the same file (all unchanged):", again, rows,
            {"total": "end-to-end import_file"})
    _report("naive: pandas read_csv + points_from_xy + GeoDataFrame.to_postgis:", naive, rows,
            {"read": "read (no validation)", "write": "GeoDataFrame.to_postgis",
             "total": "end-to-end"})
    best = bulk if _median(bulk, "total") <= _median(maintained, "total") else maintained
    for key, label in (("total", "end-to-end"), ("write", "database write vs to_postgis"),
                       ("read", "read+validate vs naive read")):
        speed = _median(naive, key) / _median(best, key)
        print(f"import_file rate / naive rate, {label:29s} {speed:5.2f}x")


def _median(rounds: list[dict[str, float]], key: str) -> float:
    return statistics.median(r[key] for r in rounds)

if __name__ == "__main__":
    main()
