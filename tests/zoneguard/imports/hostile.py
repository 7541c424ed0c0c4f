"""Hostile import files, generated at run time (none is committed): bombs, views, wide tables."""

from __future__ import annotations

import sqlite3
import struct
import zipfile
from pathlib import Path

import geopandas as gpd
from shapely.geometry import Point

_CENTRAL = b"PK\x01\x02"
_LOCAL = b"PK\x03\x04"


def school_shapefile(directory: Path, stem: str = "schools") -> Path:
    """Write a one-school point shapefile (WGS 84) and return its .shp path."""
    frame = gpd.GeoDataFrame({"名称": ["一小"], "学段": ["小学"]},
                             geometry=[Point(112.98, 28.19)], crs="EPSG:4326")
    path = directory / f"{stem}.shp"
    frame.to_file(path, driver="ESRI Shapefile", encoding="UTF-8")
    return path


def zipped_shapefile(shp: Path, out: Path, *, dbf_bytes: int = 0,
                     declared_dbf_size: int | None = None) -> Path:
    """Zip a shapefile; the .dbf is padded with `dbf_bytes` spaces and may lie about its size.

    The padding is streamed into the archive (deflate), so a gibibyte costs no memory here.
    `declared_dbf_size` overwrites the .dbf's uncompressed size in both the local header and
    the central directory, as a zip bomb that lies about its sizes does.
    """
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for sidecar in sorted(shp.parent.glob(f"{shp.stem}.*")):
            if sidecar.suffix.lower() != ".dbf":
                archive.write(sidecar, sidecar.name)
                continue
            info = zipfile.ZipInfo(sidecar.name)
            info.compress_type = zipfile.ZIP_DEFLATED
            with archive.open(info, "w") as member:
                member.write(sidecar.read_bytes())
                block = b" " * (1 << 20)
                left = dbf_bytes
                while left > 0:
                    member.write(block[: min(left, len(block))])
                    left -= len(block)
    if declared_dbf_size is not None:
        _declare_size(out, f"{shp.stem}.dbf", declared_dbf_size)
    return out


def _declare_size(path: Path, name: str, size: int) -> None:
    data = bytearray(path.read_bytes())
    encoded = name.encode()
    # (signature, offset of the uncompressed size, of the name length, of the name)
    for signature, size_at, length_at, name_at in ((_LOCAL, 22, 26, 30), (_CENTRAL, 24, 28, 46)):
        at = data.find(signature)
        while at >= 0:
            length = struct.unpack_from("<H", data, at + length_at)[0]
            if bytes(data[at + name_at : at + name_at + length]) == encoded:
                struct.pack_into("<I", data, at + size_at, size)
            at = data.find(signature, at + 4)
    path.write_bytes(bytes(data))


def corrupt_crc(path: Path, name: str) -> Path:
    """Flip the stored CRC-32 of member `name` (both headers) so reading it fails its check."""
    data = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as archive:
        info = archive.getinfo(name)
    wrong = struct.pack("<I", info.CRC ^ 0xFFFFFFFF)
    right = struct.pack("<I", info.CRC)
    assert data.count(right) >= 1
    path.write_bytes(bytes(data.replace(right, wrong)))
    return path


def view_gpkg(path: Path, *, recursive: bool, rows: int = 3_000_000) -> Path:
    """Write a GeoPackage whose only feature layer is a view (a recursive CTE, or `rows` rows).

    The recursive view's query never ends; the other yields `rows` points from a few bytes.
    """
    base = gpd.GeoDataFrame({"名称": ["一小"], "学段": ["小学"]},
                            geometry=[Point(112.98, 28.19)], crs="EPSG:4326")
    base.to_file(path, layer="seed", driver="GPKG")
    limit = "" if recursive else f"WHERE n < {rows}"
    with sqlite3.connect(path) as db:
        geom = db.execute("SELECT geom FROM seed").fetchone()[0]
        db.execute(
            "CREATE VIEW schools AS WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL "
            f"SELECT n + 1 FROM s {limit}) SELECT n AS fid, '学校' || n AS 名称, "
            f"'小学' AS 学段, X'{geom.hex()}' AS geom FROM s")
        db.execute("INSERT INTO gpkg_contents (table_name, data_type, identifier, srs_id) "
                   "VALUES ('schools', 'features', 'schools', 4326)")
        db.execute("INSERT INTO gpkg_geometry_columns VALUES "
                   "('schools', 'geom', 'POINT', 4326, 0, 0)")
        db.execute("DROP TABLE seed")  # the view is the only layer left to read
        db.execute("DELETE FROM gpkg_contents WHERE table_name = 'seed'")
        db.execute("DELETE FROM gpkg_geometry_columns WHERE table_name = 'seed'")
    return path


def trigger_gpkg(path: Path) -> Path:
    """Write a one-school GeoPackage that also holds a trigger foreign to GeoPackage."""
    frame = gpd.GeoDataFrame({"名称": ["一小"], "学段": ["小学"]},
                             geometry=[Point(112.98, 28.19)], crs="EPSG:4326")
    frame.to_file(path, layer="schools", driver="GPKG")
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE log (n INTEGER)")
        db.execute("CREATE TRIGGER evil AFTER INSERT ON log BEGIN "
                   "INSERT INTO log VALUES (NEW.n + 1); END")
    return path
