"""Evidence uploads: checked by content, stored by sha256 atomically, scoped, listed, recorded."""

from __future__ import annotations

import hashlib
import io
import zlib
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import pytest
from shapely.geometry import Point, box
from sqlalchemy import text
from sqlalchemy.orm import Session

from tests.factories import add_finding, add_premises, add_school, write_rules
from tests.oracle import from_local
from zoneguard.domain import Role
from zoneguard.errors import Forbidden, NotFound, TooLarge, UnsupportedFile, ValidationError
from zoneguard.reports.record import finding_record_html
from zoneguard.services.access.keys import Scope
from zoneguard.services.cases.evidence import add_evidence, list_evidence, open_evidence, sniff
from zoneguard.services.cases.findings import get_finding
from zoneguard.services.cases.workflow import act
from zoneguard.settings import Settings

TODAY = date.today()
LON, LAT = 114.0, 30.5


@dataclass(frozen=True)
class Who:
    actor: str
    role: Role


BUREAU = Who("key:7:洪山区市场监管局", Role.BUREAU)
ZONGZHI = Who("user:综治办王科长(wang)", Role.GOVERNANCE)
CHECKER = Who("user:综治办李验收(li)", Role.GOVERNANCE)
VIEWER = Who("key:8:viewer", Role.VIEWER)


def jpeg(payload: bytes = b"photo") -> bytes:
    """A JPEG by its markers (SOI, APP0 JFIF, a comment, EOI): enough for a content check."""
    app0 = b"\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
    parts = [payload[i:i + 65000] for i in range(0, len(payload), 65000)] or [b""]
    comments = b"".join(b"\xff\xfe" + (len(p) + 2).to_bytes(2, "big") + p for p in parts)
    return b"\xff\xd8" + app0 + comments + b"\xff\xd9"


def png() -> bytes:
    """A valid 1×1 PNG."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return len(data).to_bytes(4, "big") + body + zlib.crc32(body).to_bytes(4, "big")
    header = (1).to_bytes(4, "big") * 2 + b"\x08\x00\x00\x00\x00"
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
            + chunk(b"IDAT", zlib.compress(b"\x00\x00")) + chunk(b"IEND", b""))


PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
WEBP = (b"RIFF\x1a\x00\x00\x00WEBPVP8L\x0d\x00\x00\x00/\x00\x00\x00"
        b"\x10\x07\x10\x11\x11\x88\x88\xfe\x07\x00")


@pytest.fixture
def cfg(settings: Settings, tmp_path: Path) -> Settings:
    return settings.model_copy(update={"home": tmp_path / "home",
                                       "rules_dir": write_rules(tmp_path / "rules"),
                                       "evidence_max_bytes": 4096})


@pytest.fixture
def finding(session: Session) -> int:
    school = add_school(session, "EV1", from_local(box(-100, -100, 100, 100), LON, LAT),
                        region="420102")
    p = from_local(Point(0, -200), LON, LAT)
    premises = add_premises(session, "internet_cafe", p.x, p.y, region="420102")
    return add_finding(session, school, premises, rule_id="t.internet_cafe")


def upload(session: Session, cfg: Settings, finding: int, data: bytes, name: str = "现场.jpg",
           media_type: str | None = "image/jpeg", who: Who = BUREAU,
           scope: Scope | None = None, note: str | None = None) -> int:
    row = add_evidence(session, finding, stream=io.BytesIO(data), filename=name,
                       media_type=media_type, note=note, caller=who, scope=scope, settings=cfg)
    return row.id


def stored(cfg: Settings) -> list[Path]:
    root = cfg.home / "evidence"
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


def test_the_signatures_are_told_by_content_only() -> None:
    assert [sniff(b[:12]) for b in (jpeg(), png(), WEBP, PDF)] == [
        "image/jpeg", "image/png", "image/webp", "application/pdf"]
    assert sniff(b"GIF89a\x01\x00") is None and sniff(b"RIFF\x00\x00\x00\x00WAVE") is None
    assert sniff(b"<html>") is None and sniff(b"") is None


def test_an_upload_is_stored_by_its_sha256_listed_and_audited(
        session: Session, cfg: Settings, finding: int) -> None:
    data = jpeg(b"\xe6\xa0\xa1\xe9\x97\xa8 exif kept" * 10)
    evidence = upload(session, cfg, finding, data, note="校门口招牌")
    digest = hashlib.sha256(data).hexdigest()
    path = cfg.home / "evidence" / digest[:2] / digest
    assert stored(cfg) == [path] and path.read_bytes() == data  # nothing stripped
    (item,) = list_evidence(session, finding)
    assert item["id"] == evidence and item["sha256"] == digest
    assert item["size_bytes"] == len(data) and item["media_type"] == "image/jpeg"
    assert item["uploaded_by"] == BUREAU.actor and item["filename"] == "现场.jpg"
    assert item["note"] == "校门口招牌"
    assert [e["sha256"] for e in get_finding(session, finding)["evidence"]] == [digest]
    row, opened = open_evidence(session, evidence, scope=None, settings=cfg)
    assert opened == path and row.media_type == "image/jpeg"
    audit = session.execute(text("SELECT actor, after->>'sha256' FROM audit_log WHERE "
                                 "action = 'evidence.upload' AND entity_id = :f"),
                            {"f": str(finding)}).one()
    assert tuple(audit) == (BUREAU.actor, digest)


def test_the_same_content_twice_is_stored_once(
        session: Session, cfg: Settings, finding: int) -> None:
    upload(session, cfg, finding, PDF, "通知书.pdf", "application/pdf")
    upload(session, cfg, finding, PDF, "copy.PDF", None)
    upload(session, cfg, finding, png(), "a.png", "image/png")
    upload(session, cfg, finding, WEBP, "b.webp", "application/octet-stream")
    assert len(list_evidence(session, finding)) == 4 and len(stored(cfg)) == 3


@pytest.mark.parametrize(("data", "name", "media_type", "message"), [
    (b"MZ\x90\x00 an executable", "photo.jpg", "image/jpeg", "不是可接受的证据格式"),
    (b"<svg onload=alert(1)>", "x.svg", "image/svg+xml", "不是可接受的证据格式"),
    (b"GIF89a\x01\x00\x01\x00", "a.gif", "image/gif", "不是可接受的证据格式"),
    (png(), "photo.jpg", "image/jpeg", "扩展名 .jpg 与其内容（PNG 图片）不符"),
    (jpeg(), "photo.jpg", "image/png", "声明的类型 image/png 与其内容（JPEG 图片）不符"),
    (PDF, "report.pdf.exe", None, "扩展名 .exe"),
    (jpeg(), "photo.html", "text/html", "扩展名 .html"),
])
def test_content_not_accepted_or_unlike_its_claim_is_refused_and_nothing_kept(
        session: Session, cfg: Settings, finding: int, data: bytes, name: str,
        media_type: str | None, message: str) -> None:
    with pytest.raises(UnsupportedFile, match=message):
        upload(session, cfg, finding, data, name, media_type)
    assert list_evidence(session, finding) == [] and stored(cfg) == []


def test_a_file_over_the_limit_or_empty_is_refused_while_reading(
        session: Session, cfg: Settings, finding: int) -> None:
    class Endless(io.RawIOBase):
        """A stream that never ends: the limit must stop the reading."""

        reads = 0

        def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
            self.reads += 1
            buffer[:] = b"\xff" * len(buffer)
            return len(buffer)

    endless = Endless()
    with pytest.raises(TooLarge, match="4096 字节"):
        add_evidence(session, finding, stream=endless, filename="big.jpg",  # type: ignore[arg-type]
                     media_type=None, note=None, caller=BUREAU, scope=None, settings=cfg)
    assert endless.reads <= 2  # one 64 KiB chunk is past 4 KiB
    with pytest.raises(ValidationError, match="文件为空"):
        upload(session, cfg, finding, b"")
    upload(session, cfg, finding, jpeg(b"x" * (4096 - len(jpeg(b"")))))  # exactly the limit
    assert len(stored(cfg)) == 1 and len(list_evidence(session, finding)) == 1


def test_uploads_are_scoped_and_need_a_role_that_reports(
        session: Session, cfg: Settings, finding: int) -> None:
    with pytest.raises(Forbidden, match="“只读”角色不能上传证据材料"):
        upload(session, cfg, finding, jpeg(), who=VIEWER)
    with pytest.raises(NotFound, match="不在您的权限范围内"):
        upload(session, cfg, finding, jpeg(), scope=Scope(categories=frozenset({"tobacco"})))
    with pytest.raises(NotFound, match="不在您的权限范围内"):
        list_evidence(session, finding, scope=Scope(region_prefix="44"))
    evidence = upload(session, cfg, finding, jpeg(), scope=Scope(region_prefix="4201"))
    with pytest.raises(NotFound, match=f"证据材料 {evidence} 不存在或不在您的权限范围内"):
        open_evidence(session, evidence, scope=Scope(region_prefix="44"), settings=cfg)
    assert len(stored(cfg)) == 1


def test_a_name_with_directories_keeps_only_its_last_part(
        session: Session, cfg: Settings, finding: int) -> None:
    upload(session, cfg, finding, jpeg(), "../../etc/\x00passwd.jpg")
    upload(session, cfg, finding, jpeg(b"2"), "C:\\Users\\a\\.hidden.jpg")
    names = [e["filename"] for e in list_evidence(session, finding)]
    assert names == ["_passwd.jpg", "hidden.jpg"]
    assert all(p.parent.parent == cfg.home / "evidence" for p in stored(cfg))


def test_an_upload_lets_submit_and_accept_pass(
        session: Session, cfg: Settings, finding: int) -> None:
    def step(action: str, who: Who, **kw: object) -> str:
        return act(session, finding, action=action, caller=who, today=TODAY, settings=cfg,
                   **kw).state  # type: ignore[arg-type]

    step("report", BUREAU)
    step("assign", ZONGZHI, assignee="洪山区市场监管局", deadline=TODAY + timedelta(days=9))
    step("start", BUREAU)
    with pytest.raises(ValidationError, match="须上传至少一份证据材料"):
        step("submit", BUREAU, comment="已责令停业")
    upload(session, cfg, finding, jpeg(), "停业照片.jpg")
    assert step("submit", BUREAU, comment="已责令停业") == "to_accept"
    session.execute(text("UPDATE premises SET status = 'closed' WHERE id = "
                         "(SELECT premises_id FROM finding WHERE id = :f)"), {"f": finding})
    assert step("accept", CHECKER) == "accepted"


def test_the_measurement_record_lists_the_evidence(
        session: Session, cfg: Settings, finding: int) -> None:
    data = png()
    upload(session, cfg, finding, data, "整改<后>.png", "image/png")
    html = finding_record_html(session, finding_id=finding)
    assert "证据材料" in html and "整改&lt;后&gt;.png" in html
    assert hashlib.sha256(data).hexdigest() in html and BUREAU.actor in html
    assert "PNG 图片" in html and f"{len(data)} 字节" in html
