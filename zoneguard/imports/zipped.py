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
        raise FileUnusable("not a valid ZIP archive (truncated or corrupt?)")
    count, directory = struct.unpack("<HI", tail[at + 10 : at + 16])
    return count, directory


@contextmanager
def open_zip(path: Path, limits: Limits, what: str = "ZIP archive") -> Iterator[zipfile.ZipFile]:
    """Open a ZIP after checking its member count and directory size against `limits`."""
    count, directory = end_record(path)
    if count > limits.max_members or \
            directory > limits.max_members * _DIRECTORY_BYTES_PER_MEMBER:
        raise FileUnusable(
            f"the {what} holds too many members ({count} declared, directory of {directory} "
            f"bytes); at most {limits.max_members} (ZONEGUARD_IMPORT_MAX_MEMBERS)")
    try:
        archive = zipfile.ZipFile(path)
    except DAMAGE as exc:
        raise FileUnusable(f"not a valid {what} (truncated or corrupt?): {exc}") from exc
    with archive:
        members = archive.infolist()
        if len(members) > limits.max_members:
            raise FileUnusable(f"the {what} holds {len(members)} members, over the limit of "
                               f"{limits.max_members} (ZONEGUARD_IMPORT_MAX_MEMBERS)")
        for member in members:
            _check_name(member.filename, what)
        declared = sum(m.file_size for m in members)
        if declared > limits.max_unpacked_bytes:
            raise FileUnusable(unpacked_too_big(declared, limits))
        yield archive


def _check_name(name: str, what: str) -> None:
    parts = PurePosixPath(name.replace("\\", "/")).parts
    if name.startswith(("/", "\\")) or ".." in parts or (parts and ":" in parts[0]):
        raise FileUnusable(f"the {what} holds a member with an unsafe path {name[:200]!r} "
                           "(absolute or leaving the archive): refused")


def unpacked_too_big(size: int, limits: Limits) -> str:
    """Return the message for an archive that unpacks to more than the limit."""
    return (f"the archive unpacks to more than {limits.max_unpacked_bytes / 1e6:.1f} MB "
            f"(at least {size / 1e6:.1f} MB; ZONEGUARD_IMPORT_MAX_UNPACKED_BYTES): "
            "refused as a possible ZIP bomb")


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
            raise FileUnusable(f"the ZIP member {member.filename!r} is password-protected: "
                               "unpack it and retry") from exc
        except NotImplementedError as exc:  # an unsupported compression method
            raise FileUnusable(f"the ZIP member {member.filename!r} uses an unsupported "
                               f"compression ({exc})") from exc
        except DAMAGE as exc:
            raise FileUnusable(f"the ZIP member {member.filename!r} is damaged (bad CRC, "
                               f"truncated or lying sizes): {exc}") from exc

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
