"""Uploaded files kept between the dry run and the confirmation of a workbench import.

Each upload lives in its own directory named by a random token, with what was chosen (kind,
CRS, category, region) and who uploaded it; only that person can confirm it, and uploads
older than `KEEP_S` are removed.
"""

from __future__ import annotations

import json
import re
import secrets
import shutil
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import BinaryIO

from zoneguard.errors import NotFound, ValidationError

KEEP_S = 3600
_CHUNK = 1 << 20
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{32}$")
_SAFE_NAME = re.compile(r"[^A-Za-z0-9._\u4e00-\u9fff-]+")


@dataclass(frozen=True)
class Staged:
    """An uploaded file awaiting confirmation, and the choices made with it."""

    token: str
    username: str
    file_name: str
    kind: str
    crs: str | None
    category: str | None
    region: str | None
    skip_invalid: bool

    def path(self, root: Path) -> Path:
        """Where the uploaded file is kept."""
        return root / self.token / _safe(self.file_name)


def root_dir() -> Path:
    """The directory holding staged uploads (private to this user)."""
    root = Path(tempfile.gettempdir()) / "zoneguard-web-imports"
    root.mkdir(mode=0o700, exist_ok=True)
    return root


def _safe(name: str) -> str:
    return (_SAFE_NAME.sub("_", Path(name or "upload").name).lstrip(".") or "upload")[-120:]


def _purge(root: Path) -> None:
    cutoff = time.time() - KEEP_S
    for entry in root.iterdir():
        if entry.is_dir() and entry.stat().st_mtime < cutoff:
            shutil.rmtree(entry, ignore_errors=True)


def stage(root: Path, upload: BinaryIO, *, max_bytes: int, **choices: object) -> Staged:
    """Keep an upload (at most `max_bytes`) with its choices; ValidationError when too large."""
    _purge(root)
    staged = Staged(token=secrets.token_urlsafe(24), **choices)  # type: ignore[arg-type]
    folder = root / staged.token
    folder.mkdir(mode=0o700)
    written = 0
    with staged.path(root).open("wb") as out:
        while chunk := upload.read(_CHUNK):
            written += len(chunk)
            if written > max_bytes:
                shutil.rmtree(folder, ignore_errors=True)
                raise ValidationError(f"文件超过导入上限 {max_bytes} 字节")
            out.write(chunk)
    if written == 0:
        shutil.rmtree(folder, ignore_errors=True)
        raise ValidationError("请选择要导入的文件（文件为空）")
    (folder / "choices.json").write_text(json.dumps(asdict(staged), ensure_ascii=False),
                                         encoding="utf-8")
    return staged


def load(root: Path, token: str, username: str) -> Staged:
    """The staged upload of this token, if this person made it (NotFound otherwise)."""
    meta = root / token / "choices.json" if _TOKEN.match(token) else None
    if meta is None or not meta.is_file():
        raise NotFound("待确认的导入已过期或不存在，请重新上传")
    staged = Staged(**json.loads(meta.read_text(encoding="utf-8")))
    if staged.username != username:
        raise NotFound("待确认的导入已过期或不存在，请重新上传")
    return staged


def discard(root: Path, staged: Staged) -> None:
    """Remove a staged upload."""
    shutil.rmtree(root / staged.token, ignore_errors=True)
