"""Upload directories: one per upload under <home>/uploads, stale ones of dead workers removed."""

from __future__ import annotations

import os
import time
from pathlib import Path

from zoneguard.imports.uploads import clean_stale, upload_dir, upload_root


def _aged(path: Path, seconds: float) -> Path:
    path.mkdir(parents=True)
    (path / "file.csv").write_text("x")
    then = time.time() - seconds
    os.utime(path, (then, then))
    return path


def test_upload_dir_is_named_after_the_process_and_removed(tmp_path: Path) -> None:
    with upload_dir(tmp_path) as directory:
        assert directory.parent == upload_root(tmp_path)
        assert directory.name.startswith(f"{os.getpid()}-")
        (directory / "big.zip").write_bytes(b"x")
    assert not directory.exists()


def test_clean_stale_removes_only_old_directories_of_dead_workers(tmp_path: Path) -> None:
    root = upload_root(tmp_path)
    dead_old = _aged(root / "999999999-a", 2 * 3600)
    unnamed_old = _aged(root / "zoneguard-upload-b", 2 * 3600)
    dead_new = _aged(root / "999999999-c", 60)
    live_old = _aged(root / f"{os.getpid()}-d", 2 * 3600)
    live_ancient = _aged(root / f"{os.getpid()}-e", 3 * 24 * 3600)  # a recycled pid
    removed = clean_stale(root)
    assert set(removed) == {dead_old, unnamed_old, live_ancient}
    assert not dead_old.exists() and not unnamed_old.exists() and not live_ancient.exists()
    assert dead_new.is_dir() and live_old.is_dir()


def test_clean_stale_of_a_missing_root_does_nothing(tmp_path: Path) -> None:
    assert clean_stale(tmp_path / "nowhere") == []
