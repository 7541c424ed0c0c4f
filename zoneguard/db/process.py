"""Processes of the embedded cluster: the OS user it runs as, commands run as that user, pids."""

from __future__ import annotations

import os
import pwd
import subprocess
from dataclasses import dataclass
from pathlib import Path

from zoneguard.errors import EnvironmentProblem


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


def reachable_by(user: ServerUser, path: Path) -> bool:
    """True when `user` can enter and write `path`."""
    probe = subprocess.run(
        ["test", "-x", str(path), "-a", "-w", str(path)],
        user=user.uid, group=user.gid, extra_groups=[], cwd="/", check=False,
    )
    return probe.returncode == 0


def run_as(user: ServerUser, args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run a command as `user` in `cwd` with a minimal environment; capture its output."""
    kwargs: dict[str, object] = {}
    if not user.is_self:
        kwargs = {"user": user.uid, "group": user.gid, "extra_groups": []}
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LC_ALL": "C.UTF-8",
           "HOME": str(cwd)}
    return subprocess.run(  # type: ignore[call-overload, no-any-return]
        args, cwd=cwd, env=env, capture_output=True, text=True, check=False, **kwargs
    )


def live_pid(data_dir: Path) -> int | None:
    """The pid of the postmaster of `data_dir` if one is alive, else None."""
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


def clear_stale_pid(data_dir: Path) -> None:
    """Remove a pid file whose process is gone."""
    pidfile = data_dir / "postmaster.pid"
    if pidfile.exists() and live_pid(data_dir) is None:
        pidfile.unlink()


def server_user(name: str) -> ServerUser:
    """The user the server runs as: the caller, or `name` when the caller is root."""
    if os.geteuid() != 0:
        entry = pwd.getpwuid(os.geteuid())
        return ServerUser(entry.pw_name, entry.pw_uid, entry.pw_gid)
    try:
        entry = pwd.getpwnam(name)
    except KeyError:
        raise EnvironmentProblem(
            f"以 root 运行时，内置 PostgreSQL 需要一个非特权用户「{name}」："
            "请安装 PostgreSQL（apt-get install postgresql，会创建该用户），"
            "或把 ZONEGUARD_SERVER_USER 设为已有的用户"
        ) from None
    if entry.pw_uid == 0:
        raise EnvironmentProblem("ZONEGUARD_SERVER_USER 不能是 root")
    return ServerUser(entry.pw_name, entry.pw_uid, entry.pw_gid)


def accepts(socket_dir: Path, port: object) -> bool:
    """True when the server's Unix socket for `port` exists."""
    if port is None:
        return False
    return (socket_dir / f".s.PGSQL.{port}").exists()
