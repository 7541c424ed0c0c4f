"""What every file import checks and records first: the region it is for, the file's digest.

Registry files (`zoneguard.imports`) and walking networks (`services/ingest/network.py`) both
use these, so the two paths refuse the same regions with the same words.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from zoneguard import regions
from zoneguard.imports.report import FileUnusable


def check_region(region: str | None) -> str | None:
    """`region` when absent or a region code; FileUnusable otherwise."""
    if region is not None and not regions.CODE.fullmatch(region):
        raise FileUnusable(f"行政区划代码（--region）应为 GB/T 2260 代码，如 430103，"
                           f"不能是“{region}”")
    return region


def file_sha256(path: Path) -> str:
    """The SHA-256 of a file's bytes, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
