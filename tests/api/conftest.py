"""API test fixtures: one app on the test database, its session bound to the test transaction."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from api.deps import get_screening_store, get_session
from api.main import create_app
from api.scans import get_scan_starter
from tests.factories import write_rules
from zoneguard.services.access.keys import create_key
from zoneguard.services.rulesets import store_rule_set
from zoneguard.services.scan.run import run_scan
from zoneguard.services.screening_store import PendingScreening, store_screenings
from zoneguard.settings import Settings

KeyMaker = Callable[..., dict[str, str]]


@pytest.fixture(scope="session")
def api_settings(settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """The test settings with the test rule set (tests/factories.RULES_YAML)."""
    rules_dir = write_rules(Path(tmp_path_factory.mktemp("api-rules")))
    return settings.model_copy(update={"rules_dir": rules_dir, "review_margin_m": 0.0})


@pytest.fixture(scope="session")
def app(api_settings: Settings, engine: object) -> FastAPI:  # noqa: ARG001 - db migrated first
    """The app, created once; its lifespan opens its own engine on the test database."""
    return create_app(api_settings)


@pytest.fixture(scope="session")
def live_client(app: FastAPI) -> Iterator[TestClient]:
    """A client with the app's lifespan running (engine, warm pool)."""
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client


@pytest.fixture
def client(app: FastAPI, live_client: TestClient, session: Session,
           api_settings: Settings) -> Iterator[TestClient]:
    """The client; each request runs in a savepoint of this test's rolled-back transaction.

    Like the real session dependency, a request that fails leaves nothing behind. Scans run
    synchronously in the same transaction (the background runner would commit; it is tested
    against a server of its own in test_live_server).
    """

    def start_scan(*, region: str | None, full: bool, actor: str) -> int:
        return run_scan(session, trigger="api", region=region, settings=api_settings,
                        full=full, actor=actor).scan_id

    def request_session() -> Iterator[Session]:
        savepoint = session.begin_nested()
        try:
            yield session
        except BaseException:
            if savepoint.is_active:
                savepoint.rollback()
            raise
        if savepoint.is_active:
            savepoint.commit()

    async def store_screening(pending: PendingScreening) -> None:
        # What the group-commit writer does, in this test's transaction.
        with session.begin_nested():
            store_rule_set(session, pending.rules)
            store_screenings(session, [pending])

    app.dependency_overrides[get_session] = request_session
    app.dependency_overrides[get_screening_store] = lambda: store_screening
    app.dependency_overrides[get_scan_starter] = lambda: start_scan
    live_client.cookies.clear()  # page tokens of an earlier test name keys rolled back since
    app.state.failed_keys.clear()
    try:
        yield live_client
    finally:
        app.dependency_overrides.clear()
        live_client.cookies.clear()
        app.state.failed_keys.clear()


@pytest.fixture
def key_for(session: Session) -> KeyMaker:
    """Create a key in the test transaction and return its Authorization header."""

    def make(role: str = "admin", categories: list[str] | None = None,
             region: str | None = None, name: str | None = None) -> dict[str, str]:
        new = create_key(session, role=role, name=name or f"test {role}", categories=categories,
                         region_prefix=region)
        return {"Authorization": f"Bearer {new.token}"}

    return make


@pytest.fixture
def admin(key_for: KeyMaker) -> dict[str, str]:
    """Headers of an admin key."""
    return key_for("admin")
