"""Engines and sessions: the external server when configured, else the embedded cluster."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

from zoneguard.db.embedded import cluster_for
from zoneguard.settings import Settings


def database_url(settings: Settings, *, start: bool = True) -> str:
    """Return the database URL, starting the embedded cluster on demand."""
    if settings.database_url:
        url = settings.database_url
        if url.startswith("postgresql://") or url.startswith("postgres://"):
            url = "postgresql+psycopg://" + url.split("://", 1)[1]
        return url
    cluster = cluster_for(settings)
    status = cluster.up() if start else cluster.status()
    return status.url


def make_engine(settings: Settings, *, url: str | None = None) -> Engine:
    """Create a pooled engine; each new connection runs with UTC and a statement timeout.

    Connections that died with the server are noticed at checkout (pre-ping) and the whole
    pool is refreshed; on the embedded cluster every new connection reads the cluster's
    current socket and port, so a restarted cluster is found without restarting the caller.
    """
    embedded = url is None and not settings.database_url
    engine = create_engine(
        url or database_url(settings),
        pool_size=settings.pool_size,
        max_overflow=settings.pool_size,
        pool_timeout=settings.pool_timeout_s,
        pool_pre_ping=True,
        connect_args={"application_name": "zoneguard"},
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: object, _record: object) -> None:
        cursor = dbapi_connection.cursor()  # type: ignore[attr-defined]
        cursor.execute("SET TIME ZONE 'UTC'")
        cursor.close()
        # End the transaction the SET opened: the connection enters the pool idle, so a
        # request may still switch it to autocommit (a session setting outlives its commit).
        dbapi_connection.commit()  # type: ignore[attr-defined]

    if embedded:
        cluster = cluster_for(settings)

        @event.listens_for(engine, "do_connect")
        def _current_endpoint(_dialect: object, _record: object, _cargs: object,
                              cparams: dict[str, object]) -> None:
            socket_dir, port = cluster.endpoint()
            if port is not None:
                cparams["host"], cparams["port"] = str(socket_dir), port

    return engine


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """Yield a session that commits on success and rolls back on any error."""
    factory = sessionmaker(engine, expire_on_commit=False)
    session = factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
