"""`/api/v1/scans`: start a rescan in the background (409 while one runs), read scan records."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response, status
from sqlalchemy import func, select

from api.auth import Reader, ScanRunner
from api.deps import SessionDep
from api.scans import ScanStarterDep
from api.schemas.common import Limit, Offset, RowId
from api.schemas.scans import ScanIn, ScanOut, ScanPage
from zoneguard.errors import NotFound
from zoneguard.models import Scan

router = APIRouter(prefix="/scans", tags=["scans"])
_FIELDS = ("id", "trigger", "region", "status", "started_at", "finished_at", "rule_set_version",
           "data_versions", "new", "still_open", "resolved", "reopened", "pairs", "error")


def _out(scan: Scan) -> dict[str, Any]:
    return {name: getattr(scan, name) for name in _FIELDS}


@router.post("", response_model=ScanOut, status_code=status.HTTP_202_ACCEPTED)
def start_scan(
    body: ScanIn, session: SessionDep, key: ScanRunner, starter: ScanStarterDep,
    response: Response,
) -> dict[str, Any]:
    """Start a rescan in the background; answers at once with the running scan (409 if busy)."""
    scan_id = starter(region=body.region, full=body.full, actor=key.actor)
    scan = session.get(Scan, scan_id)
    if scan is None:
        raise NotFound(f"排查 {scan_id} 尚不可见，请稍后查询")
    session.refresh(scan)
    response.headers["Location"] = f"/api/v1/scans/{scan_id}"
    return _out(scan)


@router.get("", response_model=ScanPage)
def list_scans(
    session: SessionDep, key: Reader,  # noqa: ARG001 - the key only authorises the read
    limit: Limit = 20, offset: Offset = 0,
) -> dict[str, Any]:
    """Scans, newest first."""
    total = session.scalar(select(func.count()).select_from(Scan)) or 0
    rows = session.scalars(select(Scan).order_by(Scan.id.desc()).limit(limit).offset(offset))
    return {"items": [_out(s) for s in rows], "total": total, "limit": limit, "offset": offset}


@router.get("/{scan_id}", response_model=ScanOut)
def get_scan(
    scan_id: RowId, session: SessionDep, key: Reader,  # noqa: ARG001 - authorises the read
) -> dict[str, Any]:
    """One scan record."""
    scan = session.get(Scan, scan_id)
    if scan is None:
        raise NotFound(f"排查 {scan_id} 不存在")
    return _out(scan)
