"""Where a first-load import's time goes, step by step, measured on the server's side.

Run: .venv/bin/python -m benchmarks.import_steps [--rows 200000] [--repeat 2]

In a temporary embedded cluster: one `import_file` of the synthetic registry of
`bench_import`, then, on one connection and each in a transaction rolled back:
- the Python side: read + validate (`read_table`) and formatting the COPY CSV (`csv_chunks`);
- COPY of the prebuilt CSV bytes into a temporary table of text columns (CSV parsing only),
  into one with the premises column types (plus the input functions: jsonb, geometry, date)
  and into premises itself with only its primary key and unique key (plus WAL, constraints);
- `INSERT … SELECT` of the same rows into premises bare and with its two unique btrees;
- the build of each secondary index of premises after the load (what a bulk load rebuilds).
It prints the server version, since what GiST can build sorted depends on it.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

from benchmarks.bench_import import write_csv
from benchmarks.common import scratch_database
from zoneguard.db.engine import session_scope
from zoneguard.imports import Limits, read_table
from zoneguard.services.ingest import copy as staged
from zoneguard.services.ingest import files as service

_SECONDARY = """
SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid) FROM pg_index i
WHERE i.indrelid = 'premises'::regclass AND NOT i.indisunique ORDER BY 1
"""


def _copy(raw: Any, table: str, names: str, chunks: list[bytes]) -> None:
    with raw.cursor() as cur, cur.copy(f"COPY {table} ({names}) FROM STDIN (FORMAT csv)") as cp:
        for chunk in chunks:
            cp.write(chunk)


def _round(raw: Any, names: str, columns: list[str], chunks: list[bytes],
           times: dict[str, list[float]]) -> None:
    def step(label: str, action: Any) -> None:
        started = time.perf_counter()
        action()
        times[label].append(time.perf_counter() - started)

    cur = raw.cursor()
    secondary = cur.execute(_SECONDARY).fetchall()
    drop = "DROP INDEX " + ", ".join(name for name, _ in secondary)
    cur.execute("CREATE TEMP TABLE t_text (" + ", ".join(f"{c} text" for c in columns) + ")")
    cur.execute("CREATE TEMP TABLE t_typed (LIKE premises INCLUDING DEFAULTS)")
    step("COPY CSV into a temp table, text columns", lambda: _copy(raw, "t_text", names, chunks))
    step("COPY CSV into a temp table, premises types",
         lambda: _copy(raw, "t_typed", names, chunks))
    cur.execute("TRUNCATE premises CASCADE")
    cur.execute(drop)
    step("COPY CSV into premises, pk + unique key", lambda: _copy(raw, "premises", names, chunks))
    for name, definition in secondary:
        step(f"  then CREATE INDEX {name}", lambda d=definition: cur.execute(d))
    cur.execute("CREATE TEMP TABLE t_rows AS SELECT * FROM premises")
    cur.execute("TRUNCATE premises CASCADE")
    cur.execute(drop)
    step("INSERT SELECT into premises, pk + unique key",
         lambda: cur.execute("INSERT INTO premises SELECT * FROM t_rows"))
    cur.execute("TRUNCATE premises CASCADE")
    cur.execute("ALTER TABLE premises DROP CONSTRAINT uq_premises_category_licence_no_region")
    cur.execute("ALTER TABLE premises DROP CONSTRAINT pk_premises CASCADE")
    step("INSERT SELECT into premises, bare",
         lambda: cur.execute("INSERT INTO premises SELECT * FROM t_rows"))
    step("  then ADD PRIMARY KEY + UNIQUE", lambda: cur.execute(
        "ALTER TABLE premises ADD PRIMARY KEY (id), ADD UNIQUE (category, licence_no, region)"))
    raw.rollback()


def main() -> None:
    """Print the median time of each step over the rounds."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()
    times: dict[str, list[float]] = defaultdict(list)
    with tempfile.TemporaryDirectory() as tmp, scratch_database() as (settings, engine):
        path = Path(tmp) / "registry.csv"
        write_csv(path, args.rows)
        with session_scope(engine) as session:
            service.import_file(session, path, kind="premises", crs="wgs84",
                                category="tobacco", region="420100", settings=settings)
        for _ in range(args.repeat):
            started = time.perf_counter()
            parsed = read_table(path, kind="premises", crs="wgs84", category="tobacco",
                                region="420100", known_categories={"tobacco"},
                                limits=Limits.from_settings(settings))
            times["read + validate (Python)"].append(time.perf_counter() - started)
            started = time.perf_counter()
            columns = staged.premises_columns(parsed.frame)
            columns |= staged.constants({"source": "x", "source_crs": "EPSG:4326"}, args.rows)
            chunks = list(staged.csv_chunks(columns, args.rows))
            times["format COPY CSV (Python)"].append(time.perf_counter() - started)
            raw = engine.raw_connection().driver_connection
            try:
                _round(raw, ", ".join(columns), list(columns), chunks, times)
            finally:
                raw.close()
        with engine.connect() as conn:
            print(conn.exec_driver_sql("SELECT postgis_full_version(), version()").one())
    print(f"rows: {args.rows}, rounds: {args.repeat} (median, min–max)")
    for label, runs in times.items():
        mid = statistics.median(runs)
        print(f"  {label:52s} {mid:6.3f} s ({min(runs):.3f}–{max(runs):.3f})"
              f" {args.rows / mid:10,.0f} rows/s")


if __name__ == "__main__":
    main()
