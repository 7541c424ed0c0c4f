"""Where a home's cluster files can live, how to recognise them, and which port they use.

A cluster's files live in the home, under `/var/lib/zoneguard/clusters/<hash of the home>`
(the server user cannot enter the home) or under `/tmp/zoneguard-<hash>` (the home's path is
too long for a Unix socket). A marker file beside `pg/` names the home it belongs to, so a
cluster left behind when its home was deleted is adopted by a new home at the same path.
"""

from __future__ import annotations

import hashlib
import json
import pwd
import shutil
import socket
import time
from dataclasses import dataclass
from pathlib import Path

EXTERNAL_BASE = Path("/var/lib/zoneguard/clusters")
MARKER = "zoneguard-cluster.json"
CONF_MARK = "# ZoneGuard embedded cluster"


def digest(home: Path) -> str:
    """The short hash naming a home's external directories."""
    return hashlib.sha256(str(home).encode()).hexdigest()[:16]


def candidate_bases(home: Path) -> list[Path]:
    """Every directory that may hold the home's `pg/` and `run/`, most likely first."""
    return [home, EXTERNAL_BASE / digest(home), Path("/tmp") / f"zoneguard-{digest(home)}"]


@dataclass(frozen=True)
class Found:
    """Cluster files found on disk for a home."""

    base: Path
    data_dir: Path
    socket_dir: Path
    ours: bool  # initialised by ZoneGuard for this home (marker or configuration line)
    complete: bool  # PG_VERSION is present: initdb finished


def read_marker(base: Path) -> dict[str, object]:
    """The marker beside `pg/` ({} when absent or unreadable)."""
    try:
        data = json.loads((base / MARKER).read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def write_marker(base: Path, state: dict[str, object], home: Path) -> None:
    """Record which home owns the cluster under `base` (with its port, user and version)."""
    path = base / MARKER
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps({**state, "home": str(home)}, indent=2))
    tmp.chmod(0o600)
    tmp.replace(path)


def _is_ours(base: Path, data_dir: Path, home: Path) -> bool:
    if read_marker(base).get("home") == str(home):
        return True
    try:
        conf = (data_dir / "postgresql.conf").read_text(errors="replace")
    except OSError:
        return False
    return CONF_MARK in conf  # written by ZoneGuard's initdb; the place is named after the home


def find_existing(home: Path) -> Found | None:
    """The first non-empty `pg/` among the home's candidate places, or None."""
    for base in candidate_bases(home):
        data_dir = base / "pg"
        try:
            if not data_dir.is_dir() or not any(data_dir.iterdir()):
                continue
        except OSError:
            continue
        return Found(base=base, data_dir=data_dir, socket_dir=base / "run",
                     ours=_is_ours(base, data_dir, home),
                     complete=(data_dir / "PG_VERSION").exists())
    return None


def recorded_port(found: Found) -> int | None:
    """The port a found cluster runs on or last ran on (pid file, marker, last options)."""
    try:
        lines = (found.data_dir / "postmaster.pid").read_text().splitlines()
        return int(lines[3])
    except (OSError, ValueError, IndexError):
        pass
    port = read_marker(found.base).get("port")
    if port is not None:
        return int(str(port))
    try:
        words = (found.data_dir / "postmaster.opts").read_text().replace('"', " ").split()
        return int(words[words.index("-p") + 1])
    except (OSError, ValueError, IndexError):
        return None


def adopted_state(found: Found) -> dict[str, object]:
    """The cluster.json of a home taking over a cluster found on disk."""
    port = recorded_port(found)
    return {
        "data_dir": str(found.data_dir), "socket_dir": str(found.socket_dir),
        "port": port if port is not None else free_port(),
        "server_user": pwd.getpwuid(found.data_dir.stat().st_uid).pw_name,
        "version": int((found.data_dir / "PG_VERSION").read_text().strip()),
        "password": read_marker(found.base).get("password"),
    }


def link_home(home: Path, data_dir: Path, socket_dir: Path) -> None:
    """Point `home/pg` and `home/run` at the cluster's real directories."""
    for name, target in (("pg", data_dir), ("run", socket_dir)):
        link = home / name
        if link.is_symlink() or link.is_file():
            link.unlink()
        link.symlink_to(target)


def remove(home: Path, data_dir: Path, socket_dir: Path) -> None:
    """Delete a stopped cluster's files wherever they live, and the home's links to them."""
    base = data_dir.parent
    for path in (base / "server.log", base / MARKER, data_dir, socket_dir):
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path, ignore_errors=True)
        elif path.exists() or path.is_symlink():
            path.unlink()
    for link in (home / "pg", home / "run"):
        if link.is_symlink():
            link.unlink()
    if base != home and base.exists():
        shutil.rmtree(base, ignore_errors=True)


def port_free(port: int) -> bool:
    """True when nothing listens on 127.0.0.1:`port`.

    SO_REUSEADDR, as PostgreSQL sets it: a port whose old connections are in TIME_WAIT
    (after a crash with clients connected) is free for the restarted server.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def port_becomes_free(port: int, *, timeout_s: float = 10.0) -> bool:
    """True when `port` is free now or becomes free within `timeout_s`.

    A killed server's backends and auxiliary processes hold its port until they notice the
    postmaster is gone, which on a loaded machine takes seconds: waiting for them keeps the
    port (so clients reconnect); a port still held after the wait belongs to another server.
    """
    deadline = time.monotonic() + timeout_s
    while True:
        if port_free(port):
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.1)


def free_port() -> int:
    """A port nothing listens on now (chosen by the kernel)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
