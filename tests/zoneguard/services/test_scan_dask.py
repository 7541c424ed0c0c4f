"""Partitioned rescans on a Dask `LocalCluster` against two real streaming replicas.

The reference is the single-machine scan of the same data (run in a rolled-back transaction
just before): the distributed scan must give exactly its findings, pairs across partition
borders included; a failed, killed or lagging partition must fail the scan and change nothing.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from distributed import LocalCluster
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from benchmarks.synthetic import city, load
from tests.factories import add_premises, write_rules
from tests.scratchdb import scratch_database
from zoneguard.cli.main import app
from zoneguard.db.embedded import cluster_for
from zoneguard.db.layout import free_port
from zoneguard.db.replica import ReplicaCluster, replica_url
from zoneguard.errors import ReplicaLagging, ScanPartitionFailed
from zoneguard.services.scan.run import run_scan
from zoneguard.settings import Settings, get_settings

FINDINGS = """
SELECT f.school_id, f.premises_id, f.rule_id, f.metric, f.verdict,
       round(f.distance_m::numeric, 6) AS distance_m, ST_AsText(f.line) AS line,
       f.reasons::text AS reasons, f.state
FROM finding f ORDER BY 1, 2, 3
"""
runner = CliRunner()
CROSS_BORDER = """
SELECT count(*) FROM finding f JOIN school s ON s.id = f.school_id
JOIN premises p ON p.id = f.premises_id WHERE left(s.region, 6) <> left(p.region, 6)
"""


@pytest.fixture(scope="module")
def replicas(engine: Engine, settings: Settings) -> Iterator[list[ReplicaCluster]]:
    made = [ReplicaCluster(cluster_for(settings), n) for n in (1, 2)]
    try:
        for replica in made:
            assert replica.up().running
        yield made
    finally:
        for replica in made:
            replica.destroy()


@pytest.fixture(scope="module")
def threads() -> Iterator[str]:
    """Two in-process workers (threads): fast; the processes test below uses real ones."""
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
                      dashboard_address=None) as cluster:
        yield cluster.scheduler_address


@pytest.fixture
def cfg(settings: Settings, tmp_path: Path) -> Settings:
    return settings.model_copy(update={"rules_dir": write_rules(tmp_path / "rules"),
                                       "scan_partition_premises": 150, "replica_wait_s": 30.0})


@pytest.fixture
def db(engine: Engine, settings: Settings,
       replicas: list[ReplicaCluster]) -> Iterator[Engine]:  # noqa: ARG001 - replicas first
    with scratch_database(engine, settings) as (_url, scratch):
        with scratch.begin() as conn:
            raw = conn.connection.driver_connection
            assert raw is not None
            load(raw, city(schools=30, premises=1_500, seed=11))
        yield scratch


def _findings(db: Engine) -> list[dict[str, Any]]:
    with db.connect() as conn:
        return [dict(r) for r in conn.execute(text(FINDINGS)).mappings()]


def _single_machine(db: Engine, cfg: Settings, **options: Any) -> list[dict[str, Any]]:
    """The findings the single-machine scan would leave, measured and rolled back."""
    with db.connect() as conn:
        outer = conn.begin()
        with Session(bind=conn, join_transaction_mode="create_savepoint") as session:
            run_scan(session, trigger="manual", settings=cfg, **options)
            found = [dict(r) for r in session.execute(text(FINDINGS)).mappings()]
        outer.rollback()
    return found


def _move_some(db: Engine) -> None:
    with db.begin() as conn:
        conn.execute(text("UPDATE premises SET location = ST_Project(geography(location), 60, "
                          "radians(45))::geometry WHERE id % 13 = 0"))


def _replica_sql(replica: ReplicaCluster, sql: str) -> list[tuple[Any, ...]]:
    status = replica.status()
    with psycopg.connect(f"host={status.socket_dir} port={status.port} user=zoneguard "
                         "dbname=postgres", autocommit=True) as conn:
        return conn.execute(sql).fetchall()


def _last_scan(db: Engine) -> dict[str, Any]:
    with db.connect() as conn:
        return dict(conn.execute(text(
            "SELECT status, error FROM scan ORDER BY id DESC LIMIT 1")).mappings().one())


def test_a_partitioned_scan_on_worker_processes_finds_exactly_the_single_machine_findings(
        db: Engine, cfg: Settings) -> None:
    expected = _single_machine(db, cfg)
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                      dashboard_address=None) as cluster:
        summary = run_scan(db, trigger="manual", settings=cfg, dask=cluster.scheduler_address)
        # 1,500 premises in 13 districts of ≤ 150, packed into 4 tasks per worker
        assert len(summary.partitions) == 8
        assert sum(len(p["group_seconds"]) for p in summary.partitions) >= 10
        assert len({p["replica"] for p in summary.partitions}) == 2  # both, in turn
        found = _findings(db)
        assert len(found) > 100 and found == expected
        with db.connect() as conn:
            assert conn.execute(text(CROSS_BORDER)).scalar_one() > 20
        _move_some(db)  # an incremental rescan, partitioned the same way
        expected = _single_machine(db, cfg)
        summary = run_scan(db, trigger="manual", settings=cfg, dask=cluster.scheduler_address)
    assert summary.mode == "incremental" and summary.resolved + summary.new > 0
    assert _findings(db) == expected


def test_a_full_partitioned_scan_in_threads_matches_and_rescans_unchanged_data_to_no_change(
        db: Engine, cfg: Settings, threads: str) -> None:
    expected = _single_machine(db, cfg, full=True)
    first = run_scan(db, trigger="manual", settings=cfg, dask=threads, full=True)
    assert _findings(db) == expected and first.new == len(expected)
    again = run_scan(db, trigger="manual", settings=cfg, dask=threads, full=True)
    assert (again.new, again.resolved, again.reopened, again.open) == (0, 0, 0, len(expected))


def test_a_failing_partition_fails_the_scan_in_chinese_and_changes_nothing(
        db: Engine, cfg: Settings, threads: str, replicas: list[ReplicaCluster]) -> None:
    run_scan(db, trigger="manual", settings=cfg, dask=threads)
    before = _findings(db)
    _move_some(db)
    good = replica_url(replicas[0], db.url.database or "")
    gone = f"postgresql+psycopg://zoneguard@127.0.0.1:{free_port()}/{db.url.database}"
    broken = cfg.model_copy(update={"read_database_urls": f"{good},{gone}"})
    with pytest.raises(ScanPartitionFailed, match="只读副本 127.0.0.1"):
        run_scan(db, trigger="manual", settings=broken, dask=threads)
    assert _findings(db) == before
    last = _last_scan(db)
    assert last["status"] == "failed"
    assert "分区" in last["error"] and "未改动任何发现" in last["error"]
    assert run_scan(db, trigger="manual", settings=cfg, dask=threads).resolved > 0  # lock free


def test_a_partition_whose_session_is_killed_fails_the_scan_and_changes_nothing(
        db: Engine, cfg: Settings, threads: str, replicas: list[ReplicaCluster]) -> None:
    run_scan(db, trigger="manual", settings=cfg, dask=threads)
    before = _findings(db)
    _move_some(db)
    for replica in replicas:  # partitions wait for replay: their sessions can be caught
        _replica_sql(replica, "SELECT pg_wal_replay_pause()")
    outcome: list[BaseException] = []

    def scan() -> None:
        try:
            run_scan(db, trigger="manual", settings=cfg, dask=threads)
        except BaseException as exc:  # noqa: BLE001 - handed to the test thread
            outcome.append(exc)

    worker = threading.Thread(target=scan)
    worker.start()
    try:
        killed = 0
        deadline = time.monotonic() + 30
        while not killed and time.monotonic() < deadline:
            time.sleep(0.2)
            for replica in replicas:
                killed += len(_replica_sql(replica, (
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE application_name = 'zoneguard-scan-partition'")))
        assert killed > 0
    finally:
        for replica in replicas:
            _replica_sql(replica, "SELECT pg_wal_replay_resume()")
        worker.join(60)
    assert len(outcome) == 1 and isinstance(outcome[0], ScanPartitionFailed)
    assert _findings(db) == before
    assert "未改动任何发现" in _last_scan(db)["error"]


def _premises_in_a_campus(db: Engine) -> int:
    with db.connect() as conn:
        lon, lat = conn.execute(text(
            "SELECT ST_X(ST_PointOnSurface(boundary)), ST_Y(ST_PointOnSurface(boundary)) "
            "FROM school WHERE boundary IS NOT NULL ORDER BY id LIMIT 1")).one()
    with Session(db) as session:
        premises_id = add_premises(session, "internet_cafe", lon, lat, region="420102")
        session.commit()
    return premises_id


def test_partitions_wait_for_a_lagging_replica_and_never_measure_stale_data(
        db: Engine, cfg: Settings, threads: str, replicas: list[ReplicaCluster]) -> None:
    for replica in replicas:
        _replica_sql(replica, "SELECT pg_wal_replay_pause()")
    try:
        inside = _premises_in_a_campus(db)  # committed on the primary, not yet replayed
        impatient = cfg.model_copy(update={"replica_wait_s": 0.5})
        with pytest.raises(ReplicaLagging, match="未追上主库"):
            run_scan(db, trigger="manual", settings=impatient, dask=threads)
        assert _findings(db) == []
        done: list[Any] = []
        worker = threading.Thread(target=lambda: done.append(
            run_scan(db, trigger="manual", settings=cfg, dask=threads)))
        worker.start()
        time.sleep(1.5)
        assert worker.is_alive() and not done  # still waiting for the replicas
    finally:
        for replica in replicas:
            _replica_sql(replica, "SELECT pg_wal_replay_resume()")
    worker.join(60)
    assert done and done[0].new > 0
    assert any(f["premises_id"] == inside and f["verdict"] == "prohibited"
               for f in _findings(db))


def test_cli_scan_dask_measures_on_the_configured_replica_or_fails_in_chinese(
        db: Engine, cfg: Settings, threads: str, replicas: list[ReplicaCluster],
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ZONEGUARD_DATABASE_URL", db.url.render_as_string(hide_password=False))
    monkeypatch.setenv("ZONEGUARD_RULES_DIR", str(cfg.rules_dir))
    monkeypatch.setenv("ZONEGUARD_READ_DATABASE_URLS",
                       replica_url(replicas[1], db.url.database or ""))
    get_settings.cache_clear()
    try:
        done = runner.invoke(app, ["scan", "--dask", threads, "--full"])
        assert done.exit_code == 0, done.output
        assert "partitions measured on read replicas" in done.output
        assert len(_findings(db)) > 100
        monkeypatch.setenv("ZONEGUARD_READ_DATABASE_URLS",
                           f"postgresql://zoneguard@127.0.0.1:{free_port()}/zoneguard")
        get_settings.cache_clear()
        failed = runner.invoke(app, ["scan", "--dask", threads, "--full"])
        assert failed.exit_code == 1
        assert "未改动任何发现" in failed.output and "Traceback" not in failed.output
    finally:
        get_settings.cache_clear()
