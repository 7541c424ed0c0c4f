"""Evidence of a case: photos and PDFs, checked by their bytes and stored by their sha256.

A file is kept under `$ZONEGUARD_HOME/evidence/<aa>/<sha256>` (`aa`: the digest's first two
hex digits), written to a temporary file in the same directory tree, synced, then renamed
into place, so a reader never sees half a file; the same content uploaded twice is stored
once. Its type is decided by its magic bytes (JPEG, PNG, WebP, PDF) and must agree with the
name and the media type the uploader declared. Nothing is stripped, converted or opened.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from sqlalchemy import select
from sqlalchemy.orm import Session

from zoneguard.errors import Forbidden, NotFound, TooLarge, UnsupportedFile, ValidationError
from zoneguard.labels import EVIDENCE_TYPE_LABELS
from zoneguard.models import Evidence, Finding, Premises, School
from zoneguard.services.access.audit import audit
from zoneguard.services.access.keys import Scope
from zoneguard.services.access.principal import ROLE_LABELS
from zoneguard.services.cases.findings import scoped
from zoneguard.services.cases.flow import REPORT
from zoneguard.services.cases.workflow import Caller
from zoneguard.settings import Settings

CHUNK = 1 << 16
_HEAD = 12  # bytes enough for every signature below
# Media type → (Chinese name, the file-name extensions that may carry it).
_SUFFIXES = {"image/jpeg": (".jpg", ".jpeg", ".jpe"), "image/png": (".png",),
             "image/webp": (".webp",), "application/pdf": (".pdf",)}
KINDS: dict[str, tuple[str, tuple[str, ...]]] = {
    media: (EVIDENCE_TYPE_LABELS[media], suffixes) for media, suffixes in _SUFFIXES.items()}
_ALIASES = {"image/jpg": "image/jpeg", "image/pjpeg": "image/jpeg",
            "application/x-pdf": "application/pdf"}
_GENERIC = {"", "application/octet-stream", "binary/octet-stream"}
_UNSAFE = re.compile(r"[\x00-\x1f\x7f/\\]+")
MAX_NAME = 200


@dataclass(frozen=True)
class Received:
    """A file written to a temporary place: its digest, size and first bytes."""

    path: Path
    sha256: str
    size_bytes: int
    head: bytes


def sniff(head: bytes) -> str | None:
    """The media type told by a file's first bytes (JPEG, PNG, WebP, PDF), else None."""
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    if head.startswith(b"%PDF-"):
        return "application/pdf"
    return None


def clean_name(filename: str | None) -> str:
    """The uploaded file's own name without directories or control characters."""
    name = (filename or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = _UNSAFE.sub("_", name).strip().lstrip(".")
    return name[-MAX_NAME:] or "upload"


def check_type(head: bytes, filename: str, declared: str | None) -> str:
    """The file's media type by content; refused when unknown or unlike what was declared."""
    detected = sniff(head)
    accepted = "、".join(label for label, _ in KINDS.values())
    if detected is None:
        raise UnsupportedFile(f"文件“{filename}”的内容不是可接受的证据格式（{accepted}）")
    label, suffixes = KINDS[detected]
    suffix = Path(filename).suffix.lower()
    if suffix and suffix not in suffixes:
        raise UnsupportedFile(f"文件“{filename}”的扩展名 {suffix} 与其内容（{label}）不符")
    claimed = (declared or "").split(";")[0].strip().lower()
    claimed = _ALIASES.get(claimed, claimed)
    if claimed not in _GENERIC and claimed != detected:
        raise UnsupportedFile(f"文件“{filename}”声明的类型 {claimed} 与其内容（{label}）不符")
    return detected


def store_root(settings: Settings) -> Path:
    """Where evidence files live: `$ZONEGUARD_HOME/evidence`."""
    return settings.home / "evidence"


def path_of(settings: Settings, sha256: str) -> Path:
    """The stored file of a digest."""
    if not re.fullmatch(r"[0-9a-f]{64}", sha256):
        raise ValidationError(f"不是 sha256 摘要：{sha256!r}")
    return store_root(settings) / sha256[:2] / sha256


def receive(stream: BinaryIO, settings: Settings) -> Received:
    """Copy a stream to a temporary file, hashing it; refused past the size limit."""
    limit = settings.evidence_max_bytes
    spool = store_root(settings) / ".incoming"
    spool.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix="upload-", dir=spool)
    digest, size, head = hashlib.sha256(), 0, b""
    try:
        with os.fdopen(fd, "wb") as out:
            while chunk := stream.read(CHUNK):
                size += len(chunk)
                if size > limit:
                    raise TooLarge(f"文件超过证据大小上限 {limit} 字节"
                                   "（ZONEGUARD_EVIDENCE_MAX_BYTES）")
                if len(head) < _HEAD:
                    head += chunk[:_HEAD - len(head)]
                digest.update(chunk)
                out.write(chunk)
            out.flush()
            os.fsync(out.fileno())
    except BaseException:
        Path(name).unlink(missing_ok=True)
        raise
    if size == 0:
        Path(name).unlink(missing_ok=True)
        raise ValidationError("文件为空")
    return Received(Path(name), digest.hexdigest(), size, head)


def _keep(received: Received, settings: Settings) -> Path:
    target = path_of(settings, received.sha256)
    target.parent.mkdir(parents=True, exist_ok=True)
    if target.is_file() and target.stat().st_size == received.size_bytes:
        received.path.unlink(missing_ok=True)  # the same content is already stored
    else:
        os.replace(received.path, target)  # atomic on one file system
        target.chmod(0o640)
    return target


def reachable(session: Session, finding_id: int, scope: Scope | None) -> Finding:
    """The finding if the scope reaches it (NotFound otherwise, saying so in Chinese)."""
    query = select(Finding).outerjoin(Premises, Premises.id == Finding.premises_id) \
        .join(School, School.id == Finding.school_id).where(Finding.id == finding_id)
    finding: Finding | None = session.scalars(scoped(query, scope)).first()
    if finding is None:
        outside = "" if scope is None or scope.unrestricted else "或不在您的权限范围内"
        raise NotFound(f"问题 {finding_id} 不存在{outside}")
    return finding


def may_upload(session: Session, finding_id: int, *, caller: Caller,
               scope: Scope | None) -> Finding:
    """The case, if the caller may add evidence to it (checked before a byte is read)."""
    if caller.role not in REPORT:
        raise Forbidden(f"“{ROLE_LABELS[caller.role]}”角色不能上传证据材料")
    return reachable(session, finding_id, scope)


def add_evidence(
    session: Session, finding_id: int, *, stream: BinaryIO, filename: str | None,
    media_type: str | None, note: str | None, caller: Caller, scope: Scope | None,
    settings: Settings,
) -> Evidence:
    """Store an uploaded file as evidence of a case the caller reaches; answers its row."""
    finding = may_upload(session, finding_id, caller=caller, scope=scope)
    name = clean_name(filename)
    note = (note or "").strip() or None
    if note is not None and len(note) > 2000:
        raise ValidationError("说明不能超过 2000 字")
    received = receive(stream, settings)
    try:
        detected = check_type(received.head, name, media_type)
    except BaseException:
        received.path.unlink(missing_ok=True)
        raise
    _keep(received, settings)
    row = Evidence(finding_id=finding.id, sha256=received.sha256, size_bytes=received.size_bytes,
                   media_type=detected, filename=name, note=note, uploaded_by=caller.actor)
    session.add(row)
    session.flush()
    audit(session, actor=caller.actor, action="evidence.upload", entity="finding",
          entity_id=finding.id, after={"evidence_id": row.id, "filename": name,
                                       "media_type": detected, "sha256": received.sha256,
                                       "size_bytes": received.size_bytes})
    return row


def as_dict(row: Evidence) -> dict[str, Any]:
    """An evidence row as people and clients read it."""
    return {"id": row.id, "finding_id": row.finding_id, "filename": row.filename,
            "media_type": row.media_type, "type_name": KINDS[row.media_type][0]
            if row.media_type in KINDS else row.media_type,
            "size_bytes": row.size_bytes, "sha256": row.sha256, "note": row.note,
            "uploaded_by": row.uploaded_by, "uploaded_at": row.uploaded_at}


def list_evidence(session: Session, finding_id: int,
                  scope: Scope | None = None) -> list[dict[str, Any]]:
    """The evidence of a case the scope reaches, oldest first."""
    reachable(session, finding_id, scope)
    rows = session.scalars(select(Evidence).where(Evidence.finding_id == finding_id)
                           .order_by(Evidence.uploaded_at, Evidence.id)).all()
    return [as_dict(r) for r in rows]


def open_evidence(session: Session, evidence_id: int, *, scope: Scope | None,
                  settings: Settings) -> tuple[Evidence, Path]:
    """An evidence row and its stored file, if the scope reaches its case."""
    row = session.get(Evidence, evidence_id)
    if row is not None:
        try:
            reachable(session, row.finding_id, scope)
        except NotFound:
            row = None
    if row is None:
        outside = "" if scope is None or scope.unrestricted else "或不在您的权限范围内"
        raise NotFound(f"证据材料 {evidence_id} 不存在{outside}")
    path = path_of(settings, row.sha256)
    if not path.is_file() or path.stat().st_size != row.size_bytes:
        raise NotFound(f"证据材料 {evidence_id} 的文件缺失或已损坏（sha256 {row.sha256}）")
    return row, path
