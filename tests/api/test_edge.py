"""The API edge: key before body, body caps, failed-key backoff, load shedding, headers, docs."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient

from api.admission import Admission
from api.backoff import FailedKeys
from api.main import create_app
from api.shed import ShedMiddleware
from zoneguard.settings import Settings

MIB = 1024 * 1024
WELL_FORMED = "zg_0123456789ab_" + "x" * 43


def _call(app: Any, scope: dict[str, Any], body: bytes = b"") -> tuple[list[dict[str, Any]],
                                                                        list[int]]:
    """Run one request through an ASGI app; return the sent messages and the body bytes read."""
    sent: list[dict[str, Any]] = []
    read: list[int] = []

    async def receive() -> dict[str, Any]:
        read.append(len(body))
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    asyncio.run(app(scope, receive, send))
    return sent, read


def _scope(method: str, path: str, headers: list[tuple[bytes, bytes]],
           query: bytes = b"") -> dict[str, Any]:
    return {"type": "http", "method": method, "path": path, "raw_path": path.encode(),
            "query_string": query, "headers": headers, "client": ("10.0.0.9", 5555),
            "server": ("127.0.0.1", 8000), "scheme": "http", "http_version": "1.1",
            "root_path": "", "state": {}}


def test_a_40_mib_body_without_a_key_is_refused_401_without_reading_it(
        api_settings: Settings) -> None:
    app = create_app(api_settings)  # no lifespan: a refused request never needs the database
    headers = [(b"content-type", b"application/json"), (b"content-length", b"41943040")]
    start = time.perf_counter()
    sent, read = _call(app, _scope("POST", "/api/v1/screenings", headers), b"{" * 1024)
    assert time.perf_counter() - start < 0.5
    assert sent[0]["status"] == 401 and read == []
    assert json.loads(sent[1]["body"])["type"] == "urn:zoneguard:problem:unauthorized"
    malformed = [*headers, (b"authorization", b"Bearer not-a-key")]
    sent, read = _call(app, _scope("POST", "/api/v1/screenings", malformed))
    assert sent[0]["status"] == 401 and read == []


def test_a_body_over_the_cap_is_413_by_length_and_by_counted_bytes(
        client: TestClient, admin: dict[str, str], api_settings: Settings) -> None:
    app = create_app(api_settings)
    declared = [(b"content-length", str(40 * MIB).encode()),
                (b"authorization", f"Bearer {WELL_FORMED}".encode())]
    sent, read = _call(app, _scope("POST", "/api/v1/screenings", declared))
    assert sent[0]["status"] == 413 and read == []
    body = b'{"category": "tobacco", "pad": "' + b"x" * (2 * MIB) + b'"}'
    streamed = client.post("/api/v1/screenings", headers={**admin, "Content-Type":
                                                          "application/json"},
                           content=iter([body[:MIB], body[MIB:]]))  # chunked: no length
    assert streamed.status_code == 413
    assert "ZONEGUARD_BODY_MAX_BYTES" in streamed.json()["detail"]


def test_repeated_bad_keys_from_one_address_back_off_with_429(
        client: TestClient, admin: dict[str, str]) -> None:
    bad = {"Authorization": f"Bearer {WELL_FORMED}"}
    for _ in range(10):
        assert client.get("/api/v1/rules", headers=bad).status_code == 401
    assert client.get("/api/v1/rules", headers=bad).status_code == 401  # 11th: now blocked
    blocked = client.get("/api/v1/rules", headers=admin)
    assert blocked.status_code == 429 and blocked.headers["retry-after"] == "1"
    assert client.get("/healthz").status_code == 200  # probes are never blocked


def test_backoff_doubles_and_a_good_key_resets_it() -> None:
    keys = FailedKeys(free=2)
    for _ in range(2):
        keys.failed("a")
    assert keys.wait_s("a") == 0
    keys.failed("a")
    first = keys.wait_s("a")
    keys.failed("a")
    assert 0.5 < first <= 1.0 and 1.5 < keys.wait_s("a") <= 2.0
    assert keys.wait_s("b") == 0
    keys.succeeded("a")
    assert keys.wait_s("a") == 0


SECURITY = [(b"x-frame-options", b"DENY"), (b"x-content-type-options", b"nosniff")]


def _edge_with(admission: Admission) -> tuple[ShedMiddleware, asyncio.Event]:
    release = asyncio.Event()

    async def slow(scope: Any, receive: Any, send: Any) -> None:
        if scope["path"] != "/healthz":
            await release.wait()
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})

    return ShedMiddleware(slow, admission=admission, headers=SECURITY), release


async def _one(edge: ShedMiddleware, path: str = "/api/v1/rules"
               ) -> tuple[int, float, dict[bytes, bytes]]:
    out: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        out.append(message)

    start = time.perf_counter()
    await edge(_scope("GET", path, []), receive, send)
    return out[0]["status"], time.perf_counter() - start, dict(out[0]["headers"])


def test_a_burst_over_the_bound_waits_its_turn_and_is_served_whole() -> None:
    async def scenario() -> None:
        edge, release = _edge_with(Admission(2, burst_wait_s=5.0))
        tasks = [asyncio.create_task(_one(edge)) for _ in range(6)]
        await asyncio.sleep(0.05)
        assert edge.admission.running == 2
        assert (await _one(edge, "/healthz"))[0] == 200  # probes pass even at the bound
        release.set()
        assert [(await t)[0] for t in tasks] == [200] * 6
        assert edge.admission.running == 0 and edge.shed == 0

    asyncio.run(scenario())


def test_under_sustained_overload_the_excess_is_shed_at_once() -> None:
    async def scenario() -> None:
        edge, release = _edge_with(Admission(2, queue_max=3, burst_wait_s=5.0, target_s=0.05))
        held = [asyncio.create_task(_one(edge)) for _ in range(3)]  # 2 run, 1 waits
        await asyncio.sleep(0.15)  # the queue has not drained for longer than 2 × 0.05 s
        status, seconds, headers = await _one(edge)
        assert status == 503 and seconds < 0.01 and headers[b"retry-after"] == b"1"
        assert headers[b"x-frame-options"] == b"DENY" and headers[b"cache-control"] == b"no-store"
        assert len(headers[b"x-request-id"]) == 32
        more = [asyncio.create_task(_one(edge)) for _ in range(4)]
        results = [await t for t in more]
        assert [r[0] for r in results] == [503] * 4  # overloaded: none waits
        assert max(r[1] for r in results) < 0.01
        release.set()
        assert [(await t)[0] for t in held] == [200, 200, 200]
        assert edge.admission.running == 0 and edge.admission.overloaded()  # held a while
        assert edge.shed == 5

    asyncio.run(scenario())


def test_the_shed_answer_is_a_chinese_problem_with_its_own_request_id() -> None:
    async def scenario() -> None:
        edge, release = _edge_with(Admission(1, queue_max=0))
        held = asyncio.create_task(_one(edge))
        await asyncio.sleep(0.01)
        out: list[dict[str, Any]] = []

        async def send(message: dict[str, Any]) -> None:
            out.append(message)

        for _ in range(2):
            await edge(_scope("POST", "/api/v1/screenings", []), _never_read, send)
        release.set()
        await held
        problem = json.loads(out[1]["body"])
        assert problem["status"] == 503 and problem["type"] == "urn:zoneguard:problem:overloaded"
        assert problem["title"] == "服务繁忙"
        ids = {dict(out[0]["headers"])[b"x-request-id"], dict(out[2]["headers"])[b"x-request-id"]}
        assert len(ids) == 2  # each shed request has an id of its own

    asyncio.run(scenario())


async def _never_read() -> dict[str, Any]:
    raise AssertionError("a shed request's body is never read")


def test_while_shedding_fewer_requests_run_at_once_and_freed_slots_are_not_handed_on(
) -> None:
    async def scenario() -> None:
        admission = Admission(4, queue_max=4, burst_wait_s=5.0, overload_limit=1)
        assert [await admission.enter() for _ in range(3)] == [True] * 3  # keeping up: 3 run
        admission._overload_at = time.monotonic()  # the worker fell behind just now
        assert await admission.enter() is False  # 3 running ≥ 1: shed, though 4 would fit
        admission.leave()
        admission.leave()
        admission.leave()
        assert admission.running == 0 and await admission.enter() is True  # one may run
        assert await admission.enter() is False
        admission.leave()
        admission.hold_s = 0.0  # the hold is over; 2 of 3 arrivals refused (> 10 %)...
        assert admission.overloaded()  # ... holds the overload once more
        assert not admission.overloaded()  # a hold with no arrival, nothing refused: over
        assert [await admission.enter() for _ in range(3)] == [True] * 3  # the full limit

    asyncio.run(scenario())


def test_an_overload_ends_once_a_hold_refuses_little() -> None:
    async def scenario() -> None:
        admission = Admission(4, queue_max=4, overload_limit=2, hold_s=60.0)
        admission._overload_at = time.monotonic()  # the worker fell behind just now
        for _ in range(19):  # 19 come one after another: each finds a slot
            assert await admission.enter() is True
            admission.leave()
        assert [await admission.enter() for _ in range(3)] == [True, True, False]
        admission.leave()
        admission.leave()
        admission.hold_s = 0.0  # the hold is over: 1 refused of 22 arrivals (< 10 %)
        assert not admission.overloaded()
        assert [await admission.enter() for _ in range(4)] == [True] * 4  # the full limit

    asyncio.run(scenario())


def test_a_client_leaving_while_queued_gives_its_place_back() -> None:
    async def scenario() -> None:
        edge, release = _edge_with(Admission(1, burst_wait_s=5.0))
        first = asyncio.create_task(_one(edge))
        await asyncio.sleep(0.01)
        gone = asyncio.create_task(_one(edge))
        await asyncio.sleep(0.01)
        gone.cancel()
        await asyncio.sleep(0.01)
        release.set()
        assert (await first)[0] == 200
        assert (await _one(edge))[0] == 200
        assert edge.admission.running == 0

    asyncio.run(scenario())


def test_shedding_is_the_outermost_layer_and_is_counted_in_metrics(
        api_settings: Settings) -> None:
    app = create_app(api_settings.model_copy(update={"max_in_flight": 1, "max_queued": 0}))
    assert app.user_middleware[0].cls is ShedMiddleware  # runs before request ids, routes
    shed = next(m for m in app.user_middleware if m.cls is ShedMiddleware)
    assert shed.kwargs["shed_counter"] is app.state.metrics.shed
    app.state.metrics.shed.inc()
    assert b"zoneguard_http_shed_total 1.0" in app.state.metrics.render()[0]


def test_every_response_carries_security_headers(client: TestClient,
                                                 admin: dict[str, str]) -> None:
    for response in (client.get("/healthz"), client.get("/api/v1/rules", headers=admin),
                     client.get("/api/v1/rules"), client.get("/docs")):
        csp = response.headers["content-security-policy"]
        assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
        assert "object-src 'none'" in csp and "unsafe-eval" not in csp
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["x-frame-options"] == "DENY"
        assert response.headers["referrer-policy"] == "no-referrer"
    assert client.get("/api/v1/rules", headers=admin).headers["cache-control"] == "no-store"
    asset = client.get("/assets/leaflet/leaflet.js")
    assert asset.headers["cache-control"].startswith("public")


def test_csp_admits_the_configured_basemap_images(api_settings: Settings) -> None:
    app: FastAPI = create_app(api_settings.model_copy(update={"basemap": "amap"}))
    with TestClient(app, raise_server_exceptions=False) as raw:
        csp = raw.get("/healthz").headers["content-security-policy"]
    assert "img-src 'self' data: blob: https://*.is.autonavi.com" in csp


def test_docs_serve_swagger_ui_locally(client: TestClient) -> None:
    page = client.get("/docs")
    assert page.status_code == 200
    assert "cdn" not in page.text.lower() and "<script>" not in page.text
    assert '<script src="/assets/swagger-ui/swagger-ui-bundle.js"></script>' in page.text
    bundle = client.get("/assets/swagger-ui/swagger-ui-bundle.js")
    assert bundle.status_code == 200 and "SwaggerUIBundle" in bundle.text
    assert "SwaggerUIBundle" in client.get("/assets/zoneguard/zg-docs.js").text
    assert client.get("/redoc").status_code == 404


def test_redirects_and_links_use_the_public_url_never_the_host_header(
        api_settings: Settings, key_for: Any, session: Any) -> None:
    from api.deps import get_session

    app = create_app(api_settings.model_copy(
        update={"public_url": "https://zoneguard.example.gov.cn/"}))
    app.dependency_overrides[get_session] = lambda: session
    evil = {"Host": "evil.example", "X-Forwarded-Host": "evil.example"}
    with TestClient(app, raise_server_exceptions=False) as raw:
        slash = raw.get("/api/v1/rules/", headers=evil, follow_redirects=False)
        assert slash.status_code == 307
        assert slash.headers["location"] == "https://zoneguard.example.gov.cn/api/v1/rules"
        landing = raw.get("/ogc", headers={**evil, **key_for("viewer")})
        hrefs = [link["href"] for link in landing.json()["links"]]
    assert hrefs and all(h.startswith("https://zoneguard.example.gov.cn/") for h in hrefs)
    assert "https://zoneguard.example.gov.cn/ogc/collections" in hrefs
