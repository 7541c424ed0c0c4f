"""Test session: its own embedded PostGIS (or ZONEGUARD_DATABASE_URL), one transaction per test."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from zoneguard.db.embedded import cluster_for
from zoneguard.db.ready import ready_engine
from zoneguard.settings import Settings, get_settings

ROOT = Path(__file__).resolve().parents[1]
REAL = ROOT / "data" / "real"
ARTIFACTS = ROOT / "tests" / "artifacts"


@pytest.fixture(scope="session")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    """Settings of the test session; the embedded home is a fresh temporary directory."""
    if not os.environ.get("ZONEGUARD_DATABASE_URL"):
        os.environ["ZONEGUARD_HOME"] = str(tmp_path_factory.mktemp("zoneguard-home"))
    os.environ.setdefault("ZONEGUARD_REVIEW_MARGIN_M", "3")
    get_settings.cache_clear()
    cfg = get_settings()
    yield cfg
    get_settings.cache_clear()


@pytest.fixture(scope="session")
def engine(settings: Settings) -> Iterator[Engine]:
    """Engine on the migrated test database; a missing PostGIS fails the run."""
    eng = ready_engine(settings)
    yield eng
    eng.dispose()
    if not settings.database_url:
        cluster_for(settings).destroy()


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    """A session inside a transaction that is rolled back at the end of the test."""
    connection = engine.connect()
    outer = connection.begin()
    db = Session(bind=connection, join_transaction_mode="create_savepoint")
    try:
        yield db
    finally:
        db.close()
        outer.rollback()
        connection.close()


@pytest.fixture(scope="module")
def scratch(engine: Engine, settings: Settings) -> Iterator[tuple[str, Engine]]:
    """A throw-away database of the test cluster for one module (tests.scratchdb)."""
    from tests.scratchdb import scratch_database

    with scratch_database(engine, settings) as found:
        yield found
