"""Where uploaded import files wait while they are read: `<home>/uploads/<pid>-<random>/`.

A worker killed mid-import leaves its directory behind; `clean_stale` removes those of dead
workers at start-up. A directory is stale when it is older than `max_age_s` and the process
named in it is gone (or not named); after a day it goes whatever its name says, as a
recycled process id must not keep it forever.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

log = logging.getLogger(__name__)

STALE_AFTER_S = 3600.0
_ALWAYS_STALE_AFTER_S = 24 * 3600.0


def upload_root(home: Path) -> Path:
    """Return the directory that holds every upload directory of the home."""
    return Path(home) / "uploads"


@contextmanager
def upload_dir(home: Path) -> Iterator[Path]:
    """Yield a fresh private directory for one upload, named after this process; remove it."""
    root = upload_root(home)
    root.mkdir(mode=0o700, parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=f"{os.getpid()}-", dir=root) as directory:
        yield Path(directory)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process: alive
        return True
    except OverflowError:  # no such process id can exist
        return False
    return True


def _owner(name: str) -> int | None:
    head = name.split("-", 1)[0]
    return int(head) if head.isdigit() else None


def clean_stale(root: Path, *, max_age_s: float = STALE_AFTER_S,
                now: float | None = None) -> list[Path]:
    """Remove the upload directories of dead workers older than `max_age_s`; return them."""
    now = time.time() if now is None else now
    removed: list[Path] = []
    try:
        entries = list(Path(root).iterdir())
    except FileNotFoundError:
        return removed
    for entry in entries:
        try:
            age = now - entry.lstat().st_mtime
            pid = _owner(entry.name)
            if age <= max_age_s:
                continue
            if age <= _ALWAYS_STALE_AFTER_S and pid is not None and _alive(pid):
                continue
            if entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry)
            else:
                entry.unlink()
        except OSError as exc:  # one that cannot go must not stop the start
            log.warning("cannot remove stale upload %s: %s", entry, exc)
            continue
        removed.append(entry)
    if removed:
        log.info("removed %d stale upload directories from %s", len(removed), root)
    return removed
