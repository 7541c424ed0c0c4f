"""Keys stay out of logs, pages and links; file names are encoded; school codes may hold '/'."""

from __future__ import annotations

import logging
import threading
from urllib.parse import unquote

import pytest
from fastapi.testclient import TestClient
from shapely.geometry import box
from sqlalchemy.orm import Session

from api.logs import RedactKeys, install_redaction
from api.routes.reports import content_disposition
from tests.api.conftest import KeyMaker
from tests.factories import add_school
from tests.zoneguard.maps.sample import REGION, build_city
from zoneguard.errors import Busy
from zoneguard.reports import printing

TOKEN = "zg_0123456789ab_" + "S" * 43


def test_access_log_lines_never_hold_a_key(caplog: pytest.LogCaptureFixture) -> None:
    install_redaction()
    access = logging.getLogger("uvicorn.access")
    assert any(isinstance(f, RedactKeys) for f in access.filters)
    with caplog.at_level(logging.INFO, logger="uvicorn.access"):
        access.info('%s - "%s %s HTTP/%s" %d', "127.0.0.1:5", "GET",
                    f"/ogc/collections?f=json&api_key={TOKEN}&limit=2", "1.1", 200)
        logging.getLogger("zoneguard.api").error("request with Bearer %s failed", TOKEN)
    text = caplog.text
    assert "S" * 43 not in text
    assert "api_key=***&limit=2" in text and "zg_0123456789ab_***" in text


def test_content_disposition_is_rfc_5987_for_any_name() -> None:
    header = content_disposition("school-学校\r\n一.xlsx")
    assert header.encode("latin-1").isascii() and "\r" not in header and "\n" not in header
    fallback, encoded = header.split("; filename*=UTF-8''")
    assert fallback == 'attachment; filename="school-_____.xlsx"'
    assert unquote(encoded) == "school-学校\r\n一.xlsx"


@pytest.mark.parametrize("code", ["学校-一", "CR\r\nLF", "osm:way/123456789"])
def test_school_sheet_and_map_work_for_unusual_codes(client: TestClient, admin: dict[str, str],
                                                     session: Session, code: str) -> None:
    build_city(session)
    add_school(session, code, box(114.3100, 30.5500, 114.3105, 30.5504), region=REGION)
    path = code.replace("\r", "%0D").replace("\n", "%0A")
    sheet = client.get(f"/reports/schools/{path}.xlsx", headers=admin)
    assert sheet.status_code == 200 and sheet.content.startswith(b"PK")
    saved = unquote(sheet.headers["content-disposition"].split("''")[1])
    assert saved == f"周边场所距离核查表-{code}.xlsx"
    page = client.get(f"/maps/schools/{path}", headers=admin)
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")


def test_map_popups_link_to_working_school_pages(client: TestClient, admin: dict[str, str],
                                                 session: Session) -> None:
    build_city(session)
    add_school(session, "osm:way/77", box(114.3100, 30.5500, 114.3105, 30.5504), region=REGION)
    import json

    page = client.get(f"/maps/city?region={REGION}", headers=admin)
    spec = json.loads(page.text.split('id="zg-spec">')[1].split("</script>")[0])
    hrefs = [link["href"] for overlay in spec["overlays"] if overlay.get("data")
             for feature in overlay["data"]["features"]
             for link in feature["properties"].get("_links", [])
             if link["href"].startswith("/maps/schools/")]
    assert "/maps/schools/osm:way/77" in hrefs
    for href in hrefs:
        assert client.get(href, headers=admin).status_code == 200, href


def test_permitted_map_keeps_to_the_keys_region_and_categories(
        client: TestClient, key_for: KeyMaker, session: Session) -> None:
    build_city(session)
    add_school(session, "4201030009", box(114.3100, 30.5500, 114.3105, 30.5504),
               region="420103")
    import json

    url = "/maps/permitted?category=internet_cafe&bbox=114.29,30.54,114.32,30.56"
    admin = client.get(url, headers=key_for("admin"))
    bureau = client.get(url, headers=key_for("bureau", categories=["internet_cafe"],
                                              region="420102"))

    def codes(response: object) -> set[str]:
        text = response.text  # type: ignore[attr-defined]
        spec = json.loads(text.split('id="zg-spec">')[1].split("</script>")[0])
        schools = next(o for o in spec["overlays"] if o["id"] == "schools")
        return {dict(f["properties"]["_popup"])["学校标识码"]
                for f in schools["data"]["features"]}

    assert "4201030009" in codes(admin)
    assert bureau.status_code == 200 and "4201030009" not in codes(bureau)
    assert "4201020001" in codes(bureau)
    tobacco_only = key_for("bureau", categories=["tobacco"], region="420102")
    assert client.get(url, headers=tobacco_only).status_code == 403


def test_pdf_printing_is_bounded_and_cached(monkeypatch: pytest.MonkeyPatch) -> None:
    printing.clear_cache()
    gate, started, calls = threading.Event(), threading.Semaphore(0), []

    def slow_print(html: str) -> bytes:
        calls.append(html)
        started.release()
        gate.wait(10)
        return b"%PDF-" + html.encode()

    monkeypatch.setattr(printing, "html_to_pdf", slow_print)
    threads = [threading.Thread(target=printing.cached_pdf, args=(f"<p>{i}</p>",))
               for i in range(printing.MAX_PRINTERS)]
    for thread in threads:
        thread.start()
    for _ in threads:
        assert started.acquire(timeout=5)
    with pytest.raises(Busy) as refused:
        printing.cached_pdf("<p>third</p>")
    assert refused.value.retry_after_s > 0
    gate.set()
    for thread in threads:
        thread.join(5)
    assert printing.cached_pdf("<p>0</p>") == b"%PDF-<p>0</p>"
    assert len(calls) == printing.MAX_PRINTERS  # the repeat came from the cache
    printing.clear_cache()


def test_pdf_route_answers_503_with_retry_after_when_printers_are_busy(
        client: TestClient, admin: dict[str, str], session: Session,
        monkeypatch: pytest.MonkeyPatch) -> None:
    city = build_city(session)
    printing.clear_cache()
    monkeypatch.setattr(printing, "_printers", threading.BoundedSemaphore(1))
    assert printing._printers.acquire(timeout=1)
    busy = client.get(f"/reports/findings/{city.cafe_finding}/record.pdf", headers=admin)
    assert busy.status_code == 503 and busy.headers["retry-after"] == "5"
    assert busy.json()["type"] == "urn:zoneguard:problem:busy"
