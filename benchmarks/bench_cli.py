"""How fast the command line answers: `zoneguard --help`, `zoneguard db status` and a whole
`zoneguard screen` on a running database, against the bare interpreter start measured in the
same run (targets here: --help and db status under 0.5 s, screen under 1 s).

Run: .venv/bin/python -m benchmarks.bench_cli [--repeat 5]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from zoneguard.db.embedded import EmbeddedCluster

ZONEGUARD = str(Path(sys.executable).with_name("zoneguard"))


def _median_s(argv: list[str], env: dict[str, str], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        done = subprocess.run(argv, env=env, capture_output=True, text=True, check=False)
        times.append(time.perf_counter() - start)
        if done.returncode != 0:
            raise SystemExit(f"{' '.join(argv)} failed: {done.stderr.strip()[-500:]}")
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    home = Path(tempfile.mkdtemp(prefix="zg-bench-cli-"))
    env = {**os.environ, "ZONEGUARD_HOME": str(home)}
    try:
        subprocess.run([ZONEGUARD, "db", "up"], env=env, check=True, capture_output=True)
        subprocess.run([ZONEGUARD, "db", "migrate"], env=env, check=True, capture_output=True)
        baseline = _median_s([sys.executable, "-c", "pass"], env, args.repeat)
        rows = [
            ("python -c pass (baseline)", baseline, None),
            ("zoneguard --help", _median_s([ZONEGUARD, "--help"], env, args.repeat), 0.5),
            ("zoneguard db status", _median_s([ZONEGUARD, "db", "status"], env, args.repeat),
             0.5),
            ("zoneguard screen (running db)", _median_s(
                [ZONEGUARD, "screen", "--category", "internet_cafe", "--lon", "114.30",
                 "--lat", "30.55", "--json"], env, args.repeat), 1.0),
        ]
        print(f"{'command':34} {'median':>9} {'x baseline':>11} {'target':>8}")
        for label, seconds, target in rows:
            mark = "" if target is None else ("ok" if seconds <= target else "over")
            shown = "" if target is None else f"{target:g} s {mark}"
            print(f"{label:34} {seconds:8.3f}s {seconds / baseline:10.1f}x {shown:>10}")
    finally:
        EmbeddedCluster(home).destroy()
        shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    main()
