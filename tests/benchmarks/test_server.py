"""Benchmark servers never outlive their benchmark: the whole process group is stopped."""

from __future__ import annotations

import subprocess
import sys
import time

from benchmarks.server import group_alive, stop

# A stand-in for uvicorn: a supervisor that starts workers and ignores SIGTERM.
SUPERVISOR = "trap '' TERM; sleep 300 & sleep 300 & wait"


def _wait_gone(pgid: int, timeout_s: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if not group_alive(pgid):
            return True
        time.sleep(0.05)
    return False


def test_stop_kills_the_supervisor_and_every_worker() -> None:
    process = subprocess.Popen(["sh", "-c", SUPERVISOR], start_new_session=True)
    time.sleep(0.3)
    assert group_alive(process.pid)
    stop(process, timeout_s=0.5)  # SIGTERM is ignored by the supervisor: SIGKILL follows
    assert _wait_gone(process.pid)


def test_a_benchmark_killed_by_sigterm_takes_its_server_group_along() -> None:
    script = (
        "import subprocess, sys, time\n"
        "from benchmarks import server\n"
        "server._install_handlers()\n"
        f"p = subprocess.Popen(['sh', '-c', {SUPERVISOR!r}], start_new_session=True)\n"
        "server._RUNNING.append(p)\n"
        "print(p.pid, flush=True)\n"
        "time.sleep(300)\n"
    )
    bench = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    assert bench.stdout is not None
    pgid = int(bench.stdout.readline())
    assert group_alive(pgid)
    bench.terminate()
    assert bench.wait(timeout=30) != 0
    assert _wait_gone(pgid)
