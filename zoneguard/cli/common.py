"""Shared helpers of the CLI: console, error reporting, settings and engine."""

from __future__ import annotations

import getpass
import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import wraps
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar

import typer
from pydantic import ValidationError as SettingsError
from rich.console import Console

from zoneguard.domain import Role
from zoneguard.errors import ZoneGuardError
from zoneguard.settings import Settings, get_settings

if TYPE_CHECKING:  # the database stack loads only in commands that open the database
    from sqlalchemy import Engine
    from sqlalchemy.orm import Session

    from zoneguard.services.access.keys import Scope

console = Console()
err_console = Console(stderr=True)

P = ParamSpec("P")
R = TypeVar("R")


def settings() -> Settings:
    """Settings for this command, with configuration errors reported plainly."""
    try:
        return get_settings()
    except SettingsError as exc:
        err_console.print(f"[red]错误：[/red]配置无效：{exc}")
        raise typer.Exit(2) from None


def handle_errors(func: Callable[P, R]) -> Callable[P, R]:
    """Report ZoneGuardError as a one-line message and a non-zero exit, never a traceback."""

    @wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return func(*args, **kwargs)
        except ZoneGuardError as exc:
            err_console.print(f"[red]错误：[/red]{exc.detail}", highlight=False)
            raise typer.Exit(1) from None
        except OSError as exc:  # unreadable input, unwritable output, full disk
            err_console.print(f"[red]错误：[/red]{exc}", highlight=False)
            raise typer.Exit(1) from None
        except Exception as exc:
            translated = database_error(exc)
            if translated is None:
                raise
            err_console.print(f"[red]错误：[/red]{translated.detail}", highlight=False)
            raise typer.Exit(1) from None

    return wrapper


def database_error(exc: BaseException) -> ZoneGuardError | None:
    """The domain error a database error means, as the API reports it (None: not one)."""
    if "sqlalchemy" not in sys.modules:  # nothing touched the database: keep the start-up light
        return None
    from sqlalchemy.exc import DBAPIError

    from zoneguard.db.errors import translate

    return translate(exc) if isinstance(exc, DBAPIError) else None


@contextmanager
def open_session() -> Iterator[Session]:
    """A committed-on-success session on a started, migrated database."""
    from zoneguard.db.engine import session_scope

    engine = open_engine()
    try:
        with session_scope(engine) as session:
            yield session
    finally:
        engine.dispose()


def open_engine() -> Engine:
    """Engine on a started, migrated database."""
    from zoneguard.db.ready import ready_engine

    return ready_engine(settings())


def print_json(value: Any) -> None:
    """Print a JSON document to standard output (for scripts)."""
    sys.stdout.write(json.dumps(value, ensure_ascii=False, indent=2, default=str) + "\n")


@dataclass(frozen=True)
class Operator:
    """The person at this machine's shell: named by the operating system, acting as admin."""

    actor: str
    role: Role = Role.ADMIN

    @property
    def scope(self) -> Scope:
        """Everything: the operator of the server's own machine."""
        from zoneguard.services.access.keys import UNRESTRICTED

        return UNRESTRICTED


def operator() -> Operator:
    """Who acts from this shell (recorded as `cli:<user>`)."""
    return Operator(f"cli:{getpass.getuser()}")
