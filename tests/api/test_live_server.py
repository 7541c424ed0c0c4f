"""The API served by uvicorn: GDAL's OAPIF driver as a real client, and background scans.

GDAL lists every layer with its feature count and copies findings to a GeoPackage; a scan
started over HTTP runs in the server's background thread. The server is uvicorn on a free
loopback port, in a thread of the test process. Its data must
be committed (another process reads it), so this module creates a dedicated database in the
test cluster, migrates it, commits the data there, and drops the whole database at the end:
nothing leaks into the shared test database.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import httpx
import pyogrio
import pytest
import uvicorn
from shapely.geometry import Point, box
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.orm import Session

from api.main import create_app
from tests.factories import add_school
from zoneguard.services.access.keys import create_key
from zoneguard.services.scan.sql import LOCK_KEY
from zoneguard.settings import Settings

EXPECTED = {"schools": 4, "zones": 8, "premises": 5, "findings": 3}


@dataclass(frozen=True)
class Server:
    """The running API: its root, a viewer key, an admin key, and its database URL."""

    base: str
    token: str
    admin: str
    url: str

    @property
    def root(self) -> str:
        """The OGC API landing page."""
        return f"{self.base}/ogc"


def _seed(session: Session) -> None:
    """Four schools (one closed), five premises, three findings (one without a line)."""
    primary = add_school(session, "G-P", box(114.0, 30.5, 114.002, 30.502), region="420102")
    kinder = add_school(session, "G-K", box(114.01, 30.5, 114.011, 30.501),
                        levels=("kindergarten",), region="420102")
    add_school(session, "G-PT", Point(114.02, 30.5), region="420103")
    closed = add_school(session, "G-C", Point(114.03, 30.5), region="420103")
    session.execute(text("UPDATE school SET closed_on = :d WHERE id = :id"),
                    {"d": date(2020, 1, 1), "id": closed})
    ids = []
    for i, (category, lon) in enumerate([("tobacco", 114.0025), ("lottery", 114.0105),
                                         ("internet_cafe", 114.0022), ("tobacco", 114.05),
                                         ("fireworks", 114.06)]):
        ids.append(session.execute(text(
            "INSERT INTO premises (category, licence_no, name, region, location) VALUES "
            "(:c, :l, :n, '420102', ST_SetSRID(ST_MakePoint(:x, 30.501), 4326)) RETURNING id"),
            {"c": category, "l": f"G-{i}", "n": f"场所 {i}", "x": lon}).scalar_one())
    for school, premises, rule, line in ((primary, ids[0], "t.tobacco", True),
                                         (kinder, ids[1], "t.lottery", True),
                                         (primary, ids[2], "t.internet_cafe", False)):
        session.execute(text(
            "INSERT INTO finding (school_id, premises_id, rule_id, metric, verdict, distance_m, "
            "line) SELECT :s, p.id, :r, 'boundary', 'prohibited', 42.0, CASE WHEN :line THEN "
            "ST_MakeLine(p.location, ST_ClosestPoint(s.boundary, p.location)) END "
            "FROM premises p, school s WHERE p.id = :p AND s.id = :s"),
            {"s": school, "p": premises, "r": rule, "line": line})


def _free_socket() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


@pytest.fixture(scope="module")
def server(api_settings: Settings, engine: Engine) -> Iterator[Server]:
    """uvicorn serving the app on a dedicated, committed, throw-away database."""
    name = f"zg_oapif_{uuid.uuid4().hex[:10]}"
    quoted = engine.dialect.identifier_preparer.quote(name)
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text(f"CREATE DATABASE {quoted}"))
    url = engine.url.set(database=name).render_as_string(hide_password=False)
    cfg = api_settings.model_copy(update={"database_url": url, "pool_size": 2})
    server = uvicorn.Server(uvicorn.Config(create_app(cfg), log_level="warning"))
    sock = _free_socket()
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    seeded: Engine | None = None
    try:
        thread.start()
        deadline = time.monotonic() + 120
        while not server.started:
            assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
            time.sleep(0.05)
        seeded = create_engine(url)
        with Session(seeded) as session:
            _seed(session)
            token = create_key(session, role="viewer", name="gdal").token
            admin = create_key(session, role="admin", name="ops").token
            session.commit()
        yield Server(f"http://127.0.0.1:{sock.getsockname()[1]}", token, admin, url)
    finally:
        server.should_exit = True
        thread.join(timeout=30)
        sock.close()
        if seeded is not None:
            seeded.dispose()
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text(f"DROP DATABASE IF EXISTS {quoted} WITH (FORCE)"))


def _gdal(*args: str, headers: str | None = None) -> str:
    env = {"PATH": "/usr/bin:/bin", "GDAL_HTTP_TIMEOUT": "30", "CPL_DEBUG": "OFF"}
    if headers is not None:
        env["GDAL_HTTP_HEADERS"] = headers
    done = subprocess.run(list(args), capture_output=True, text=True, timeout=120, check=False,
                          env=env)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_ogrinfo_lists_every_layer_with_its_feature_count(server: Server) -> None:
    out = _gdal("ogrinfo", "-ro", "-so", "-al", f"OAPIF:{server.root}?api_key={server.token}")
    counts = {}
    layer = None
    for line in out.splitlines():
        if line.startswith("Layer name:"):
            layer = line.split(":", 1)[1].strip()
        elif line.startswith("Feature Count:") and layer is not None:
            counts[layer] = int(line.split(":", 1)[1])
    assert counts == EXPECTED


def test_ogr2ogr_copies_findings_to_geopackage(server: Server, tmp_path: Path) -> None:
    target = tmp_path / "findings.gpkg"
    _gdal("ogr2ogr", "-f", "GPKG", str(target), f"OAPIF:{server.root}?api_key={server.token}",
          "findings")
    (layer_name, _), = pyogrio.list_layers(target)
    assert layer_name == "findings"
    frame = pyogrio.read_dataframe(target)
    assert len(frame) == EXPECTED["findings"]
    assert {"state", "rule_id", "school_code", "licence_no", "distance_m"} <= set(frame.columns)
    assert sorted(frame.geometry.geom_type) == ["LineString", "LineString", "Point"]
    assert set(frame["rule_id"]) == {"t.tobacco", "t.lottery", "t.internet_cafe"}
    assert set(frame["state"]) == {"found"} and list(frame["distance_m"]) == [42.0] * 3


def test_gdal_resends_its_key_on_key_free_next_links(server: Server, tmp_path: Path) -> None:
    target = tmp_path / "premises.gpkg"
    _gdal("ogr2ogr", "-f", "GPKG", "-oo", "PAGE_SIZE=2", str(target),
          f"OAPIF:{server.root}?api_key={server.token}", "premises")
    frame = pyogrio.read_dataframe(target)
    assert sorted(frame["licence_no"]) == [f"G-{i}" for i in range(EXPECTED["premises"])]


def test_gdal_authenticates_with_gdal_http_headers_and_links_hold_no_key(
        server: Server, tmp_path: Path) -> None:
    target = tmp_path / "premises.gpkg"
    _gdal("ogr2ogr", "-f", "GPKG", "-oo", "PAGE_SIZE=2", str(target), f"OAPIF:{server.root}",
          "premises", headers=f"Authorization: Bearer {server.token}")
    assert len(pyogrio.read_dataframe(target)) == EXPECTED["premises"]
    page = httpx.get(f"{server.root}/collections/premises/items?limit=2&api_key={server.token}",
                     timeout=10)
    assert page.status_code == 200 and server.token not in page.text


def test_a_huge_body_without_a_key_is_refused_before_it_is_sent(server: Server) -> None:
    host, port = server.base.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=5) as sock:
        start = time.perf_counter()
        sock.sendall(b"POST /api/v1/screenings HTTP/1.1\r\nHost: x\r\n"
                     b"Content-Type: application/json\r\nContent-Length: 41943040\r\n\r\n"
                     + b"[" * 65536)
        answer = sock.recv(65536)
        elapsed = time.perf_counter() - start
    assert answer.startswith(b"HTTP/1.1 401") and elapsed < 1.0
    assert b"connection: close" in answer.lower()


def test_scan_started_over_http_runs_in_the_background_and_refuses_a_second(
    server: Server,
) -> None:
    headers = {"Authorization": f"Bearer {server.admin}"}
    with httpx.Client(base_url=server.base, headers=headers, timeout=30) as http:
        started = http.post("/api/v1/scans", json={"region": "11"})
        assert started.status_code == 202, started.text
        scan_id = started.json()["id"]
        deadline = time.monotonic() + 60
        while (scan := http.get(f"/api/v1/scans/{scan_id}").json())["status"] == "running":
            assert time.monotonic() < deadline, "the scan did not finish"
            time.sleep(0.1)
        assert scan["status"] == "succeeded" and scan["trigger"] == "api"
        locker = create_engine(server.url)
        try:
            with locker.connect() as other:
                other.execute(text("SELECT pg_advisory_lock(:k)"), {"k": LOCK_KEY})
                busy = http.post("/api/v1/scans", json={"region": "11"})
                other.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": LOCK_KEY})
        finally:
            locker.dispose()
        assert busy.status_code == 409
        assert busy.json()["type"] == "urn:zoneguard:problem:scan-running"
        metrics = http.get("/metrics").text
    assert "zoneguard_scans_started_total 1.0" in metrics
    assert 'zoneguard_scans{status="succeeded"} 1.0' in metrics


def test_zoneguard_serve_answers_on_its_port(server: Server, api_settings: Settings) -> None:
    with _free_socket() as sock:
        port = sock.getsockname()[1]
    env = {**os.environ, "ZONEGUARD_DATABASE_URL": server.url,
           "ZONEGUARD_RULES_DIR": str(api_settings.effective_rules_dir)}
    command = [str(Path(sys.executable).with_name("zoneguard")), "serve", "--port", str(port),
               "--workers", "1", "--log-level", "warning"]
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        base = f"http://127.0.0.1:{port}"
        while True:
            assert process.poll() is None, process.stdout.read() if process.stdout else ""
            assert time.monotonic() < deadline, "zoneguard serve did not start"
            try:
                if httpx.get(f"{base}/readyz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        rules = httpx.get(f"{base}/api/v1/rules",
                          headers={"Authorization": f"Bearer {server.admin}"}, timeout=10)
        assert rules.status_code == 200 and rules.json()["rules"]
    finally:
        process.terminate()
        process.wait(timeout=30)


def test_an_import_whose_client_disconnects_is_abandoned_and_writes_nothing(
        server: Server) -> None:
    rows = "\n".join(f"ABANDON-{i},弃 {i},{114.2 + (i % 1000) * 1e-4:.6f},"
                     f"{30.7 + (i // 1000) * 1e-4:.6f}" for i in range(150_000))
    boundary = "zgabandon"
    parts = [f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'
             for k, v in (("kind", "premises"), ("category", "tobacco"), ("crs", "wgs84"))]
    body = ("".join(parts) + f'--{boundary}\r\nContent-Disposition: form-data; name="file"; '
            'filename="abandon.csv"\r\nContent-Type: text/csv\r\n\r\n').encode() \
        + f"licence_no,name,lon,lat\n{rows}\n".encode() + f"\r\n--{boundary}--\r\n".encode()
    host, port = server.base.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port))) as sock:
        sock.sendall((f"POST /api/v1/imports HTTP/1.1\r\nHost: {host}\r\n"
                      f"Authorization: Bearer {server.admin}\r\n"
                      f"Content-Type: multipart/form-data; boundary={boundary}\r\n"
                      f"Content-Length: {len(body)}\r\n\r\n").encode() + body)
        time.sleep(0.3)  # the upload is parsed and the import has begun
    watcher = create_engine(server.url)
    try:
        deadline = time.monotonic() + 30
        busy = 1
        while busy and time.monotonic() < deadline:
            time.sleep(0.2)
            with watcher.connect() as conn:
                busy = conn.execute(text(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                    "AND pid <> pg_backend_pid() AND (state = 'active' OR "
                    "state LIKE 'idle in transaction%')")).scalar_one()
        assert busy == 0  # the worker let go: no statement running, no transaction open
        with watcher.connect() as conn:
            written = conn.execute(text(
                "SELECT count(*) FROM premises WHERE licence_no LIKE 'ABANDON-%'")).scalar_one()
        assert written == 0  # a finished import would have written its 150,000 rows
    finally:
        watcher.dispose()
