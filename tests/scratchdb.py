"""A throw-away database in the test cluster, for tests that need real commits.

Scans commit their scan row in a transaction of their own, and killing a scan needs another
process: such tests cannot live in the rolled-back `session`. They get a fresh database of
the same server (migrated, dropped afterwards), so their commits never reach the shared one.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from psycopg import sql
from sqlalchemy import Engine, text

from zoneguard.db.engine import make_engine
from zoneguard.db.migrate import upgrade
from zoneguard.settings import Settings, get_settings

REGISTRY_TABLES = ("finding_event", "finding", "scan", "premises", "school_gate", "school",
                   "audit_log")


def _admin(engine: Engine, statement: sql.Composed) -> None:
    with engine.connect() as conn:
        raw = conn.connection.driver_connection
        assert raw is not None
        conn.rollback()
        raw.autocommit = True
        try:
            raw.execute(statement)
        finally:
            raw.autocommit = False


@contextmanager
def scratch_database(engine: Engine, settings: Settings) -> Iterator[tuple[str, Engine]]:
    """Yield (URL, engine) of a new migrated database; drop it at the end."""
    name = f"zg_scratch_{secrets.token_hex(4)}"
    _admin(engine, sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    url = engine.url.set(database=name).render_as_string(hide_password=False)
    scratch = make_engine(settings, url=url)
    try:
        upgrade(scratch)
        yield url, scratch
    finally:
        scratch.dispose()
        _admin(engine, sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))


def empty(engine: Engine) -> None:
    """Remove the rows a scratch-database test wrote (the database is the test's own)."""
    with engine.begin() as conn:
        conn.execute(text("TRUNCATE " + ", ".join(REGISTRY_TABLES) + " RESTART IDENTITY CASCADE"))


@contextmanager
def cli_environment(scratch: tuple[str, Engine], monkeypatch: pytest.MonkeyPatch,
                    tmp_path: Path, **env: str) -> Iterator[Engine]:
    """The scratch database emptied and named in the environment with the test rules (and
    `env`), as the command line reads its settings; restored afterwards."""
    from tests.factories import write_rules

    url, scratch_engine = scratch
    empty(scratch_engine)
    monkeypatch.setenv("ZONEGUARD_DATABASE_URL", url)
    monkeypatch.setenv("ZONEGUARD_RULES_DIR", str(write_rules(tmp_path / "rules")))
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    try:
        yield scratch_engine
    finally:
        monkeypatch.undo()
        get_settings.cache_clear()
