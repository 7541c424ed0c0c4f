"""Shared benchmark plumbing: a throw-away embedded cluster and a timer."""

from __future__ import annotations

import shutil
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Engine

from zoneguard.db.embedded import EmbeddedCluster
from zoneguard.db.ready import ready_engine
from zoneguard.settings import Settings


@contextmanager
def scratch_database() -> Iterator[tuple[Settings, Engine]]:
    """A migrated database in a temporary embedded cluster, destroyed afterwards."""
    home = Path(tempfile.mkdtemp(prefix="zg-bench-"))
    settings = Settings(home=home)
    engine = ready_engine(settings)
    try:
        yield settings, engine
    finally:
        engine.dispose()
        EmbeddedCluster(home).destroy()
        shutil.rmtree(home, ignore_errors=True)


@contextmanager
def timed(label: str, results: dict[str, float]) -> Iterator[None]:
    """Record the wall time of a block under `label`."""
    start = time.perf_counter()
    yield
    results[label] = time.perf_counter() - start
