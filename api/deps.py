"""Request dependencies: the database session, the settings, the rule set."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Annotated

import anyio
from fastapi import Depends, Request
from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool

from zoneguard.db.group_commit import GroupCommit
from zoneguard.errors import DatabaseUnavailable
from zoneguard.rules import RuleSet
from zoneguard.services.rulesets import current_rule_set
from zoneguard.services.screening_store import PendingScreening
from zoneguard.settings import Settings


async def get_settings(request: Request) -> Settings:
    """The settings the app was created with."""
    settings: Settings = request.app.state.settings
    return settings


def _finish(session: Session, *, commit: bool) -> None:
    try:
        if commit:
            session.commit()
        else:
            session.rollback()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


async def get_session(request: Request) -> AsyncIterator[Session]:
    """A session per request: committed when the route succeeds, rolled back on any error.

    Creating a session does no I/O, so this runs on the event loop; only the commit (or the
    rollback) goes to the thread pool: one thread hop per request instead of two.
    """
    factory: sessionmaker[Session] | None = getattr(request.app.state, "sessions", None)
    if factory is None:
        raise DatabaseUnavailable("尚未连接数据库")
    session = factory()
    try:
        yield session
    except BaseException:
        if _quiet(session):
            _finish(session, commit=False)
            raise
        with anyio.CancelScope(shield=True):  # a client that went away still frees the connection
            await run_in_threadpool(_finish, session, commit=False)
        raise
    if _quiet(session):
        _finish(session, commit=True)
    else:
        await run_in_threadpool(_finish, session, commit=True)


_AUTOCOMMIT = "zoneguard.autocommit"


def _quiet(session: Session) -> bool:
    """Whether finishing the session sends nothing to the server (unused, or autocommit)."""
    return not session.in_transaction() or bool(session.info.get(_AUTOCOMMIT))


def read_without_transaction(session: Session) -> None:
    """Let a read-only request run its statements in autocommit (no BEGIN, no COMMIT).

    Only a session that has not begun yet: one already in a transaction (a key looked up in
    it, or a test's savepoint) keeps it.
    """
    if not session.in_transaction():
        session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})
        session.info[_AUTOCOMMIT] = True


async def get_screening_store(request: Request) -> ScreeningStore:
    """Store a screening with the next group commit of this process (`screening_writer`)."""
    writer: GroupCommit[PendingScreening] | None = getattr(request.app.state,
                                                           "screening_writer", None)
    if writer is None:
        raise DatabaseUnavailable("尚未连接数据库")
    return writer.submit


async def get_rule_set(settings: Annotated[Settings, Depends(get_settings)]) -> RuleSet:
    """The rule set in force (re-read only when a rule file changed)."""
    return current_rule_set(settings)


SettingsDep = Annotated[Settings, Depends(get_settings)]
# scope="function": commit before the response is sent, so a failed commit becomes the response.
SessionDep = Annotated[Session, Depends(get_session, scope="function")]
RuleSetDep = Annotated[RuleSet, Depends(get_rule_set)]
ScreeningStore = Callable[[PendingScreening], Awaitable[None]]
ScreeningStoreDep = Annotated[ScreeningStore, Depends(get_screening_store)]
