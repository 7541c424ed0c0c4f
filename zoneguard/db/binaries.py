"""Locate the system's PostgreSQL server binaries and check PostGIS/pgRouting are there."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from zoneguard.errors import EnvironmentProblem

_DEBIAN_ROOT = Path("/usr/lib/postgresql")
_SHARE_ROOT = Path("/usr/share/postgresql")


@dataclass(frozen=True)
class PgBinaries:
    """Paths of the server programs of one PostgreSQL major version."""

    bindir: Path
    version: int
    sharedir: Path

    @property
    def initdb(self) -> Path:
        """Path of `initdb`."""
        return self.bindir / "initdb"

    @property
    def pg_ctl(self) -> Path:
        """Path of `pg_ctl`."""
        return self.bindir / "pg_ctl"


def _install_hint(version: int | None) -> str:
    ver = version or 15
    return (
        f"请安装：apt-get install postgresql postgresql-{ver}-postgis-3 "
        f"postgresql-{ver}-pgrouting（Debian/Ubuntu），或把 ZONEGUARD_DATABASE_URL "
        "设为已有的 PostGIS 服务器"
    )


def _candidates() -> list[tuple[int, Path, Path]]:
    found: list[tuple[int, Path, Path]] = []
    override = os.environ.get("ZONEGUARD_PG_BINDIR")
    if override:
        bindir = Path(override)
        version = _version_of(bindir)
        found.append((version, bindir, _sharedir_of(bindir, version)))
        return found
    if _DEBIAN_ROOT.is_dir():
        for entry in _DEBIAN_ROOT.iterdir():
            if entry.name.isdigit() and (entry / "bin" / "initdb").exists():
                version = int(entry.name)
                found.append((version, entry / "bin", _SHARE_ROOT / entry.name))
    pg_config = shutil.which("pg_config")
    if not found and pg_config:
        bindir = Path(subprocess.run([pg_config, "--bindir"], capture_output=True, text=True,
                                     check=True).stdout.strip())
        if (bindir / "initdb").exists():
            version = _version_of(bindir)
            found.append((version, bindir, _sharedir_of(bindir, version)))
    return sorted(found, reverse=True)


def _version_of(bindir: Path) -> int:
    if not (bindir / "postgres").exists():
        raise EnvironmentProblem(
            f"{bindir} 中没有 PostgreSQL 服务器程序；{_install_hint(None)}"
        )
    out = subprocess.run([str(bindir / "postgres"), "--version"], capture_output=True,
                         text=True, check=False).stdout
    match = re.search(r"(\d+)", out)
    if not match:
        raise EnvironmentProblem(f"无法确定 {bindir} 中 PostgreSQL 的版本")
    return int(match.group(1))


def _sharedir_of(bindir: Path, version: int) -> Path:
    pg_config = bindir / "pg_config"
    if pg_config.exists():
        out = subprocess.run([str(pg_config), "--sharedir"], capture_output=True, text=True,
                             check=False).stdout.strip()
        if out:
            return Path(out)
    return _SHARE_ROOT / str(version)


def find_binaries(version: int | None = None) -> PgBinaries:
    """Return the newest PostgreSQL with PostGIS and pgRouting installed, or say what to install."""
    candidates = _candidates()
    if version is not None:
        candidates = [c for c in candidates if c[0] == version]
    if not candidates:
        raise EnvironmentProblem(
            f"找不到 PostgreSQL 服务器程序{f'（版本 {version}）' if version else ''}；"
            f"{_install_hint(version)}"
        )
    missing: list[str] = []
    for ver, bindir, sharedir in candidates:
        ext = sharedir / "extension"
        libdir = bindir.parent / "lib"
        libraries = {"postgis": "postgis-3*.so", "pgrouting": "libpgrouting*.so"}
        lacking = [name for name, library in libraries.items()
                   if not (ext / f"{name}.control").exists()
                   or (libdir.is_dir() and not any(libdir.glob(library)))]
        if not lacking:
            return PgBinaries(bindir=bindir, version=ver, sharedir=sharedir)
        missing.append(f"PostgreSQL {ver} 缺少 {'、'.join(lacking)}")
    raise EnvironmentProblem(
        f"{'；'.join(missing)}：{_install_hint(candidates[0][0])}"
    )
