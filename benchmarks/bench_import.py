"""Import speed: the COPY path of `import_file` vs `GeoDataFrame.to_postgis`, same rows.

Run: .venv/bin/python -m benchmarks.bench_import [--rows 200000]
"""

from __future__ import annotations

import argparse
import csv
import tempfile
from pathlib import Path

import numpy as np
from sqlalchemy import text

from benchmarks.common import scratch_database, timed
from zoneguard.db.engine import session_scope
from zoneguard.imports import read_table
from zoneguard.services.imports import import_file


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


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=200_000)
    args = parser.parse_args()
    results: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp, scratch_database() as (settings, engine):
        path = Path(tmp) / "registry.csv"
        write_csv(path, args.rows)
        with timed("read+validate", results):
            parsed = read_table(path, kind="premises", crs="wgs84", category="tobacco",
                                region="420100")
        with timed("import_file (read+validate+COPY+upsert)", results), \
                session_scope(engine) as session:
            outcome = import_file(session, path, kind="premises", crs="wgs84",
                                  category="tobacco", region="420100", settings=settings)
        assert outcome.inserted == args.rows
        frame = parsed.frame.drop(columns=["attributes", "entrance"]).rename_geometry("geom")
        with timed("GeoDataFrame.to_postgis", results):
            frame.to_postgis("naive_premises", engine, if_exists="replace", index=False)
        with engine.connect() as conn:
            copied = conn.execute(text("SELECT count(*) FROM naive_premises")).scalar_one()
        assert copied == args.rows
    write_s = results["import_file (read+validate+COPY+upsert)"] - results["read+validate"]
    print(f"rows: {args.rows}")
    for label, seconds in results.items():
        print(f"{label:45s} {seconds:8.2f} s  {args.rows / seconds:12,.0f} rows/s")
    print(f"{'database write of import_file (COPY+upsert)':45s} {write_s:8.2f} s  "
          f"{args.rows / write_s:12,.0f} rows/s")
    print(f"ratio to_postgis / import_file end-to-end: "
          f"{results['GeoDataFrame.to_postgis'] / results['import_file (read+validate+COPY+upsert)']:.2f}x")
    print(f"ratio to_postgis / COPY+upsert write:     "
          f"{results['GeoDataFrame.to_postgis'] / write_s:.2f}x")


if __name__ == "__main__":
    main()
