"""Long requests that stop when their client goes away (an import nobody waits for any more).

The work runs in a worker thread on the request's session; the event loop asks every
`POLL_S` whether the client is still connected. Once it is not, every further statement on
the session's connection is refused, the statement running is cancelled on the server
(psycopg's cancel request, again at each poll until the work stops: COPY included), so the
work raises, the request's transaction rolls back (nothing written) and the thread is free.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from typing import Any, TypeVar

import psycopg
from sqlalchemy import event
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request

from zoneguard.errors import ClientGone

T = TypeVar("T")
POLL_S = 0.25
GONE = "the client closed the connection; the work was abandoned and rolled back"


async def unless_client_leaves(request: Request, session: Session, work: Callable[[], T],
                               *, poll_s: float = POLL_S) -> T:
    """Run `work()` (blocking, on `session`) in a thread; abandon it if the client disconnects."""
    gone = threading.Event()
    drivers: list[psycopg.Connection[Any]] = []

    def guarded() -> T:
        connection = session.connection()
        driver = connection.connection.driver_connection
        if isinstance(driver, psycopg.Connection):
            drivers.append(driver)

        def refuse(*_args: object) -> None:
            if gone.is_set():
                raise ClientGone(GONE)

        event.listen(connection, "before_cursor_execute", refuse)
        try:
            refuse()
            return work()
        finally:
            event.remove(connection, "before_cursor_execute", refuse)

    task = asyncio.ensure_future(run_in_threadpool(guarded))
    while True:
        done, _ = await asyncio.wait({task}, timeout=poll_s)
        if done:
            error = task.exception()
            if error is not None and gone.is_set() and not isinstance(error, ClientGone):
                raise ClientGone(GONE) from error  # the cancelled statement's error
            return task.result()
        if gone.is_set() or await request.is_disconnected():
            gone.set()
            for driver in drivers:
                await run_in_threadpool(_cancel, driver)


def _cancel(driver: psycopg.Connection[Any]) -> None:
    try:
        driver.cancel_safe(timeout=2.0)
    except psycopg.Error:
        pass  # nothing running, or the server is gone: the refusal still stops the work
