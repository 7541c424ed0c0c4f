"""A uvicorn server for benchmarks, in its own process group, always stopped with its workers.

The server is started with `start_new_session=True`, so the supervisor and every worker share
one process group; `stop()` signals the whole group (SIGTERM, then SIGKILL). It is also called
from `atexit` and from SIGTERM/SIGINT/SIGHUP handlers, so a benchmark that is interrupted or
fails leaves no orphaned worker holding database connections.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from types import FrameType

import httpx

ROOT = Path(__file__).resolve().parents[1]
_RUNNING: list[subprocess.Popen[bytes]] = []


def free_port() -> int:
    """A free loopback port."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def stop(process: subprocess.Popen[bytes], timeout_s: float = 15.0) -> None:
    """Stop a server and all its workers: SIGTERM to the group, SIGKILL after `timeout_s`."""
    for sig, wait in ((signal.SIGTERM, timeout_s), (signal.SIGKILL, 5.0)):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, sig)
        try:
            process.wait(timeout=wait)
        except subprocess.TimeoutExpired:
            continue
        break
    with contextlib.suppress(ProcessLookupError):  # workers that outlived their supervisor
        os.killpg(process.pid, signal.SIGKILL)
    deadline = time.monotonic() + 5.0
    while group_alive(process.pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    if process in _RUNNING:
        _RUNNING.remove(process)


def _stop_all() -> None:
    for process in list(_RUNNING):
        stop(process, timeout_s=5.0)


def _on_signal(signum: int, _frame: FrameType | None) -> None:
    _stop_all()
    raise SystemExit(128 + signum)


atexit.register(_stop_all)


def _install_handlers() -> None:
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, _on_signal)


def group_alive(pgid: int) -> bool:
    """Whether any process of a process group is still alive (zombies do not count)."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid and fields[0] != "Z":
            return True
    return False


@contextlib.contextmanager
def serving(env: dict[str, str], *, workers: int, log_path: Path,
            access_log: bool = False) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """Run `uvicorn api.main:app_factory` on a free loopback port until the block ends."""
    _install_handlers()
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    command = [sys.executable, "-m", "uvicorn", "api.main:app_factory", "--factory", "--host",
               "127.0.0.1", "--port", str(port), "--workers", str(workers), "--log-level",
               "warning", *([] if access_log else ["--no-access-log"])]
    with log_path.open("w") as log:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log,
                                   stderr=subprocess.STDOUT, start_new_session=True)
        _RUNNING.append(process)
        try:
            wait_ready(base, process)
            yield base, process
        finally:
            stop(process)


def wait_ready(base: str, process: subprocess.Popen[bytes] | None = None,
               timeout_s: float = 120.0) -> float:
    """Wait until /readyz answers 200; return the seconds it took."""
    start = time.monotonic()
    while time.monotonic() - start < timeout_s:
        if process is not None and process.poll() is not None:
            raise RuntimeError("the server exited")
        try:
            if httpx.get(f"{base}/readyz", timeout=2).status_code == 200:
                return time.monotonic() - start
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise RuntimeError("the server did not become ready")
