"""Apply and inspect Alembic migrations programmatically.

Alembic loads only when a migration is applied or the quick check cannot decide: every
command asks `is_current` first, and a command line should answer at once.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from sqlalchemy import Engine, text
from sqlalchemy.exc import ProgrammingError

from zoneguard.settings import PROJECT_ROOT

if TYPE_CHECKING:
    from alembic.config import Config

_REVISION = re.compile(r"^revision\s*=\s*['\"]([^'\"]+)['\"]", re.M)
_DOWN = re.compile(r"^down_revision\s*=\s*['\"]([^'\"]+)['\"]", re.M)


def alembic_config(url: str | None = None) -> Config:
    """Alembic configuration pointing at the project's `alembic/` directory."""
    from alembic.config import Config

    config = Config(str(PROJECT_ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(PROJECT_ROOT / "alembic"))
    if url:
        config.attributes["url"] = url
    return config


def upgrade(engine: Engine) -> None:
    """Bring the schema of `engine`'s database to the newest revision."""
    from alembic import command

    config = alembic_config()
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, "head")


def head_revision() -> str | None:
    """The newest revision in the migration scripts."""
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at (None when never migrated)."""
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def _script_head() -> str | None:
    """The head revision read from the scripts' text, without importing any script.

    None when the scripts do not form one simple chain: then Alembic decides.
    """
    revisions: set[str] = set()
    parents: set[str] = set()
    for path in (PROJECT_ROOT / "alembic" / "versions").glob("*.py"):
        text = path.read_text(encoding="utf-8")
        found = _REVISION.search(text)
        if found is None:
            return None
        revisions.add(found.group(1))
        down = _DOWN.search(text)
        if down is not None:
            parents.add(down.group(1))
    heads = revisions - parents
    return heads.pop() if len(heads) == 1 else None


def is_current(engine: Engine) -> bool:
    """True when the database is at the newest revision.

    Every command asks this first: reading the version row and the scripts' text answers in
    milliseconds; Alembic (which imports every script) is asked only when they differ.
    """
    head = _script_head()
    if head is not None:
        try:
            with engine.connect() as conn:
                stored = conn.execute(text("SELECT version_num FROM alembic_version")).all()
        except ProgrammingError:  # never migrated
            return False
        if [row[0] for row in stored] == [head]:
            return True
    return current_revision(engine) == head_revision()
