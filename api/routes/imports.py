"""`/api/v1/imports`: upload a registry file (multipart) into the registries, all-or-nothing."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import APIRouter, File, Form, Request, Response, UploadFile, status

from api.abandon import unless_client_leaves
from api.auth import Importer
from api.deps import SessionDep, SettingsDep
from api.errors import PayloadTooLarge
from api.schemas.common import CategoryName, CrsName, RegionCode
from api.schemas.imports import ImportOut
from zoneguard.errors import ValidationError
from zoneguard.imports.uploads import upload_dir
from zoneguard.services.ingest.files import ImportOutcome, import_file
from zoneguard.services.ingest.scope import check_choices

router = APIRouter(prefix="/imports", tags=["imports"])
_CHUNK = 1 << 20
_SAFE_NAME = re.compile(r"[^A-Za-z0-9._\u4e00-\u9fff-]+")


_SUFFIX_OF_TYPE = {
    "text/csv": ".csv", "application/geo+json": ".geojson", "application/json": ".geojson",
    "application/zip": ".zip", "application/geopackage+sqlite3": ".gpkg",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": ".xlsx",
    "application/vnd.openstreetmap.data+xml": ".osm",
}


def _save(upload: UploadFile, directory: Path, max_bytes: int) -> Path:
    name = _SAFE_NAME.sub("_", Path(upload.filename or "upload").name).lstrip(".") or "upload"
    suffix = _SUFFIX_OF_TYPE.get((upload.content_type or "").split(";")[0].strip().lower())
    if not Path(name).suffix and suffix:
        name += suffix  # a client that sent no file name: the part's media type tells the format
    target = directory / name[-120:]
    written = 0
    with target.open("wb") as out:
        while chunk := upload.file.read(_CHUNK):
            written += len(chunk)
            if written > max_bytes:
                raise _too_large(max_bytes)
            out.write(chunk)
    return target


def _too_large(max_bytes: int) -> PayloadTooLarge:
    return PayloadTooLarge(f"文件超过导入大小上限（{max_bytes} 字节，ZONEGUARD_IMPORT_MAX_BYTES）；"
                           "请拆成几个文件分批导入，未导入任何数据")


def _column_map(entries: list[str]) -> dict[str, str] | None:
    mapping: dict[str, str] = {}
    for entry in entries:
        column, sep, field = entry.partition("=")
        if not sep or not column.strip() or not field.strip():
            raise ValidationError(f"列对应“{entry}”的写法不对：应写成“列名=字段”，如“经度=lon”")
        mapping[column.strip()] = field.strip()
    return mapping or None


@router.post("", response_model=ImportOut, status_code=status.HTTP_201_CREATED,
             responses={413: {"description": "File over the import size limit"}})
async def create_import(
    request: Request, session: SessionDep, settings: SettingsDep, key: Importer,
    response: Response,
    file: Annotated[UploadFile, File(description="CSV, XLSX, GeoJSON, Shapefile (.zip), "
                                                 "GeoPackage or OSM file")],
    kind: Annotated[Literal["schools", "gates", "premises", "facilities"], Form()],
    crs: Annotated[CrsName | None, Form(description="CRS of the coordinates")] = None,
    category: Annotated[CategoryName | None, Form()] = None,
    region: Annotated[RegionCode | None, Form()] = None,
    column_map: Annotated[list[str] | None,
                          Form(alias="map", description="COLUMN=field, repeatable")] = None,
    dry_run: Annotated[bool, Form()] = False,
    skip_invalid: Annotated[bool, Form()] = False,
    close_missing: Annotated[bool, Form(description=(
        "Full re-import: close registered premises of the file's categories and regions that "
        "it does not list, or retire such facilities of its kinds and regions"))] = False,
    sheet: Annotated[str | None, Form(max_length=100)] = None,
    layer: Annotated[str | None, Form(max_length=100)] = None,
) -> dict[str, Any]:
    """Import a registry file; answers its row-level report (422 with it when refused).

    A client that disconnects abandons its import: it stops, and nothing of it is written.
    """
    check_choices(key.scope, kind=kind, category=category, region=region)
    if file.size is not None and file.size > settings.import_max_bytes:
        raise _too_large(settings.import_max_bytes)
    columns = _column_map(column_map or [])

    def work() -> ImportOutcome:
        with upload_dir(settings.home) as tmp:  # stale ones are cleaned at start (api.main)
            path = _save(file, tmp, settings.import_max_bytes)
            with session.begin_nested():
                outcome = import_file(
                    session, path, kind=kind, crs=crs, column_map=columns, category=category,
                    region=region, dry_run=dry_run, skip_invalid=skip_invalid,
                    close_missing=close_missing, sheet=sheet, layer=layer, actor=key.actor,
                    file_name=file.filename, settings=settings, scope=key.scope)
        return outcome

    outcome = await unless_client_leaves(request, session, work)
    if dry_run:
        response.status_code = status.HTTP_200_OK
    return outcome.as_dict()
