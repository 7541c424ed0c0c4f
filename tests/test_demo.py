"""The README's demo end to end: a fresh home, `zoneguard demo`, the printed curl examples."""

from __future__ import annotations

import csv
import json
import os
import re
import shlex
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
from pyproj import Geod

from tests.browser.cdp import Browser
from tests.conftest import ARTIFACTS
from zoneguard.db.embedded import EmbeddedCluster

CLI = str(Path(sys.executable).with_name("zoneguard"))


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _examples(output: str) -> list[tuple[str, dict[str, object], str]]:
    found = []
    lines = output.splitlines()
    for i, line in enumerate(lines):
        expect = re.search(r"# expect (prohibited|review|allowed)", line)
        if expect:
            curl = next(x for x in lines[i + 1:] if x.strip().startswith("curl "))
            args = shlex.split(curl)
            body = json.loads(args[args.index("-d") + 1])
            token = args[args.index("-H") + 1].split("Bearer ")[1]
            found.append((expect.group(1), body, token))
    return found


def _gates_with(kind: str, within_m: float) -> int:
    """Synthetic 天心区 main gates with a facility of `kind` within `within_m` (pyproj.Geod)."""
    geod = Geod(ellps="WGS84")
    sample = Path(__file__).resolve().parents[1] / "data" / "sample"
    with (sample / "changsha_gates_synthetic.csv").open(encoding="utf-8") as handle:
        gates = [(float(g["lon"]), float(g["lat"])) for g in csv.DictReader(handle)]
    with (sample / "changsha_facilities_synthetic.csv").open(encoding="utf-8") as handle:
        places = [(float(f["经度"]), float(f["纬度"])) for f in csv.DictReader(handle)
                  if f["设施类型"] == kind]
    return sum(any(geod.inv(gx, gy, fx, fy)[2] <= within_m for fx, fy in places)
               for gx, gy in gates)


def test_demo_brings_everything_up_and_its_examples_hold(tmp_path: Path) -> None:
    home = Path(tempfile.mkdtemp(prefix="zg-demo-"))
    env = {**os.environ, "ZONEGUARD_HOME": str(home), "ZONEGUARD_BASEMAP": "none",
           "COLUMNS": "200"}
    env.pop("ZONEGUARD_DATABASE_URL", None)
    port = _free_port()
    server = subprocess.Popen([CLI, "demo", "--port", str(port)], env=env, text=True,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    output = ""
    try:
        assert server.stdout is not None
        deadline = time.monotonic() + 600
        while "Serving on" not in output and time.monotonic() < deadline:
            line = server.stdout.readline()
            if not line and server.poll() is not None:
                break
            output += line
        assert "Serving on" in output, output
        base = f"http://127.0.0.1:{port}"
        for _ in range(100):
            try:
                if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.2)
        examples = _examples(output)
        assert [e[0] for e in examples] == ["prohibited", "review", "allowed"], output
        for verdict, body, token in examples:
            reply = httpx.post(f"{base}/api/v1/screenings", json=body,
                               headers={"Authorization": f"Bearer {token}"}, timeout=30)
            assert reply.status_code in (200, 201), reply.text
            assert reply.json()["verdict"] == verdict
        assert httpx.get(f"{base}/docs", timeout=10).status_code == 200
        auth = {"Authorization": f"Bearer {examples[0][2]}"}
        coverage = httpx.get(f"{base}/api/v1/coverage", params={"region": "430103"},
                             headers=auth, timeout=60).json()
        row = next(r for r in coverage["districts"]
                   if r["requirement_id"] == "cn.req.anti_ram.main_gate")
        assert (row["schools"], row["met"]) == (36, _gates_with("防冲撞设施", 50.0)), row
        assert row["reached"] is False  # the synthetic file leaves some gates without
        login = re.search(r"workbench: +(\S+)/login +user (\S+) +password (\S+)", output)
        assert login is not None and login.group(1) == base, output
        with httpx.Client(base_url=base, timeout=30, follow_redirects=True) as web:
            form = web.get("/login")
            csrf = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
            assert csrf is not None
            done = web.post("/login", data={"username": login.group(2),
                                             "password": login.group(3),
                                             "csrf_token": csrf.group(1)})
            assert done.status_code == 200 and "受理初筛" in done.text
        city = home / "demo" / "city_map.html"
        assert city.exists() and list((home / "demo").glob("school_*.xlsx"))
        browser = Browser()
        try:
            browser.goto(city.as_uri())
            assert browser.evaluate("window.zgMap.counts.premises") > 1000
            ARTIFACTS.mkdir(parents=True, exist_ok=True)
            browser.screenshot(ARTIFACTS / "demo_map.png")
            assert browser.console_errors() == []
        finally:
            browser.close()
    finally:
        server.terminate()
        server.wait(timeout=30)
    again = subprocess.run([CLI, "demo", "--no-serve"], env=env, text=True, capture_output=True,
                           timeout=300)
    try:
        assert again.returncode == 0, again.stdout + again.stderr
        assert re.search(r"scan \d+: 0 new", again.stdout), again.stdout
        assert f"password {login.group(3)}" in again.stdout  # the demo login is kept
    finally:
        EmbeddedCluster(home.resolve()).destroy()
