"""The API edge: key before body, body caps, failed-key backoff, load shedding, headers, docs."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient

from api.backoff import FailedKeys
from api.edge import EdgeMiddleware
from api.main import create_app
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


def test_over_the_in_flight_bound_a_request_is_shed_at_once_with_503() -> None:
    release = asyncio.Event()

    async def slow(scope: Any, receive: Any, send: Any) -> None:
        await release.wait()
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})

    edge = EdgeMiddleware(slow, max_in_flight=2, body_max_bytes=MIB, upload_limits={},
                          failed_keys=FailedKeys())

    async def one(path: str = "/api/v1/rules") -> tuple[int, float, dict[bytes, bytes]]:
        out: list[dict[str, Any]] = []

        async def receive() -> dict[str, Any]:
            return {"type": "http.request", "body": b"", "more_body": False}

        async def send(message: dict[str, Any]) -> None:
            out.append(message)

        start = time.perf_counter()
        await edge(_scope("GET", path, []), receive, send)
        return out[0]["status"], time.perf_counter() - start, dict(out[0]["headers"])

    async def scenario() -> None:
        held = [asyncio.create_task(one()) for _ in range(2)]
        await asyncio.sleep(0.05)
        status, seconds, headers = await one()
        assert status == 503 and seconds < 0.05 and headers[b"retry-after"] == b"1"
        probe = asyncio.create_task(one("/healthz"))  # probes pass even at the bound
        await asyncio.sleep(0.01)
        assert edge.in_flight == 2 and edge.shed == 1
        release.set()
        assert [(await t)[0] for t in held] == [200, 200] and (await probe)[0] == 200
        assert edge.in_flight == 0

    asyncio.run(scenario())


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
