"""`zoneguard demo`: the whole product on the bundled sample city, idempotently.

Starts the embedded PostGIS, loads the sample data and the rules, imports the street
networks, rescans, writes the city map and a 一校一表, keeps one demo admin key, and picks
three screenings (prohibited, review, allowed) by actually screening them, so the printed
examples return the verdicts they promise.
"""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from zoneguard.db.engine import session_scope
from zoneguard.demo_data import REAL, load_sample
from zoneguard.errors import Conflict, ZoneGuardError
from zoneguard.maps.city import city_map
from zoneguard.maps.page import render_page
from zoneguard.reports.school_sheet import school_sheet_bytes
from zoneguard.services.access.keys import create_key, verify_key
from zoneguard.services.facilities.check import run_check
from zoneguard.services.ingest.network import import_network, network_status
from zoneguard.services.rulesets import current_rule_set, store_rule_set
from zoneguard.services.scan.run import ScanSummary, run_scan
from zoneguard.services.screening import screen
from zoneguard.settings import Settings, local_today

NETWORKS = (("110108", REAL / "beijing_haidian.osm"), ("440307", REAL / "shenzhen_longgang.osm"))
Step = Callable[[str], None]


@dataclass
class DemoResult:
    """What the demo prepared, for printing."""

    out_dir: Path
    city_map: Path
    school_sheet: Path
    school_code: str
    key: str
    scan: ScanSummary
    examples: list[dict[str, Any]] = field(default_factory=list)
    login: tuple[str, str] = ("", "")  # workbench username and password


def prepare(engine: Engine, settings: Settings, step: Step) -> DemoResult:
    """Load everything and write the demo's files; re-runs change nothing and take seconds."""
    out = settings.home / "demo"
    out.mkdir(parents=True, exist_ok=True)
    with session_scope(engine) as session:
        load_sample(session, settings=settings, progress=lambda item: step(
            f"import {item.kind}: {item.label}"))
        step("rules")
        store_rule_set(session, current_rule_set(settings))
        loaded = {row["region"]: row["file"] for row in network_status(session)}
        for region, path in NETWORKS:
            step(f"street network {path.name}")
            if loaded.get(region) != path.name:
                import_network(session, path=path, region=region, replace=True, actor="demo")
    step("scan")
    summary = run_scan(engine, trigger="manual", wait=True, settings=settings, actor="demo")
    with session_scope(engine) as session:
        step("required facilities check")
        run_check(session, rules=current_rule_set(settings), on=local_today(settings.timezone),
                  actor="demo")
        step("city map")
        city = out / "city_map.html"
        city.write_text(render_page(city_map(session, settings=settings, region="4301"),
                                    standalone=True, settings=settings), encoding="utf-8")
        code = _busiest_school(session)
        step(f"一校一表 for {code}")
        sheet = out / f"school_{re.sub(r'[^A-Za-z0-9_-]+', '_', code)}.xlsx"
        sheet.write_bytes(school_sheet_bytes(session, code=code, settings=settings))
        step("demo admin key")
        key = _demo_key(session, out / "admin-key.txt")
        step("demo workbench login")
        login = _demo_login(session, out / "workbench-login.txt")
        step("example screenings")
        examples = _examples(session, settings)
    return DemoResult(out, city, sheet, code, key, summary, examples, login)


def _busiest_school(session: Session) -> str:
    code = session.execute(text(
        "SELECT s.code FROM finding f JOIN school s ON s.id = f.school_id "
        "WHERE f.state NOT IN ('resolved', 'closed') "
        "GROUP BY s.code ORDER BY count(*) DESC, s.code LIMIT 1")).scalar()
    if code is None:
        code = session.execute(text("SELECT code FROM school ORDER BY code LIMIT 1")).scalar()
    if code is None:
        raise ZoneGuardError("the demo data did not load: no school is registered")
    return str(code)


def _demo_key(session: Session, path: Path) -> str:
    """The demo admin key, kept (mode 0600) in the demo directory and reused while valid."""
    if path.exists():
        token = path.read_text().strip()
        try:
            verify_key(session, token)
            return token
        except ZoneGuardError:
            pass
    token = create_key(session, role="admin", name="demo admin", actor="demo").token
    path.write_text(token + "\n")
    path.chmod(0o600)
    return token


def _demo_login(session: Session, path: Path) -> tuple[str, str]:
    """The demo workbench login (an admin), its password kept (mode 0600) and reused."""
    from zoneguard.services.access.users import check_password, create_user, reset_password

    name = "demo"
    if path.exists():
        password = path.read_text().strip()
        if check_password(session, name, password) is not None:
            return name, password
    password = secrets.token_urlsafe(12)
    try:
        create_user(session, username=name, password=password, role="admin",
                    display_name="演示管理员", actor="demo")
    except Conflict:
        reset_password(session, name, password, actor="demo")
    path.write_text(password + "\n")
    path.chmod(0o600)
    return name, password


_INSIDE = """
SELECT ST_X(pt), ST_Y(pt) FROM (
    SELECT ST_PointOnSurface(boundary) AS pt FROM school
    WHERE precision = 'boundary' AND levels && ARRAY['primary', 'secondary']
    ORDER BY code LIMIT 20) q
"""

# Vertices of a 201 m geodesic buffer (drawing) around campuses: candidates for the review
# band of a 200 m rule. Screening, not the buffer, decides what each one is.
_RING = """
SELECT ST_X(pt), ST_Y(pt) FROM (
    SELECT (ST_DumpPoints(ST_Buffer(geography(ST_GeometryN(boundary, 1)), 201,
                                    'quad_segs=2')::geometry)).geom AS pt
    FROM school
    WHERE precision = 'boundary' AND levels && ARRAY['primary', 'secondary']
    ORDER BY code LIMIT 40) q
"""


def _examples(session: Session, settings: Settings) -> list[dict[str, Any]]:
    """Screen candidate points until one of each verdict is found."""
    wanted: dict[str, dict[str, Any]] = {}
    candidates = [(float(x), float(y)) for x, y in session.execute(text(_INSIDE)).all()]
    candidates += [(float(x), float(y)) for x, y in session.execute(text(_RING)).all()]
    candidates.append((112.8600, 28.0300))  # 天心区 outskirts, far from every campus
    for lon, lat in candidates:
        result = screen(session, category="internet_cafe", point=(lon, lat), store=False,
                        settings=settings)
        verdict = result.verdict.value
        if verdict not in wanted:
            wanted[verdict] = {"verdict": verdict, "category": "internet_cafe",
                               "location": {"lon": round(lon, 7), "lat": round(lat, 7),
                                            "crs": "wgs84"},
                               "why": result.reasons[0] if result.reasons else ""}
        if len(wanted) == 3:
            break
    return [wanted[v] for v in ("prohibited", "review", "allowed") if v in wanted]


def curl_example(base_url: str, key: str, example: dict[str, Any]) -> str:
    """A copy-pasteable curl command for one example screening."""
    body = json.dumps({"category": example["category"], "location": example["location"]},
                      ensure_ascii=False)
    return (f"curl -s -X POST {base_url}/api/v1/screenings -H 'Authorization: Bearer {key}' "
            f"-H 'Content-Type: application/json' -d '{body}'")
