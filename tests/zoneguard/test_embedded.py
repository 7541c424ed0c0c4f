"""The embedded cluster: idempotent up, status, recovery after a kill, two homes, non-root."""

from __future__ import annotations

import json
import os
import pwd
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import text

from zoneguard.db.binaries import find_binaries
from zoneguard.db.embedded import EmbeddedCluster, cluster_for
from zoneguard.db.engine import make_engine
from zoneguard.errors import EnvironmentProblem
from zoneguard.settings import Settings

CLI = str(Path(sys.executable).with_name("zoneguard"))


def _query(status_url_host: Path, port: int | None, sql: str) -> object:
    with psycopg.connect(host=str(status_url_host), port=port, user="zoneguard",
                         dbname="zoneguard") as conn:
        row = conn.execute(sql).fetchone()
        assert row is not None
        return row[0]


def test_up_is_idempotent_and_a_killed_server_comes_back(tmp_path: Path) -> None:
    cluster = EmbeddedCluster(tmp_path / "home")
    try:
        first = cluster.up()
        assert first.running and first.pid
        again = cluster.up()
        assert again.pid == first.pid  # second up is a no-op
        assert _query(first.socket_dir, first.port, "SELECT 41 + 1") == 42
        cluster.kill()
        deadline = time.monotonic() + 10
        while cluster.status().running and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not cluster.status().running
        revived = cluster.up()
        assert revived.running and revived.pid != first.pid
        assert _query(revived.socket_dir, revived.port, "SELECT 1") == 1
        stopped = cluster.down()
        assert not stopped.running and stopped.pid is None
        assert cluster.down().pid is None  # stopping twice is fine
    finally:
        cluster.destroy()


def test_two_homes_run_two_independent_clusters(tmp_path: Path) -> None:
    one, two = EmbeddedCluster(tmp_path / "a"), EmbeddedCluster(tmp_path / "b")
    try:
        s1, s2 = one.up(), two.up()
        assert s1.data_dir != s2.data_dir and s1.port != s2.port and s1.pid != s2.pid
        with psycopg.connect(host=str(s1.socket_dir), port=s1.port, user="zoneguard",
                             dbname="zoneguard", autocommit=True) as conn:
            conn.execute("CREATE TABLE only_in_one (x int)")
        assert _query(s2.socket_dir, s2.port,
                      "SELECT count(*) FROM pg_tables WHERE tablename = 'only_in_one'") == 0
    finally:
        one.destroy()
        two.destroy()


def test_home_under_a_private_directory_works_as_root(tmp_path: Path) -> None:
    private = tmp_path / "private"
    private.mkdir(mode=0o700)
    cluster = EmbeddedCluster(private / "home")
    try:
        status = cluster.up()
        assert status.running
        assert (private / "home" / "pg").exists()  # reachable from the home, link or not
    finally:
        cluster.destroy()


def test_stale_pid_file_does_not_block_start(tmp_path: Path) -> None:
    cluster = EmbeddedCluster(tmp_path / "home")
    try:
        status = cluster.up()
        cluster.down()
        pidfile = status.data_dir / "postmaster.pid"
        pidfile.write_text("999999\n")  # a pid that does not exist
        assert cluster.up().running
    finally:
        cluster.destroy()


def test_cli_up_status_down_round_trip() -> None:
    home = tempfile.mkdtemp()
    env = {**os.environ, "ZONEGUARD_HOME": home}
    env.pop("ZONEGUARD_DATABASE_URL", None)
    try:
        up = subprocess.run([CLI, "db", "up"], env=env, capture_output=True, text=True)
        assert up.returncode == 0, up.stderr
        status = subprocess.run([CLI, "db", "status"], env=env, capture_output=True, text=True)
        assert status.returncode == 0 and "running" in status.stdout
        down = subprocess.run([CLI, "db", "down"], env=env, capture_output=True, text=True)
        assert down.returncode == 0
        after = subprocess.run([CLI, "db", "status"], env=env, capture_output=True, text=True)
        assert after.returncode == 3 and "stopped" in after.stdout
    finally:
        EmbeddedCluster(Path(home).resolve()).destroy()
        shutil.rmtree(home, ignore_errors=True)


def _lifecycle_as(uid: int, gid: int, home: Path) -> int:
    """Fork, drop to uid/gid, run up/status/down in the child; return its exit code."""
    pid = os.fork()
    if pid == 0:  # child: no pytest machinery from here on
        code = 1
        try:
            os.setgroups([])
            os.setgid(gid)
            os.setuid(uid)
            cluster = EmbeddedCluster(home)
            ok = cluster.up().running and cluster.up().running
            ok = ok and _query(cluster.status().socket_dir, cluster.status().port,
                               "SELECT current_user") == "zoneguard"
            ok = ok and not cluster.down().running
            code = 0 if ok else 2
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status)


def test_runs_as_a_normal_user(tmp_path: Path) -> None:
    if os.geteuid() != 0:
        cluster = EmbeddedCluster(tmp_path / "home")
        try:
            assert cluster.up().running and not cluster.down().running
        finally:
            cluster.destroy()
        return
    user = pwd.getpwnam("postgres")
    home = Path(tempfile.mkdtemp(prefix="zg-user-"))
    os.chown(home, user.pw_uid, user.pw_gid)
    try:
        assert _lifecycle_as(user.pw_uid, user.pw_gid, home) == 0
        # as a normal user the cluster lives in the home itself, owned by that user
        assert (home / "pg" / "PG_VERSION").exists() and not (home / "pg").is_symlink()
        assert (home / "pg").stat().st_uid == user.pw_uid
    finally:
        shutil.rmtree(home, ignore_errors=True)


def test_missing_binaries_say_what_to_install(monkeypatch: pytest.MonkeyPatch,
                                              tmp_path: Path) -> None:
    (tmp_path / "initdb").touch()
    monkeypatch.setenv("ZONEGUARD_PG_BINDIR", str(tmp_path))
    with pytest.raises(EnvironmentProblem, match="apt-get install"):
        find_binaries()


def test_a_left_behind_control_file_without_its_library_is_named(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    bindir = tmp_path / "bin"
    bindir.mkdir()
    (tmp_path / "lib").mkdir()
    (tmp_path / "lib" / "postgis-3.so").touch()  # pgRouting's library is missing
    fake = bindir / "postgres"
    fake.write_text("#!/bin/sh\necho 'postgres (PostgreSQL) 15.18'\n")
    fake.chmod(0o755)
    (bindir / "initdb").touch()
    monkeypatch.setenv("ZONEGUARD_PG_BINDIR", str(bindir))
    with pytest.raises(EnvironmentProblem, match="缺少 pgrouting.*postgresql-15-pgrouting"):
        find_binaries()


def _plain_bind_fails(port: int) -> bool:
    """What the old free-port probe did: bind without SO_REUSEADDR."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return True
    return False


def _crash(cluster: EmbeddedCluster) -> None:
    cluster.kill()
    deadline = time.monotonic() + 10
    while cluster.status().running and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not cluster.status().running


def test_a_crash_with_a_tcp_client_keeps_the_port_and_a_live_engine_recovers(
        tmp_path: Path) -> None:
    cfg = Settings(home=tmp_path / "home", database_url=None)
    cluster = cluster_for(cfg)
    first = cluster.up()
    engine = make_engine(cfg)
    password = json.loads((tmp_path / "home" / "cluster.json").read_text())["password"]
    tcp = psycopg.connect(host="127.0.0.1", port=first.port, user="zoneguard",
                          dbname="zoneguard", password=password)
    try:
        with engine.connect() as conn:  # the pool now holds a connection to the old server
            assert conn.execute(text("SELECT 1")).scalar_one() == 1
        assert tcp.execute("SELECT 2").fetchone() == (2,)
        _crash(cluster)
        assert _plain_bind_fails(first.port)  # the old probe would have moved the cluster
        revived = cluster.up()
        assert revived.running and revived.pid != first.pid
        assert revived.port == first.port
        with engine.connect() as conn:  # same engine, no restart of its owner
            assert conn.execute(text("SELECT 1")).scalar_one() == 1
    finally:
        tcp.close()
        engine.dispose()
        cluster.destroy()


def test_a_live_engine_follows_the_cluster_when_its_port_is_truly_taken(tmp_path: Path) -> None:
    cfg = Settings(home=tmp_path / "home", database_url=None)
    cluster = cluster_for(cfg)
    first = cluster.up()
    engine = make_engine(cfg)
    squatter = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        with engine.connect() as conn:
            assert conn.execute(text("SELECT 1")).scalar_one() == 1
        _crash(cluster)
        assert first.port is not None
        deadline = time.monotonic() + 10
        while True:  # the killed server's backends may hold the port for a moment
            try:
                squatter.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                squatter.bind(("127.0.0.1", first.port))
                break
            except OSError:
                assert time.monotonic() < deadline
                time.sleep(0.1)
        squatter.listen()
        moved = cluster.up()
        assert moved.running and moved.port != first.port
        with engine.connect() as conn:
            assert conn.execute(text("SELECT inet_server_port()")).scalar_one() is None  # socket
            assert conn.execute(text("SELECT current_setting('port')::int")).scalar_one() \
                == moved.port
    finally:
        squatter.close()
        engine.dispose()
        cluster.destroy()
