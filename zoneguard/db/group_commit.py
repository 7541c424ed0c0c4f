"""Group commit: the small writes of concurrent requests stored together, one commit per batch.

A request hands its write to the process's `GroupCommit` and waits; a single writer thread
takes every write that arrived while the previous batch was being stored and stores them in
one statement on its own autocommit connection, so one WAL flush serves the whole batch
(PostgreSQL keeps `synchronous_commit` on: a batch is durable when `submit` returns). Nothing
is acknowledged before its batch committed; when a batch fails its writes are retried one by
one, so only the write at fault (or all, when the database is down) gets the error.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Generic, TypeVar

from sqlalchemy import Connection, Engine
from sqlalchemy.exc import DBAPIError

from zoneguard.errors import DatabaseUnavailable

T = TypeVar("T")
Writer = Callable[[Connection, Sequence[T]], None]
log = logging.getLogger("zoneguard.db.group_commit")


class GroupCommit(Generic[T]):
    """Batches writes submitted from one event loop; `write` stores a batch in one statement.

    `write(connection, batch)` runs in the writer thread on an autocommit connection; it must
    store the batch atomically (one statement) and may fill in results on the items.
    `max_batch` bounds a batch; `delay_s` waits that long before a batch to let it grow.
    """

    def __init__(self, engine: Engine, write: Writer[T], *, max_batch: int = 256,
                 delay_s: float = 0.0, prepare: Callable[[Engine, Sequence[T]], None]
                 | None = None) -> None:
        self.engine, self.write, self.prepare = engine, write, prepare
        self.max_batch, self.delay_s = max_batch, delay_s
        self._pending: list[tuple[T, asyncio.Future[None]]] = []
        self._drainer: asyncio.Task[None] | None = None
        self._executor = ThreadPoolExecutor(1, thread_name_prefix="group-commit")
        self._connection: Connection | None = None
        self._closed = False
        self.batches = 0
        self.written = 0

    async def submit(self, item: T) -> None:
        """Store `item` with the next batch; return once that batch committed (else raise)."""
        if self._closed:
            raise DatabaseUnavailable("写入服务已停止（系统正在关闭），请稍后重试")
        loop = asyncio.get_running_loop()
        done: asyncio.Future[None] = loop.create_future()
        self._pending.append((item, done))
        if self._drainer is None or self._drainer.done():
            self._drainer = loop.create_task(self._drain())
        # A client that goes away does not withdraw its write: it is stored all the same.
        await asyncio.shield(done)

    async def _drain(self) -> None:
        loop = asyncio.get_running_loop()
        while self._pending:
            if self.delay_s > 0:
                await asyncio.sleep(self.delay_s)
            batch = self._pending[:self.max_batch]
            del self._pending[:len(batch)]
            try:
                errors = await loop.run_in_executor(self._executor, self._store,
                                                    [item for item, _ in batch])
            except BaseException as exc:  # cancelled at shutdown: nobody waits for these
                for _, done in batch:
                    if not done.done():
                        done.set_exception(exc if isinstance(exc, Exception)
                                           else RuntimeError("the writer stopped"))
                raise
            for (_, done), error in zip(batch, errors, strict=True):
                if done.done():
                    continue
                if error is None:
                    done.set_result(None)
                else:
                    done.set_exception(error)

    def _store(self, items: list[T]) -> list[Exception | None]:
        """Store a batch in the writer thread; on failure retry each item alone."""
        try:
            if self.prepare is not None:
                self.prepare(self.engine, items)
            self._write(items)
            self.batches += 1
            self.written += len(items)
            return [None] * len(items)
        except Exception as exc:
            if len(items) == 1 or _disconnected(exc):
                return [exc] * len(items)
            log.warning("a batch of %d writes failed (%s); storing them one by one",
                        len(items), type(exc).__name__)
        return [self._store(items=[item])[0] for item in items]

    def _write(self, items: list[T]) -> None:
        if self._connection is None or self._connection.invalidated:
            self._close()
            self._connection = self.engine.connect().execution_options(
                isolation_level="AUTOCOMMIT")
        try:
            self.write(self._connection, items)
        except BaseException:
            self._close()  # a fresh (pre-pinged) connection for the next batch
            raise

    def _close(self) -> None:
        if self._connection is not None:
            with contextlib.suppress(Exception):
                self._connection.close()
            self._connection = None

    async def close(self) -> None:
        """Finish the writes already submitted, then release the connection and the thread."""
        if self._closed:
            return
        self._closed = True
        if self._drainer is not None:
            with contextlib.suppress(Exception):
                await self._drainer
        log.info("group commit: %d writes in %d batches", self.written, self.batches)
        await asyncio.get_running_loop().run_in_executor(self._executor, self._close)
        self._executor.shutdown(wait=True)


def _disconnected(exc: Exception) -> bool:
    """Whether an error means the database went away (retrying item by item would not help)."""
    return isinstance(exc, DBAPIError) and bool(exc.connection_invalidated)
