"""Request dependencies: the database session, the settings, the rule set."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session, sessionmaker

from zoneguard.errors import DatabaseUnavailable
from zoneguard.rules import RuleSet
from zoneguard.services.rulesets import current_rule_set
from zoneguard.settings import Settings


def get_settings(request: Request) -> Settings:
    """The settings the app was created with."""
    settings: Settings = request.app.state.settings
    return settings


def get_session(request: Request) -> Iterator[Session]:
    """A session per request: committed when the route succeeds, rolled back on any error."""
    factory: sessionmaker[Session] | None = getattr(request.app.state, "sessions", None)
    if factory is None:
        raise DatabaseUnavailable("the database is not connected")
    session = factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def get_rule_set(settings: Annotated[Settings, Depends(get_settings)]) -> RuleSet:
    """The rule set in force (re-read only when a rule file changed)."""
    return current_rule_set(settings)


SettingsDep = Annotated[Settings, Depends(get_settings)]
# scope="function": commit before the response is sent, so a failed commit becomes the response.
SessionDep = Annotated[Session, Depends(get_session, scope="function")]
RuleSetDep = Annotated[RuleSet, Depends(get_rule_set)]
