"""Open a database that is up and migrated, whichever kind (embedded or external)."""

from __future__ import annotations

from sqlalchemy import Engine
from sqlalchemy.exc import OperationalError

from zoneguard.db.engine import make_engine
from zoneguard.db.migrate import is_current, upgrade
from zoneguard.errors import DatabaseUnavailable
from zoneguard.settings import Settings


def ready_engine(settings: Settings, *, migrate: bool = True) -> Engine:
    """Start the embedded cluster if needed, apply pending migrations, return an engine."""
    engine = make_engine(settings)
    try:
        if migrate and not is_current(engine):
            upgrade(engine)
    except OperationalError as exc:
        engine.dispose()
        raise DatabaseUnavailable(f"无法连接数据库：{exc.orig}") from None
    return engine
