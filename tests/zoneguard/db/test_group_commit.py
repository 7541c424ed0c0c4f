"""Group commit: concurrent writes share a commit, none is acknowledged before it is stored."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator, Sequence

import pytest
from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import IntegrityError

from zoneguard.db.group_commit import GroupCommit


@pytest.fixture
def db(scratch: tuple[str, Engine]) -> Iterator[Engine]:
    engine = scratch[1]
    with engine.begin() as conn:
        conn.execute(text("DROP TABLE IF EXISTS gc_probe"))
        conn.execute(text("CREATE TABLE gc_probe (n int PRIMARY KEY)"))
    yield engine
    with engine.begin() as conn:
        conn.execute(text("DROP TABLE gc_probe"))


def _insert(conn: Connection, batch: Sequence[int]) -> None:
    conn.execute(text("INSERT INTO gc_probe SELECT unnest(CAST(:ns AS int[]))"),
                 {"ns": list(batch)})


def _stored(engine: Engine) -> set[int]:
    with engine.connect() as conn:  # another connection: sees committed rows only
        return {int(n) for n in conn.execute(text("SELECT n FROM gc_probe")).scalars()}


def test_writes_that_arrive_during_a_commit_share_the_next_one_and_are_acknowledged_after_it(
        db: Engine) -> None:
    release = threading.Event()

    def slow_insert(conn: Connection, batch: Sequence[int]) -> None:
        release.wait(10)  # the first batch is held: the others pile up behind it
        _insert(conn, batch)

    writer: GroupCommit[int] = GroupCommit(db, slow_insert)
    seen_at_ack: dict[int, bool] = {}

    async def one(n: int) -> None:
        await writer.submit(n)
        seen_at_ack[n] = n in await asyncio.to_thread(_stored, db)

    async def run() -> None:
        first = asyncio.create_task(one(0))
        await asyncio.sleep(0.05)
        rest = [asyncio.create_task(one(n)) for n in range(1, 20)]
        await asyncio.sleep(0.05)
        assert not first.done() and not any(t.done() for t in rest)  # nothing acknowledged yet
        release.set()
        await asyncio.gather(first, *rest)
        await writer.close()

    asyncio.run(run())
    assert _stored(db) == set(range(20))
    assert all(seen_at_ack[n] for n in range(20))  # every write was visible when acknowledged
    assert (writer.batches, writer.written) == (2, 20)  # 0 alone, then 1..19 together


def test_a_failing_write_fails_alone_and_the_rest_of_its_batch_is_stored(db: Engine) -> None:
    with db.begin() as conn:
        conn.execute(text("INSERT INTO gc_probe VALUES (7)"))  # 7 will collide
    gate = threading.Event()

    def held_insert(conn: Connection, batch: Sequence[int]) -> None:
        gate.wait(10)
        _insert(conn, batch)

    writer: GroupCommit[int] = GroupCommit(db, held_insert)

    async def run() -> list[BaseException | None]:
        tasks = [asyncio.create_task(writer.submit(n)) for n in (5, 6, 7, 8)]
        await asyncio.sleep(0.05)
        gate.set()
        outcomes = await asyncio.gather(*tasks, return_exceptions=True)
        await writer.close()
        return list(outcomes)

    outcomes = asyncio.run(run())
    assert outcomes[0] is None and outcomes[1] is None and outcomes[3] is None
    assert isinstance(outcomes[2], IntegrityError)
    assert _stored(db) == {5, 6, 7, 8}  # 7 was there before; 5, 6 and 8 stored by the writer
