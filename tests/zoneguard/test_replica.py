"""`zoneguard db replica up|status|down|destroy`: a streaming, read-only copy of the cluster."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import psycopg
import pytest

from zoneguard.db.embedded import EmbeddedCluster
from zoneguard.db.replica import ReplicaCluster

CLI = str(Path(__file__).resolve().parents[2] / ".venv" / "bin" / "zoneguard")


def _conn(cluster: EmbeddedCluster) -> psycopg.Connection[tuple[object, ...]]:
    status = cluster.status()
    return psycopg.connect(f"host={status.socket_dir} port={status.port} user=zoneguard "
                           "dbname=zoneguard", autocommit=True)


def test_cli_replica_streams_the_primary_read_only_and_destroy_drops_its_slot() -> None:
    home = tempfile.mkdtemp()
    env = {**os.environ, "ZONEGUARD_HOME": home}
    env.pop("ZONEGUARD_DATABASE_URL", None)
    primary = EmbeddedCluster(Path(home).resolve())
    replica = ReplicaCluster(primary, 1)

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([CLI, "db", *args], env=env, capture_output=True, text=True)

    try:
        up = cli("replica", "up")
        assert up.returncode == 0, up.stderr
        assert replica.status().port != primary.status().port
        with _conn(primary) as conn:
            conn.execute("CREATE TABLE replicated (x int)")
            conn.execute("INSERT INTO replicated VALUES (42)")
            slot = conn.execute("SELECT active FROM pg_replication_slots "
                                "WHERE slot_name = 'zoneguard_replica_1'").fetchone()
        assert slot == (True,)
        deadline = time.monotonic() + 30
        with _conn(replica) as conn:
            while True:
                try:
                    assert conn.execute("SELECT x FROM replicated").fetchone() == (42,)
                    break
                except psycopg.errors.UndefinedTable:
                    assert time.monotonic() < deadline
                    time.sleep(0.1)
            assert conn.execute("SELECT pg_is_in_recovery()").fetchone() == (True,)
            with pytest.raises(psycopg.errors.ReadOnlySqlTransaction):
                conn.execute("INSERT INTO replicated VALUES (1)")
        listed = json.loads(cli("replica", "status", "--json").stdout)
        assert [(r["number"], r["running"]) for r in listed] == [(1, True)]
        assert cli("replica", "down").returncode == 0 and not replica.status().running
        assert cli("replica", "up").returncode == 0 and replica.status().running
        destroyed = cli("replica", "destroy", "--yes")
        assert destroyed.returncode == 0, destroyed.stderr
        assert not replica.status().initialised
        with _conn(primary) as conn:
            assert conn.execute("SELECT count(*) FROM pg_replication_slots").fetchone() == (0,)
        assert cli("replica", "status").returncode == 3
    finally:
        replica.destroy()
        primary.destroy()
        shutil.rmtree(home, ignore_errors=True)
