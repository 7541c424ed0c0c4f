"""Browser fixtures: the real app served by uvicorn on a loopback port, headless Chromium.

Requests are served on the test's rolled-back session, one at a time (a lock), so the pages
see the rows the test inserted.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import uvicorn
from fastapi import FastAPI
from sqlalchemy.orm import Session

from api.deps import get_session
from api.main import create_app
from tests.browser.cdp import Browser
from tests.factories import write_rules
from zoneguard.services.access.keys import create_key
from zoneguard.settings import Settings


@pytest.fixture(scope="session")
def browser_app(settings: Settings, engine: object,  # noqa: ARG001 - migrated first
                tmp_path_factory: pytest.TempPathFactory) -> FastAPI:
    """The app with the test rules and no basemap (the network is closed)."""
    rules = write_rules(Path(tmp_path_factory.mktemp("browser-rules")))
    cfg = settings.model_copy(update={"rules_dir": rules, "basemap": "none",
                                      "review_margin_m": 3.0, "pool_size": 1})
    return create_app(cfg)


@pytest.fixture(scope="session")
def server(browser_app: FastAPI) -> Iterator[str]:
    """Base URL of the app served by uvicorn on a free loopback port."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    config = uvicorn.Config(browser_app, host="127.0.0.1", port=port, log_level="warning",
                            lifespan="on")
    srv = uvicorn.Server(config)
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not srv.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    srv.should_exit = True
    thread.join(timeout=15)


@pytest.fixture
def served(browser_app: FastAPI, server: str, session: Session) -> Iterator[str]:
    """The server, answering every request on this test's session (one request at a time)."""
    lock = threading.Lock()

    def shared() -> Iterator[Session]:
        with lock:
            yield session

    browser_app.dependency_overrides[get_session] = shared
    try:
        yield server
    finally:
        browser_app.dependency_overrides.clear()


@pytest.fixture
def token(session: Session) -> Callable[..., str]:
    """Create an API key in the test transaction; return its token."""

    def make(role: str = "governance", **scope: object) -> str:
        return create_key(session, role=role, name=f"browser {role}", **scope).token  # type: ignore[arg-type]

    return make


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    """One headless Chromium for the browser tests."""
    chromium = Browser()
    try:
        yield chromium
    finally:
        chromium.close()


@pytest.fixture
def page(browser: Browser) -> Browser:
    """The browser with the events of earlier tests forgotten."""
    browser.events.clear()
    browser.dialogs.clear()
    return browser
