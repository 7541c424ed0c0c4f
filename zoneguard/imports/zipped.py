"""ZIP archives (zipped shapefiles, XLSX workbooks) opened and unpacked within `Limits`.

Nothing a ZIP declares is trusted: the member count and the central directory's size are
checked from the end record before Python parses the directory, and every member is unpacked
in chunks whose real bytes are counted against the budget, so a member that declares a few
bytes and holds a gibibyte is refused after at most the budget, never held in memory.
A damaged member (bad CRC, truncated data, lying sizes) is a `FileUnusable`, not a crash.
"""

from __future__ import annotations

import struct
import zipfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path, PurePosixPath

from zoneguard.imports.limits import Limits
from zoneguard.imports.report import FileUnusable

CHUNK = 1 << 20
_EOCD = b"PK\x05\x06"
_EOCD_SIZE = 22
_MAX_COMMENT = 0xFFFF
#: Central-directory bytes allowed per member: a fixed 46-byte entry and a generous name.
_DIRECTORY_BYTES_PER_MEMBER = 1024
#: What zipfile and zlib raise for a damaged member (CRC, truncation, bad deflate data).
DAMAGE = (zipfile.BadZipFile, zlib.error, EOFError, OSError)


def end_record(path: Path) -> tuple[int, int]:
    """Return (member count, central directory bytes) from a ZIP's end record."""
    size = path.stat().st_size
    with path.open("rb") as handle:
        start = max(0, size - _EOCD_SIZE - _MAX_COMMENT)
        handle.seek(start)
        tail = handle.read()
    at = tail.rfind(_EOCD)
    if at < 0 or len(tail) - at < _EOCD_SIZE:
        raise FileUnusable("不是有效的 ZIP 压缩包（文件不完整或已损坏？）")
    count, directory = struct.unpack("<HI", tail[at + 10 : at + 16])
    return count, directory


@contextmanager
def open_zip(path: Path, limits: Limits, what: str = "ZIP 压缩包") -> Iterator[zipfile.ZipFile]:
    """Open a ZIP after checking its member count and directory size against `limits`."""
    count, directory = end_record(path)
    if count > limits.max_members or \
            directory > limits.max_members * _DIRECTORY_BYTES_PER_MEMBER:
        raise FileUnusable(
            f"{what}中的文件过多（声明 {count} 个，目录 {directory} 字节）；"
            f"最多 {limits.max_members} 个（ZONEGUARD_IMPORT_MAX_MEMBERS）")
    try:
        archive = zipfile.ZipFile(path)
    except DAMAGE as exc:
        raise FileUnusable(f"不是有效的{what}（文件不完整或已损坏？）：{exc}") from exc
    with archive:
        members = archive.infolist()
        if len(members) > limits.max_members:
            raise FileUnusable(f"{what}中有 {len(members)} 个文件，超过 "
                               f"{limits.max_members} 个的上限（ZONEGUARD_IMPORT_MAX_MEMBERS）")
        for member in members:
            _check_name(member.filename, what)
        declared = sum(m.file_size for m in members)
        if declared > limits.max_unpacked_bytes:
            raise FileUnusable(unpacked_too_big(declared, limits))
        yield archive


def _check_name(name: str, what: str) -> None:
    parts = PurePosixPath(name.replace("\\", "/")).parts
    if name.startswith(("/", "\\")) or ".." in parts or (parts and ":" in parts[0]):
        raise FileUnusable(f"{what}中的文件“{name[:200]}”路径不安全"
                           "（绝对路径或指向压缩包之外），不予导入")


def unpacked_too_big(size: int, limits: Limits) -> str:
    """Return the message for an archive that unpacks to more than the limit."""
    return (f"压缩包解压后超过 {limits.max_unpacked_bytes / 1e6:.1f} MB"
            f"（至少 {size / 1e6:.1f} MB；ZONEGUARD_IMPORT_MAX_UNPACKED_BYTES），"
            "疑似压缩炸弹，不予导入")


class Budget:
    """The unpacked bytes still allowed; every chunk read is counted, sizes are not trusted."""

    def __init__(self, limits: Limits) -> None:
        self.limits, self.left = limits, limits.max_unpacked_bytes

    def stream(self, archive: zipfile.ZipFile, member: zipfile.ZipInfo) -> Iterator[bytes]:
        """Yield the member's unpacked bytes chunk by chunk, within the budget."""
        try:
            with archive.open(member) as source:
                while chunk := source.read(CHUNK):
                    self.left -= len(chunk)
                    if self.left < 0:
                        used = self.limits.max_unpacked_bytes - self.left
                        raise FileUnusable(unpacked_too_big(used, self.limits))
                    yield chunk
        except RuntimeError as exc:  # zipfile: encrypted member, password required
            raise FileUnusable(f"压缩包中的“{member.filename}”设有密码："
                               "请解压后重试") from exc
        except NotImplementedError as exc:  # an unsupported compression method
            raise FileUnusable(f"压缩包中的“{member.filename}”使用了不支持的"
                               f"压缩方式（{exc}）") from exc
        except DAMAGE as exc:
            raise FileUnusable(f"压缩包中的“{member.filename}”已损坏（校验和错误、"
                               f"不完整或大小不符）：{exc}") from exc

    def extract(self, archive: zipfile.ZipFile, member: zipfile.ZipInfo, target: Path) -> None:
        """Write the member to `target` (its name is never used as a path)."""
        with target.open("wb") as out:
            for chunk in self.stream(archive, member):
                out.write(chunk)

    def verify(self, archive: zipfile.ZipFile) -> None:
        """Unpack every member once, discarding the bytes: budget and CRC checked."""
        for member in archive.infolist():
            for _ in self.stream(archive, member):
                pass


def check_zip(path: Path, limits: Limits, what: str) -> None:
    """Refuse a ZIP-based file (XLSX) that is damaged or unpacks beyond `limits`."""
    with open_zip(path, limits, what) as archive:
        Budget(limits).verify(archive)
