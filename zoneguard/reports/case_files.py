"""The evidence of a case as a table of its measurement record (name, type, size, sha256)."""

from __future__ import annotations

from html import escape
from zoneinfo import ZoneInfo

from sqlalchemy import text
from sqlalchemy.orm import Session

from zoneguard.labels import EVIDENCE_TYPE_LABELS

BEIJING = ZoneInfo("Asia/Shanghai")
_EVIDENCE = text("SELECT id, filename, media_type, size_bytes, sha256, uploaded_by, uploaded_at "
                 "FROM evidence WHERE finding_id = :id ORDER BY uploaded_at, id")


def evidence_section(session: Session, finding_id: int) -> str:
    """An HTML section listing a case's evidence, times in Beijing time."""
    rows = session.execute(_EVIDENCE, {"id": finding_id}).all()
    if not rows:
        return "<h2>证据材料</h2><p>尚无证据材料。</p>"
    head = "".join(f"<th>{h}</th>" for h in
                   ("编号", "文件名", "类型", "大小", "SHA-256", "上传人", "上传时间（北京时间）"))
    body = "".join(
        f"<tr><td>{r.id}</td><td>{escape(r.filename)}</td>"
        f"<td>{escape(EVIDENCE_TYPE_LABELS.get(r.media_type, r.media_type))}</td>"
        f"<td>{r.size_bytes} 字节</td><td><code>{r.sha256}</code></td>"
        f"<td>{escape(r.uploaded_by)}</td>"
        f"<td>{r.uploaded_at.astimezone(BEIJING):%Y-%m-%d %H:%M:%S}</td></tr>" for r in rows)
    return (f'<h2>证据材料</h2><table class="evidence"><tr>{head}</tr>{body}</table>'
            "<p>文件按 SHA-256 摘要保存，可据摘要核对下载文件是否与上传时一致。</p>")
