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
import hashlib
import json
import os
import pwd
import secrets
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg

from zoneguard.db.binaries import PgBinaries, find_binaries
from zoneguard.errors import DatabaseUnavailable, EnvironmentProblem

DB_NAME = "zoneguard"
DB_USER = "zoneguard"
EXTERNAL_BASE = Path("/var/lib/zoneguard/clusters")
_MAX_SOCKET_PATH = 100


@dataclass(frozen=True)
class ServerUser:
    """The OS identity the server runs as (None fields: the current user)."""

    name: str
    uid: int
    gid: int

    @property
    def is_self(self) -> bool:
        """True when the server runs as the invoking user."""
        return self.uid == os.geteuid()


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
        if os.geteuid() != 0:
            entry = pwd.getpwuid(os.geteuid())
            return ServerUser(entry.pw_name, entry.pw_uid, entry.pw_gid)
        try:
            entry = pwd.getpwnam(self.server_user_name)
        except KeyError:
            raise EnvironmentProblem(
                f"running as root, the embedded PostgreSQL needs an unprivileged user "
                f"'{self.server_user_name}'. Install PostgreSQL (apt-get install postgresql), "
                f"which creates it, or set ZONEGUARD_SERVER_USER to an existing user."
            ) from None
        if entry.pw_uid == 0:
            raise EnvironmentProblem("ZONEGUARD_SERVER_USER must not be root")
        return ServerUser(entry.pw_name, entry.pw_uid, entry.pw_gid)

    def _base(self, user: ServerUser) -> Path:
        """Directory holding `pg/` and `run/` for real (the home, or an external one)."""
        if user.is_self or self._reachable_by(user, self.home):
            candidate = self.home
        else:
            digest = hashlib.sha256(str(self.home).encode()).hexdigest()[:16]
            candidate = EXTERNAL_BASE / digest
        if len(str(candidate / "run" / ".s.PGSQL.65535")) > _MAX_SOCKET_PATH:
            digest = hashlib.sha256(str(self.home).encode()).hexdigest()[:16]
            candidate = Path("/tmp") / f"zoneguard-{digest}"
        return candidate

    @staticmethod
    def _reachable_by(user: ServerUser, path: Path) -> bool:
        probe = subprocess.run(
            ["test", "-x", str(path), "-a", "-w", str(path)],
            user=user.uid, group=user.gid, extra_groups=[], cwd="/", check=False,
        )
        return probe.returncode == 0

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

    @contextlib.contextmanager
    def _lock(self) -> Iterator[None]:
        self.home.mkdir(parents=True, exist_ok=True)
        with open(self.home / ".cluster.lock", "w") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def _run_as(
        self, user: ServerUser, args: list[str], cwd: Path
    ) -> subprocess.CompletedProcess[str]:
        kwargs: dict[str, object] = {}
        if not user.is_self:
            kwargs = {"user": user.uid, "group": user.gid, "extra_groups": []}
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LC_ALL": "C.UTF-8",
               "HOME": str(cwd)}
        return subprocess.run(  # type: ignore[call-overload, no-any-return]
            args, cwd=cwd, env=env, capture_output=True, text=True, check=False, **kwargs
        )

    # -- public ---------------------------------------------------------------------------

    def status(self) -> ClusterStatus:
        """Report where the cluster lives and whether its server runs."""
        state = self._state()
        data_dir = Path(str(state.get("data_dir", self.home / "pg")))
        socket_dir = Path(str(state.get("socket_dir", self.home / "run")))
        port = state.get("port")
        pid = self._live_pid(data_dir)
        version = state.get("version")
        return ClusterStatus(
            home=self.home,
            data_dir=data_dir,
            socket_dir=socket_dir,
            port=int(str(port)) if port is not None else None,
            initialised=(data_dir / "PG_VERSION").exists(),
            running=pid is not None and self._accepts(socket_dir, port),
            pid=pid,
            server_user=str(state.get("server_user", self.server_user_name)),
            version=int(str(version)) if version is not None else None,
        )

    def up(self) -> ClusterStatus:
        """Initialise (first use) and start the cluster; a no-op when it already runs."""
        with self._lock():
            current = self.status()
            if current.running:
                return current
            binaries = find_binaries()
            user = self._server_user()
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
            result = self._run_as(
                user, [str(binaries.pg_ctl), "stop", "-D", str(current.data_dir), "-m", "fast",
                       "-w", "-t", "60"], cwd=current.data_dir.parent,
            )
            if result.returncode != 0 and self._live_pid(current.data_dir) is not None:
                raise DatabaseUnavailable(f"could not stop the cluster: {result.stderr.strip()}")
            return self.status()

    def destroy(self) -> None:
        """Stop the cluster and remove its files (used by tests for temporary homes)."""
        current = self.down()
        for path in (current.data_dir.parent / "server.log", current.data_dir, current.socket_dir):
            if path.is_dir():
                shutil.rmtree(path, ignore_errors=True)
            elif path.exists():
                path.unlink()
        for link in (self.home / "pg", self.home / "run", self.state_file):
            if link.is_symlink() or link.is_file():
                link.unlink()
        external = current.data_dir.parent
        if external != self.home and external.exists():
            shutil.rmtree(external, ignore_errors=True)

    # -- internals ------------------------------------------------------------------------

    def _init(self, binaries: PgBinaries, user: ServerUser) -> None:
        base = self._base(user)
        data_dir, socket_dir = base / "pg", base / "run"
        base.mkdir(parents=True, exist_ok=True)
        if data_dir.exists() and any(data_dir.iterdir()):
            raise DatabaseUnavailable(
                f"{data_dir} exists but is not a PostgreSQL cluster; move it away and retry"
            )
        for path in (data_dir, socket_dir):
            path.mkdir(parents=True, exist_ok=True)
            path.chmod(0o700)
        if not user.is_self:
            for path in (base, data_dir, socket_dir):
                os.chown(path, user.uid, user.gid)
            if base != self.home:
                for name, target in (("pg", data_dir), ("run", socket_dir)):
                    link = self.home / name
                    if link.is_symlink() or link.exists():
                        link.unlink()
                    link.symlink_to(target)
        password = secrets.token_urlsafe(24)
        pwfile = base / ".initpw"
        pwfile.write_text(password + "\n")
        if not user.is_self:
            os.chown(pwfile, user.uid, user.gid)
        pwfile.chmod(0o600)
        try:
            result = self._run_as(
                user,
                [str(binaries.initdb), "-D", str(data_dir), "-U", DB_USER, "-E", "UTF8",
                 "--locale=C.UTF-8", "--auth-local=trust", "--auth-host=scram-sha-256",
                 f"--pwfile={pwfile}", "--no-instructions"],
                cwd=base,
            )
        finally:
            pwfile.unlink(missing_ok=True)
        if result.returncode != 0:
            raise DatabaseUnavailable(f"initdb failed: {result.stderr.strip()[-2000:]}")
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
            "data_dir": str(data_dir), "socket_dir": str(socket_dir), "port": _free_port(),
            "server_user": user.name, "version": binaries.version, "password": password,
        })

    def _start(self, binaries: PgBinaries, user: ServerUser) -> None:
        state = self._state()
        data_dir = Path(str(state["data_dir"]))
        port = int(str(state["port"]))
        self._clear_stale_pid(data_dir)
        if not _port_free(port):
            port = _free_port()
            state["port"] = port
            self._save_state(state)
        log = data_dir.parent / "server.log"
        last_error = ""
        for _attempt in range(10):
            result = self._run_as(
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
            self._clear_stale_pid(data_dir)
        tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
        raise DatabaseUnavailable(f"the embedded PostgreSQL did not start: {last_error}\n{tail}")

    def _ensure_database(self) -> None:
        state = self._state()
        conninfo = f"host={state['socket_dir']} port={state['port']} user={DB_USER} dbname=postgres"
        with psycopg.connect(conninfo, autocommit=True) as conn:
            exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (DB_NAME,))
            if exists.fetchone() is None:
                conn.execute(f'CREATE DATABASE "{DB_NAME}"')

    @staticmethod
    def _live_pid(data_dir: Path) -> int | None:
        pidfile = data_dir / "postmaster.pid"
        try:
            pid = int(pidfile.read_text().splitlines()[0])
        except (OSError, ValueError, IndexError):
            return None
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return None
        except PermissionError:
            return pid
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            return pid
        return pid if b"postgres" in cmdline else None

    def _clear_stale_pid(self, data_dir: Path) -> None:
        pidfile = data_dir / "postmaster.pid"
        if pidfile.exists() and self._live_pid(data_dir) is None:
            pidfile.unlink()

    @staticmethod
    def _accepts(socket_dir: Path, port: object) -> bool:
        if port is None:
            return False
        return (socket_dir / f".s.PGSQL.{port}").exists()

    def kill(self) -> None:
        """Kill the postmaster with SIGKILL (tests use it to prove recovery)."""
        pid = self.status().pid
        if pid is not None:
            os.kill(pid, signal.SIGKILL)


def _port_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
