"""Work whose client went away is abandoned: cancelled on the server, rolled back, thread freed."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from api.abandon import unless_client_leaves
from zoneguard.errors import ClientGone


class _Client:
    """A request whose client leaves after `stays` polls (never, when None)."""

    def __init__(self, stays: int | None) -> None:
        self.stays, self.polls = stays, 0

    async def is_disconnected(self) -> bool:
        self.polls += 1
        return self.stays is not None and self.polls > self.stays


def _audit_rows(session: Session, action: str) -> int:
    return int(session.execute(text("SELECT count(*) FROM audit_log WHERE action = :a"),
                               {"a": action}).scalar_one())


def test_a_client_that_stays_gets_the_result(session: Session) -> None:
    def work() -> int:
        session.execute(text("SELECT pg_sleep(0.3)"))
        return 42

    client = _Client(stays=None)
    result = asyncio.run(unless_client_leaves(client, session, work,  # type: ignore[arg-type]
                                              poll_s=0.05))
    assert result == 42 and client.polls >= 3


def test_work_of_a_client_that_left_is_cancelled_mid_statement_and_writes_nothing(
        session: Session) -> None:
    statements: list[str] = []

    def work() -> Any:
        with session.begin_nested():
            session.execute(text("INSERT INTO audit_log (actor, action, entity) "
                                 "VALUES ('t', 'abandon-test', 'x')"))
            statements.append("insert")
            session.execute(text("SELECT pg_sleep(30)"))  # cancelled on the server
            statements.append("slept")
            session.execute(text("SELECT 1"))
            statements.append("after")

    started = time.monotonic()
    with pytest.raises(ClientGone):
        asyncio.run(unless_client_leaves(_Client(stays=1), session, work,  # type: ignore[arg-type]
                                         poll_s=0.05))
    assert time.monotonic() - started < 5  # not the 30 s of the statement
    assert statements == ["insert"]
    session.rollback()
    assert _audit_rows(session, "abandon-test") == 0
    running = session.execute(text(
        "SELECT count(*) FROM pg_stat_activity WHERE query LIKE 'SELECT pg_sleep(30)%' "
        "AND state = 'active'")).scalar_one()
    assert running == 0


def test_work_between_statements_is_refused_at_its_next_statement(session: Session) -> None:
    done: list[str] = []

    def work() -> None:
        time.sleep(0.4)  # Python work: nothing to cancel on the server
        done.append("python")
        session.execute(text("SELECT 1"))
        done.append("sql")

    with pytest.raises(ClientGone):
        asyncio.run(unless_client_leaves(_Client(stays=0), session, work,  # type: ignore[arg-type]
                                         poll_s=0.05))
    assert done == ["python"]
