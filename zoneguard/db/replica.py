"""Local streaming replicas of the embedded cluster, read-only, for partitioned rescans.

`zoneguard db replica up` copies the running embedded cluster with `pg_basebackup -R` (as
the server user when root, like the primary) into `$ZONEGUARD_HOME/replica` (number 1) or
`$ZONEGUARD_HOME/replica-N`, or into the outside directory the primary's layout would choose
for that path; it streams from the primary through a replication slot of its own, serves
read-only queries on its own port (hot standby, with feedback so the primary's vacuum does
not cancel a long measurement) and is started, stopped and destroyed like the primary.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import psycopg

from zoneguard.db.binaries import PgBinaries
from zoneguard.db.embedded import DB_USER, EmbeddedCluster
from zoneguard.db.layout import free_port
from zoneguard.db.process import ServerUser, run_as
from zoneguard.errors import DatabaseUnavailable

REPLICA_CONF = """
# ZoneGuard replica: its own socket, read-only queries while it replays the primary's WAL
unix_socket_directories = '{socket_dir}'
hot_standby = on
hot_standby_feedback = on
"""
MAX_REPLICAS = 8


def _conninfo(socket_dir: Path, port: int, dbname: str = "postgres") -> str:
    return f"host={socket_dir} port={port} user={DB_USER} dbname={dbname}"


class ReplicaCluster(EmbeddedCluster):
    """Replica number `number` of a home's embedded cluster."""

    def __init__(self, primary: EmbeddedCluster, number: int = 1) -> None:
        if not 1 <= number <= MAX_REPLICAS:
            raise DatabaseUnavailable(f"只读副本编号应为 1 到 {MAX_REPLICAS}（填写的是 {number}）")
        name = "replica" if number == 1 else f"replica-{number}"
        super().__init__(primary.home / name, server_user=primary.server_user_name)
        self.primary = primary
        self.number = number
        self.slot = f"zoneguard_replica_{number}"

    def _primary_conninfo(self) -> str:
        status = self.primary.status()
        if not status.running or status.port is None:
            raise DatabaseUnavailable("内置数据库（主库）未运行：请先用 zoneguard db up 启动")
        return _conninfo(status.socket_dir, status.port)

    def _drop_slot(self) -> None:
        """Drop this replica's slot on the primary (a slot left behind keeps WAL forever)."""
        with psycopg.connect(self._primary_conninfo(), autocommit=True) as conn:
            conn.execute("SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots "
                         "WHERE slot_name = %s AND NOT active", (self.slot,))

    def _init(self, binaries: PgBinaries, user: ServerUser) -> None:
        primary = self.primary.status()
        self._drop_slot()  # checks that the primary runs; clears a slot of a destroyed replica
        base, data_dir, socket_dir = self._make_dirs(user)
        result = run_as(user, [
            str(binaries.bindir / "pg_basebackup"), "-D", str(data_dir),
            "-h", str(primary.socket_dir), "-p", str(primary.port), "-U", DB_USER,
            "-R", "-X", "stream", "-c", "fast", "-C", "-S", self.slot, "--no-password",
        ], cwd=base)
        if result.returncode != 0:
            shutil.rmtree(data_dir, ignore_errors=True)  # a half copy: the next `up` retries
            self._drop_slot()
            raise DatabaseUnavailable(
                f"复制主库数据失败（pg_basebackup）：{result.stderr.strip()[-2000:]}")
        with open(data_dir / "postgresql.conf", "a") as conf:
            conf.write(REPLICA_CONF.format(socket_dir=socket_dir))
        state = self.primary._state()
        self._save_state({
            "data_dir": str(data_dir), "socket_dir": str(socket_dir), "port": free_port(),
            "server_user": user.name, "version": binaries.version,
            "password": state.get("password"), "primary_home": str(self.primary.home),
            "slot": self.slot,
        })

    def _ensure_database(self) -> None:
        """Nothing to create: a replica has the primary's databases, read-only."""

    def destroy(self) -> Path:
        """Stop the replica, delete its files and drop its slot on the primary (if it runs)."""
        removed = super().destroy()
        if self.primary.status().running:
            self._drop_slot()
        return removed

    def lag_bytes(self) -> int | None:
        """WAL bytes the replica has still to replay (None when either server is down)."""
        mine = self.status()
        if not mine.running or mine.port is None or not self.primary.status().running:
            return None
        with psycopg.connect(_conninfo(mine.socket_dir, mine.port), autocommit=True) as conn:
            replayed = conn.execute("SELECT pg_last_wal_replay_lsn()::text").fetchone()
        with psycopg.connect(self._primary_conninfo(), autocommit=True) as conn:
            row = conn.execute("SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), %s::pg_lsn)::bigint",
                               (replayed[0] if replayed else None,)).fetchone()
        return None if row is None or row[0] is None else int(row[0])


def replicas(primary: EmbeddedCluster) -> list[ReplicaCluster]:
    """The replicas of `primary` that have been created (running or not), by number."""
    found = [ReplicaCluster(primary, n) for n in range(1, MAX_REPLICAS + 1)]
    return [r for r in found if r.state_file.exists()]


def replica_url(replica: ReplicaCluster, database: str) -> str:
    """SQLAlchemy URL of `database` on a running replica (Unix socket)."""
    status = replica.status()
    if not status.running:
        raise DatabaseUnavailable(f"只读副本 {replica.number} 未运行（可用 zoneguard db replica "
                                  f"up --number {replica.number} 启动）")
    return (f"postgresql+psycopg://{DB_USER}@/{database}?host={status.socket_dir}"
            f"&port={status.port}")
