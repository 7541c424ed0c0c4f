"""Engines: a new pooled connection is handed out idle, in UTC."""

from __future__ import annotations

from psycopg.pq import TransactionStatus
from sqlalchemy import Engine, text

from zoneguard.db.engine import make_engine
from zoneguard.settings import Settings


def test_a_new_connection_is_idle_in_utc_and_can_switch_to_autocommit(
        engine: Engine, settings: Settings) -> None:
    fresh = make_engine(settings, url=engine.url.render_as_string(hide_password=False))
    try:
        with fresh.connect() as conn:
            driver = conn.connection.driver_connection
            assert driver is not None
            assert driver.info.transaction_status == TransactionStatus.IDLE  # type: ignore[attr-defined]
            # refused while a transaction is open
            reads = conn.execution_options(isolation_level="AUTOCOMMIT")
            assert reads.execute(text("SHOW TIME ZONE")).scalar_one() == "UTC"
    finally:
        fresh.dispose()
