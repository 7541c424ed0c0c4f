"""Request dependencies: the database session, the settings, the rule set."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

import anyio
from fastapi import Depends, Request
from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool

from zoneguard.errors import DatabaseUnavailable
from zoneguard.rules import RuleSet
from zoneguard.services.rulesets import current_rule_set
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
        raise DatabaseUnavailable("the database is not connected")
    session = factory()
    try:
        yield session
    except BaseException:
        with anyio.CancelScope(shield=True):  # a client that went away still frees the connection
            await run_in_threadpool(_finish, session, commit=False)
        raise
    await run_in_threadpool(_finish, session, commit=True)


async def get_rule_set(settings: Annotated[Settings, Depends(get_settings)]) -> RuleSet:
    """The rule set in force (re-read only when a rule file changed)."""
    return current_rule_set(settings)


SettingsDep = Annotated[Settings, Depends(get_settings)]
# scope="function": commit before the response is sent, so a failed commit becomes the response.
SessionDep = Annotated[Session, Depends(get_session, scope="function")]
RuleSetDep = Annotated[RuleSet, Depends(get_rule_set)]
