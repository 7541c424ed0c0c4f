"""A cluster outlives its deleted home: a new home at the same path adopts it; destroy."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest

from zoneguard.db import layout
from zoneguard.db.embedded import EmbeddedCluster
from zoneguard.errors import DatabaseUnavailable

CLI = str(Path(sys.executable).with_name("zoneguard"))


def _private_home(tmp_path: Path) -> Path:
    """A home the server user cannot enter when run as root (files live outside it)."""
    private = tmp_path / "private"
    private.mkdir(mode=0o700)
    return private / "home"


def _sql(status, sql: str) -> object:
    with psycopg.connect(host=str(status.socket_dir), port=status.port, user="zoneguard",
                         dbname="zoneguard", autocommit=True) as conn:
        cursor = conn.execute(sql)
        row = cursor.fetchone() if cursor.description else None
        return None if row is None else row[0]


def _lose_home(home: Path) -> None:
    if os.geteuid() == 0:
        shutil.rmtree(home)  # the links and cluster.json go; the files outside stay
    else:  # a normal user's cluster lives inside the home: lose only its bookkeeping
        (home / "cluster.json").unlink()


def test_a_new_home_at_the_same_path_adopts_the_cluster_left_behind(tmp_path: Path) -> None:
    home = _private_home(tmp_path)
    try:
        first = EmbeddedCluster(home).up()
        if os.geteuid() == 0:
            assert first.data_dir.parent == layout.EXTERNAL_BASE / layout.digest(home)
            assert (home / "pg").is_symlink()
        _sql(first, "CREATE TABLE kept AS SELECT 'schools' AS what")

        _lose_home(home)  # while the server still runs
        seen = EmbeddedCluster(home).status()
        assert seen.orphaned and seen.running and seen.data_dir == first.data_dir
        assert seen.port == first.port
        adopted = EmbeddedCluster(home).up()
        assert adopted.running and not adopted.orphaned and adopted.pid == first.pid
        assert _sql(adopted, "SELECT what FROM kept") == "schools"

        EmbeddedCluster(home).down()
        _lose_home(home)  # stopped this time, and a cluster from before the marker existed
        (first.data_dir.parent / layout.MARKER).unlink(missing_ok=True)
        revived = EmbeddedCluster(home).up()
        assert revived.running and revived.data_dir == first.data_dir
        assert revived.port == first.port  # from the server's last command line
        assert _sql(revived, "SELECT what FROM kept") == "schools"
    finally:
        EmbeddedCluster(home).destroy()
    assert not first.data_dir.exists() and not (home / "pg").is_symlink()


def test_a_failed_init_left_outside_the_home_is_cleared(tmp_path: Path) -> None:
    if os.geteuid() != 0:
        pytest.fail("needs root: only root's clusters live outside the home")
    home = _private_home(tmp_path)
    leftover = layout.EXTERNAL_BASE / layout.digest(home) / "pg"
    leftover.mkdir(parents=True)
    (leftover / "half-written").write_text("initdb died here")
    cluster = EmbeddedCluster(home)
    try:
        status = cluster.up()
        assert status.running and status.data_dir == leftover
        assert not (leftover / "half-written").exists()
    finally:
        cluster.destroy()


def test_foreign_files_in_the_home_are_not_touched(tmp_path: Path) -> None:
    home = tmp_path / "home"
    (home / "pg").mkdir(parents=True)
    (home / "pg" / "notes.txt").write_text("mine")
    with pytest.raises(DatabaseUnavailable, match="不是.*的 ZoneGuard 数据库：请把它们移走"):
        EmbeddedCluster(home).up()
    assert (home / "pg" / "notes.txt").read_text() == "mine"


def _cli(home: Path, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "ZONEGUARD_HOME": str(home), "COLUMNS": "200"}
    env.pop("ZONEGUARD_DATABASE_URL", None)
    return subprocess.run([CLI, "db", *args], env=env, input=stdin, capture_output=True,
                          text=True, timeout=120)


def test_cli_status_says_where_the_data_lives_and_destroy_asks_first(tmp_path: Path) -> None:
    home = _private_home(tmp_path)
    try:
        up = _cli(home, "up")
        assert up.returncode == 0, up.stderr
        state = EmbeddedCluster(home).status()
        status = _cli(home, "status")
        assert status.returncode == 0
        assert f"data dir:    {state.data_dir}" in status.stdout
        assert f"port:        {state.port}" in status.stdout

        refused = _cli(home, "destroy", stdin="n\n")
        assert refused.returncode == 1 and "未删除任何数据" in refused.stdout
        assert EmbeddedCluster(home).status().running

        gone = _cli(home, "destroy", "--yes")
        assert gone.returncode == 0, gone.stderr
        assert str(state.data_dir) in gone.stdout
        assert not state.data_dir.exists() and not (home / "pg").is_symlink()
        assert not (home / "cluster.json").exists()
        if os.geteuid() == 0:
            assert not state.data_dir.parent.exists()
        after = _cli(home, "status")
        assert after.returncode == 3 and "not initialised" in after.stdout
        again = _cli(home, "up")  # a fresh cluster at the same path starts cleanly
        assert again.returncode == 0, again.stderr
    finally:
        EmbeddedCluster(home).destroy()
