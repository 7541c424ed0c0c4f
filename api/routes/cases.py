"""Evidence of a case (upload, list, download) and its field measurements."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request, status
from fastapi.responses import FileResponse
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.formparsers import MultiPartException, MultiPartParser

from api.auth import Mover, Reader
from api.deps import SessionDep, SettingsDep
from api.schemas.cases import (
    EvidenceList,
    EvidenceOut,
    MeasurementIn,
    MeasurementList,
    MeasurementOut,
)
from api.schemas.common import Problem, RowId
from zoneguard.errors import TooLarge, ValidationError
from zoneguard.services.cases import evidence as evidence_service
from zoneguard.services.cases import field as field_service
from zoneguard.settings import local_today

router = APIRouter(tags=["cases"])
_SLACK = 64 * 1024  # the note, the part headers and the boundaries around the file
_UPLOAD = {"requestBody": {"required": True, "content": {"multipart/form-data": {"schema": {
    "type": "object", "required": ["file"],
    "properties": {"file": {"type": "string", "format": "binary",
                            "description": "JPEG、PNG、WebP 照片或 PDF"},
                   "note": {"type": "string", "maxLength": 2000, "description": "说明"}}}}}}}
_PROBLEM = {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}
_UPLOAD_PROBLEMS: dict[int | str, dict[str, Any]] = {
    413: {"description": "文件超过证据大小上限", "model": Problem, "content": _PROBLEM},
    415: {"description": "文件内容不是 JPEG、PNG、WebP 或 PDF，或与声明的类型不符",
          "model": Problem, "content": _PROBLEM},
}
_BINARY = {"schema": {"type": "string", "format": "binary"}}


def _too_large(limit: int) -> TooLarge:
    return TooLarge(f"文件超过证据大小上限 {limit} 字节（ZONEGUARD_EVIDENCE_MAX_BYTES）")


async def _capped(request: Request, limit: int) -> AsyncGenerator[bytes, None]:
    """The request body, refused as soon as it grows past `limit` plus the form's slack."""
    received = 0
    async for chunk in request.stream():
        received += len(chunk)
        if received > limit + _SLACK:
            raise _too_large(limit)
        yield chunk


@router.post("/findings/{finding_id}/evidence", response_model=EvidenceOut,
             status_code=status.HTTP_201_CREATED, openapi_extra=_UPLOAD,
             responses=_UPLOAD_PROBLEMS)
async def upload_evidence(finding_id: RowId, request: Request, session: SessionDep,
                          settings: SettingsDep, key: Reader) -> dict[str, Any]:
    """Upload a photo or PDF (multipart `file`, optional `note`) as evidence of a case.

    Its type is decided by its content and must match its name and declared type (415);
    the body is read only up to the limit (413). Answers the stored row with its sha256.
    """
    limit = settings.evidence_max_bytes
    length = request.headers.get("content-length", "")
    if length.isdigit() and int(length) > limit + _SLACK:
        raise _too_large(limit)
    if not request.headers.get("content-type", "").lower().startswith("multipart/form-data"):
        raise ValidationError("须以 multipart/form-data 上传文件（表单字段 file，可附 note）")
    await run_in_threadpool(evidence_service.may_upload, session, finding_id, caller=key,
                            scope=key.scope)
    parser = MultiPartParser(request.headers, _capped(request, limit), max_files=1,
                             max_fields=1, max_part_size=8 * 1024)
    try:
        form = await parser.parse()
    except MultiPartException as exc:
        raise ValidationError(f"上传内容无法解析：{exc.message}") from None
    try:
        upload, note = form.get("file"), form.get("note")
        if not isinstance(upload, UploadFile):
            raise ValidationError("须上传文件（表单字段 file）")
        if note is not None and not isinstance(note, str):
            raise ValidationError("说明（note）须为文字")
        row = await run_in_threadpool(
            evidence_service.add_evidence, session, finding_id, stream=upload.file,
            filename=upload.filename, media_type=upload.content_type, note=note, caller=key,
            scope=key.scope, settings=settings)
        return evidence_service.as_dict(row)
    finally:
        await form.close()


@router.get("/findings/{finding_id}/evidence", response_model=EvidenceList)
def list_evidence(finding_id: RowId, session: SessionDep, key: Reader) -> dict[str, Any]:
    """The evidence of a case, oldest first (404 outside the caller's scope)."""
    return {"items": evidence_service.list_evidence(session, finding_id, scope=key.scope)}


def content_disposition(filename: str, evidence_id: int, suffix: str) -> str:
    """`attachment` with an ASCII fallback name and the real one as RFC 6266 `filename*`."""
    return (f'attachment; filename="evidence-{evidence_id}{suffix}"; '
            f"filename*=UTF-8''{quote(filename, safe='')}")


@router.get("/evidence/{evidence_id}", response_class=FileResponse,
            responses={200: {"description": "The stored file, as uploaded",
                             "content": dict.fromkeys(evidence_service.KINDS, _BINARY)}})
def download_evidence(evidence_id: RowId, session: SessionDep, settings: SettingsDep,
                      key: Reader) -> FileResponse:
    """Download a piece of evidence, with its stored media type, as an attachment."""
    row, path = evidence_service.open_evidence(session, evidence_id, scope=key.scope,
                                               settings=settings)
    suffix = evidence_service.KINDS[row.media_type][1][0]
    return FileResponse(path, media_type=row.media_type, headers={
        "Content-Disposition": content_disposition(row.filename, row.id, suffix),
        "X-Content-Type-Options": "nosniff", "Cache-Control": "private, no-cache",
        "Content-Security-Policy": "default-src 'none'; sandbox",
        "X-Evidence-SHA256": row.sha256})


@router.post("/findings/{finding_id}/measurements", response_model=MeasurementOut,
             status_code=status.HTTP_201_CREATED)
def record_measurement(finding_id: RowId, body: MeasurementIn, session: SessionDep,
                       settings: SettingsDep, key: Mover) -> dict[str, Any]:
    """Record a distance measured on site; the case's verdict follows it (see `reasons`)."""
    row = field_service.record_measurement(
        session, finding_id, distance_m=body.distance_m, method=body.method,
        instrument=body.instrument, measurers=list(body.measurers),
        measured_on=body.measured_on, evidence_id=body.evidence_id, caller=key,
        scope=key.scope, today=local_today(settings.timezone), settings=settings)
    return field_service.as_dict(row)


@router.get("/findings/{finding_id}/measurements", response_model=MeasurementList)
def list_measurements(finding_id: RowId, session: SessionDep,
                      key: Reader) -> dict[str, Any]:
    """The field measurements of a case, oldest first."""
    return {"items": field_service.list_measurements(session, finding_id, scope=key.scope)}

