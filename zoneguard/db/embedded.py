"""The embedded PostGIS cluster: a private PostgreSQL server under `$ZONEGUARD_HOME/pg`.

PostgreSQL refuses to run as root. When ZoneGuard runs as root, the server runs as an
unprivileged system user (`ZONEGUARD_SERVER_USER`, default `postgres`). If that user cannot
enter `$ZONEGUARD_HOME` (a home under `/root` is mode 0700), the cluster's files live under
`/var/lib/zoneguard/clusters/<hash of the home path>/` and `$ZONEGUARD_HOME/pg` and
`$ZONEGUARD_HOME/run` are symbolic links to them; one home is still one cluster.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import secrets
import shutil
import signal
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg

from zoneguard.db import layout
from zoneguard.db.binaries import PgBinaries, find_binaries
from zoneguard.db.process import (
    ServerUser,
    accepts,
    clear_stale_pid,
    live_pid,
    reachable_by,
    run_as,
    server_user,
)
from zoneguard.errors import DatabaseUnavailable
from zoneguard.settings import Settings

DB_NAME = "zoneguard"
DB_USER = "zoneguard"
EXTERNAL_BASE = layout.EXTERNAL_BASE
_MAX_SOCKET_PATH = 100


@dataclass(frozen=True)
class ClusterStatus:
    """Where the cluster is and whether it runs."""

    home: Path
    data_dir: Path
    socket_dir: Path
    port: int | None
    initialised: bool
    running: bool
    pid: int | None
    server_user: str
    version: int | None
    orphaned: bool = False  # files found without the home's cluster.json: `up` adopts them

    @property
    def url(self) -> str:
        """SQLAlchemy URL of the running cluster (Unix socket)."""
        return f"postgresql+psycopg://{DB_USER}@/{DB_NAME}?host={self.socket_dir}&port={self.port}"


class EmbeddedCluster:
    """Lifecycle of one private cluster: init, start, stop, status."""

    def __init__(self, home: Path, *, server_user: str = "postgres") -> None:
        self.home = home
        self.server_user_name = server_user
        self.state_file = home / "cluster.json"

    # -- layout ---------------------------------------------------------------------------

    def _server_user(self) -> ServerUser:
        return server_user(self.server_user_name)

    def _base(self, user: ServerUser) -> Path:
        """Directory holding `pg/` and `run/` for real (the home, or an external one)."""
        home, external, short = layout.candidate_bases(self.home)
        candidate = home if user.is_self or reachable_by(user, self.home) else external
        if len(str(candidate / "run" / ".s.PGSQL.65535")) > _MAX_SOCKET_PATH:
            candidate = short
        return candidate

    def _state(self) -> dict[str, object]:
        if not self.state_file.exists():
            return {}
        data: dict[str, object] = json.loads(self.state_file.read_text())
        return data

    def _save_state(self, state: dict[str, object]) -> None:
        tmp = self.state_file.with_suffix(".tmp")
        tmp.write_text(json.dumps(state, indent=2))
        tmp.chmod(0o600)
        tmp.replace(self.state_file)
        base = Path(str(state["data_dir"])).parent
        if base != self.home:  # the home may be deleted; the marker lets a new one adopt
            layout.write_marker(base, state, self.home)

    @contextlib.contextmanager
    def _lock(self) -> Iterator[None]:
        self.home.mkdir(parents=True, exist_ok=True)
        with open(self.home / ".cluster.lock", "w") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    # -- public ---------------------------------------------------------------------------

    def status(self) -> ClusterStatus:
        """Report where the cluster lives and whether its server runs."""
        state = self._state()
        found = None if "data_dir" in state else layout.find_existing(self.home)
        data_dir = Path(str(state.get("data_dir", self.home / "pg")))
        socket_dir = Path(str(state.get("socket_dir", self.home / "run")))
        port = state.get("port")
        if found is not None:
            data_dir, socket_dir, port = found.data_dir, found.socket_dir, \
                layout.recorded_port(found)
        pid = live_pid(data_dir)
        version = state.get("version")
        return ClusterStatus(
            home=self.home,
            data_dir=data_dir,
            socket_dir=socket_dir,
            port=int(str(port)) if port is not None else None,
            initialised=(data_dir / "PG_VERSION").exists(),
            running=pid is not None and accepts(socket_dir, port),
            pid=pid,
            server_user=str(state.get("server_user", self.server_user_name)),
            version=int(str(version)) if version is not None else None,
            orphaned=found is not None,
        )

    def up(self) -> ClusterStatus:
        """Initialise (first use) and start the cluster; a no-op when it already runs."""
        with self._lock():
            current = self.status()
            if current.running and not current.orphaned:
                return current
            binaries = find_binaries()
            user = self._server_user()
            if current.orphaned:
                self._adopt_or_clean()
                current = self.status()
            if current.running:
                self._ensure_database()
                return current
            if not current.initialised:
                self._init(binaries, user)
            self._start(binaries, user)
            self._ensure_database()
            return self.status()

    def down(self) -> ClusterStatus:
        """Stop the server (fast shutdown); a no-op when it is not running."""
        with self._lock():
            current = self.status()
            if current.pid is None:
                return current
            binaries = find_binaries(int(current.version) if current.version else None)
            user = self._server_user()
            result = run_as(
                user, [str(binaries.pg_ctl), "stop", "-D", str(current.data_dir), "-m", "fast",
                       "-w", "-t", "60"], cwd=current.data_dir.parent,
            )
            if result.returncode != 0 and live_pid(current.data_dir) is not None:
                raise DatabaseUnavailable(f"无法停止内置数据库：{result.stderr.strip()}")
            return self.status()

    def destroy(self) -> Path:
        """Stop the server and remove the data wherever it lives and the home's links.

        Return the data directory that was removed.
        """
        current = self.down()
        with self._lock():
            layout.remove(self.home, current.data_dir, current.socket_dir)
            self.state_file.unlink(missing_ok=True)
        return current.data_dir

    def endpoint(self) -> tuple[Path, int | None]:
        """Socket directory and port recorded for the cluster (read at every new connection)."""
        state = self._state()
        port = state.get("port")
        return (Path(str(state.get("socket_dir", self.home / "run"))),
                int(str(port)) if port is not None else None)

    # -- internals ------------------------------------------------------------------------

    def _adopt_or_clean(self) -> None:
        """Take over files left by a deleted home at this path, or clear a failed init."""
        found = layout.find_existing(self.home)
        if found is None:
            return
        if found.complete and found.ours:
            if found.base != self.home:
                layout.link_home(self.home, found.data_dir, found.socket_dir)
            self._save_state(layout.adopted_state(found))
            return
        if not found.complete and found.base != self.home:
            # a directory named after this home where initdb never finished: nothing to keep
            shutil.rmtree(found.data_dir, ignore_errors=True)
            return
        raise DatabaseUnavailable(
            f"{found.data_dir} 中的文件不是 {self.home} 的 ZoneGuard 数据库："
            "请把它们移走后重试"
        )

    def _make_dirs(self, user: ServerUser) -> tuple[Path, Path, Path]:
        """Create the empty data and socket directories, owned by `user`: (base, data, run)."""
        base = self._base(user)
        data_dir, socket_dir = base / "pg", base / "run"
        base.mkdir(parents=True, exist_ok=True)
        if data_dir.exists() and any(data_dir.iterdir()):
            raise DatabaseUnavailable(
                f"{data_dir} 已存在，但不是 PostgreSQL 数据目录：请把它移走后重试"
            )
        for path in (data_dir, socket_dir):
            path.mkdir(parents=True, exist_ok=True)
            path.chmod(0o700)
        if not user.is_self:
            for path in (base, data_dir, socket_dir):
                os.chown(path, user.uid, user.gid)
            if base != self.home:
                layout.link_home(self.home, data_dir, socket_dir)
        return base, data_dir, socket_dir

    def _init(self, binaries: PgBinaries, user: ServerUser) -> None:
        base, data_dir, socket_dir = self._make_dirs(user)
        password = secrets.token_urlsafe(24)
        pwfile = base / ".initpw"
        pwfile.write_text(password + "\n")
        if not user.is_self:
            os.chown(pwfile, user.uid, user.gid)
        pwfile.chmod(0o600)
        try:
            result = run_as(
                user,
                [str(binaries.initdb), "-D", str(data_dir), "-U", DB_USER, "-E", "UTF8",
                 "--locale=C.UTF-8", "--auth-local=trust", "--auth-host=scram-sha-256",
                 f"--pwfile={pwfile}", "--no-instructions"],
                cwd=base,
            )
        finally:
            pwfile.unlink(missing_ok=True)
        if result.returncode != 0:
            raise DatabaseUnavailable(
                f"初始化数据库失败（initdb）：{result.stderr.strip()[-2000:]}")
        with open(data_dir / "postgresql.conf", "a") as conf:
            conf.write(
                "\n# ZoneGuard embedded cluster\n"
                "listen_addresses = '127.0.0.1'\n"
                f"unix_socket_directories = '{socket_dir}'\n"
                "shared_buffers = 256MB\nwork_mem = 32MB\nmaintenance_work_mem = 256MB\n"
                "max_parallel_workers_per_gather = 2\nrandom_page_cost = 1.1\n"
                "logging_collector = off\n"
            )
        self._save_state({
            "data_dir": str(data_dir), "socket_dir": str(socket_dir), "port": layout.free_port(),
            "server_user": user.name, "version": binaries.version, "password": password,
        })

    def _start(self, binaries: PgBinaries, user: ServerUser) -> None:
        state = self._state()
        data_dir = Path(str(state["data_dir"]))
        port = int(str(state["port"]))
        clear_stale_pid(data_dir)
        if not layout.port_becomes_free(port):  # only when another server truly holds it
            port = layout.free_port()
            state["port"] = port
            self._save_state(state)
        log = data_dir.parent / "server.log"
        last_error = ""
        for _attempt in range(10):
            result = run_as(
                user,
                [str(binaries.pg_ctl), "start", "-D", str(data_dir), "-l", str(log), "-w",
                 "-t", "60", "-o", f"-p {port}"],
                cwd=data_dir.parent,
            )
            if result.returncode == 0:
                return
            last_error = (result.stderr or result.stdout).strip()
            # A killed postmaster leaves backends behind for a moment; they exit on their own.
            time.sleep(1.0)
            clear_stale_pid(data_dir)
        tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
        raise DatabaseUnavailable(f"内置 PostgreSQL 数据库未能启动：{last_error}\n{tail}")

    def _ensure_database(self) -> None:
        state = self._state()
        conninfo = f"host={state['socket_dir']} port={state['port']} user={DB_USER} dbname=postgres"
        with psycopg.connect(conninfo, autocommit=True) as conn:
            exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (DB_NAME,))
            if exists.fetchone() is None:
                conn.execute(f'CREATE DATABASE "{DB_NAME}"')

    def kill(self) -> None:
        """Kill the postmaster with SIGKILL (tests use it to prove recovery)."""
        pid = self.status().pid
        if pid is not None:
            os.kill(pid, signal.SIGKILL)


def cluster_for(settings: Settings) -> EmbeddedCluster:
    """Return the embedded cluster object of the configured home."""
    return EmbeddedCluster(settings.home, server_user=settings.server_user)
