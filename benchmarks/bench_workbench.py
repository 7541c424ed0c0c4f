"""The 问题台账 over 100,000 findings: server time of `/findings` and its full load in
headless Chromium (target: under 2 s here).

In a temporary embedded cluster (destroyed at the end): the synthetic city (3,000 campuses,
100,000 premises), one finding per premises against its nearest campus, spread over the
states, a quarter overdue; then the app under uvicorn on loopback, a governance person and
a bureau person logged in, and per page: the server's answer time (median of 5 after one
warm-up) and the browser's time from navigation to a drawn map (median of 3).

Run: .venv/bin/python -m benchmarks.bench_workbench [--premises 100000]
"""

from __future__ import annotations

import argparse
import re
import socket
import statistics
import threading
import time
from typing import Any

import httpx
import uvicorn
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from api.main import create_app
from benchmarks import synthetic
from benchmarks.common import scratch_database, timed
from tests.browser.cdp import Browser
from zoneguard.services.access.users import create_user

PASSWORD = "bench workbench passphrase"
FINDINGS = """
INSERT INTO finding (school_id, premises_id, rule_id, metric, distance_m, threshold_m, verdict,
                     state, assignee, deadline, step_due, line, rule_set_version, existing)
SELECT s.id, p.id, 'bench.' || p.category, 'boundary', 10 + (p.id % 190), 200,
       CASE WHEN p.id % 4 = 0 THEN 'review' ELSE 'prohibited' END,
       (ARRAY['found', 'reported', 'assigned', 'rectifying', 'to_accept', 'proposed',
              'closed', 'retained'])[1 + CAST(p.id % 8 AS int)],
       CASE WHEN p.id % 3 = 0 THEN '某区市场监管局' END, CURRENT_DATE + 30,
       CURRENT_DATE + CAST(p.id % 40 AS int) - 10,
       ST_MakeLine(p.location, ST_ClosestPoint(COALESCE(s.boundary, s.location), p.location)),
       'bench', p.id % 5 = 0
FROM premises p CROSS JOIN LATERAL (
  SELECT id, boundary, location FROM school ORDER BY location <-> p.location LIMIT 1) s
"""
PAGES = (("all states, first page", "/findings?state=all"),
         ("active (default)", "/findings"),
         ("category + district", "/findings?category=internet_cafe&district=4201"),
         ("overdue", "/findings?overdue=1"),
         ("存量 expiring", "/findings?stock=expiring"),
         ("deep page (offset 90,000)", "/findings?state=all&offset=90000&limit=50"),
         ("200 per page", "/findings?state=all&limit=200"))
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def _load(engine: Engine, premises: int) -> dict[str, float]:
    took: dict[str, float] = {}
    with engine.begin() as conn:
        raw = conn.connection.driver_connection
        assert raw is not None
        with timed("registry", took):
            synthetic.load(raw, synthetic.city(premises=premises))
            conn.execute(text("ANALYZE school; ANALYZE premises"))
        with timed("findings", took):
            conn.execute(text(FINDINGS))
            conn.execute(text("UPDATE premises SET expires_on = CURRENT_DATE "
                              "+ CAST(id % 365 AS int) WHERE id % 5 = 0"))
            conn.execute(text("ANALYZE finding"))
    with Session(engine) as session:
        create_user(session, username="gov", password=PASSWORD, role="governance",
                    display_name="综治办")
        create_user(session, username="bureau", password=PASSWORD, role="bureau",
                    display_name="文旅局", categories=["internet_cafe", "entertainment"],
                    region_prefix="4201")
        session.commit()
    return took


def _serve(app: Any) -> tuple[str, uvicorn.Server, threading.Thread]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port,
                                           log_level="warning", access_log=False))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    return f"http://127.0.0.1:{port}", server, thread


def _login(base: str, username: str) -> httpx.Client:
    client = httpx.Client(base_url=base, timeout=60)
    form = client.get("/login")
    found = _CSRF.search(form.text)
    assert found is not None
    answer = client.post("/login", data={"username": username, "password": PASSWORD,
                                         "csrf_token": found.group(1), "next": "/"})
    assert answer.status_code == 303 and "zg_session" in client.cookies, answer.status_code
    return client


def _server_ms(client: httpx.Client, url: str) -> tuple[float, int]:
    client.get(url)  # warm-up: plans, caches
    times = []
    for _ in range(5):
        start = time.perf_counter()
        answer = client.get(url)
        times.append((time.perf_counter() - start) * 1000)
        assert answer.status_code == 200, (url, answer.status_code)
    total = re.search(r'id="desk-total">(\d+)<', answer.text)
    return statistics.median(times), int(total.group(1)) if total else -1


def _browser_s(browser: Browser, base: str, cookie: str, url: str) -> float:
    browser.call("Network.setCookie", {"name": "zg_session", "value": cookie, "url": base,
                                       "httpOnly": True})
    ready = "document.readyState === 'complete' && window.zgMap && window.zgMap.ready"
    browser.goto(base + url, ready=ready)  # warm-up: the browser's cache of the assets
    times = [browser.goto(base + url, ready=ready) for _ in range(3)]
    return statistics.median(times)


def main() -> None:
    """Load, serve, measure and print."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--premises", type=int, default=100_000)
    args = parser.parse_args()
    with scratch_database() as (settings, engine):
        took = _load(engine, args.premises)
        with engine.connect() as conn:
            count = conn.execute(text("SELECT count(*) FROM finding")).scalar_one()
        print(f"loaded: registry {took['registry']:.1f} s, {count:,} findings "
              f"{took['findings']:.1f} s")
        app = create_app(settings.model_copy(update={"basemap": "none"}))
        base, server, thread = _serve(app)
        browser = Browser()
        try:
            for username in ("gov", "bureau"):
                client = _login(base, username)
                print(f"\n{username}: page                         server ms  total   "
                      "browser s")
                for label, url in PAGES:
                    ms, total = _server_ms(client, url)
                    seconds = _browser_s(browser, base, client.cookies["zg_session"], url)
                    print(f"  {label:32s} {ms:8.0f}  {total:7,d}  {seconds:7.2f}")
                client.close()
            errors = browser.console_errors()
            print(f"\nbrowser console errors: {len(errors)} {errors[:3]}")
        finally:
            browser.close()
            server.should_exit = True
            thread.join(timeout=15)


if __name__ == "__main__":
    main()
