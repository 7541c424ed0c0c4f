"""A bounded schemathesis run over the whole OpenAPI: no 5xx, no response outside the schema.

Every operation gets hand-written valid requests against seeded data (so the success paths are
checked too) and then a dozen generated ones; the run is deterministic and bounded in time.
"""

from __future__ import annotations

import time
from typing import Any

import schemathesis
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)
from shapely.geometry import box
from sqlalchemy import text
from sqlalchemy.orm import Session

from tests.factories import add_school
from zoneguard.services.screening import screen
from zoneguard.settings import Settings

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_schema_conformance]
EXAMPLES_PER_OPERATION = 12
BUDGET_S = 60.0
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00\xff\xd9"
CSV = b"licence_no,name,category,region,lon,lat\nFZ-1,fuzz,tobacco,430103,112.98,28.19\n"


def _seed(session: Session, api_settings: Settings) -> dict[str, Any]:
    school = add_school(session, "FUZZ-1", box(114.0, 30.5, 114.002, 30.502), region="420102")
    premises = session.execute(text(
        "INSERT INTO premises (category, licence_no, name, region, location) VALUES "
        "('tobacco', 'FUZZ-P', 'p', '420102', ST_SetSRID(ST_MakePoint(114.003, 30.501), 4326))"
        " RETURNING id")).scalar_one()
    finding = session.execute(text(
        "INSERT INTO finding (school_id, premises_id, rule_id, metric, verdict, threshold_m) "
        "VALUES (:s, :p, 't.tobacco', 'boundary', 'prohibited', 100) RETURNING id"),
        {"s": school, "p": premises}).scalar_one()
    record = screen(session, category="tobacco", point=(114.003, 30.501),
                    settings=api_settings).record_id
    return {"school": school, "premises": premises, "finding": finding, "screening": record}


def _explicit(ids: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    point = {"lon": 114.0025, "lat": 30.501}
    geo = {"Accept": "application/geo+json"}
    cases: dict[str, list[dict[str, Any]]] = {
        "POST /api/v1/screenings": [{"body": {"category": "internet_cafe", "location": point}}],
        "GET /api/v1/screenings/{screening_id}": [
            {"path_parameters": {"screening_id": ids["screening"]}}],
        "GET /api/v1/schools": [{"query": {"bbox": "113,30,115,31"}}, {"headers": geo}],
        "POST /api/v1/schools": [{"body": {"code": "FZ-S", "name": "s", "levels": ["primary"],
                                           "geometry": {"type": "Point",
                                                        "coordinates": [114.1, 30.6]}}}],
        "GET /api/v1/schools/{school_id}": [{"path_parameters": {"school_id": ids["school"]}}],
        "PATCH /api/v1/schools/{school_id}": [
            {"path_parameters": {"school_id": ids["school"]}, "body": {"enrolment": 10}}],
        "GET /api/v1/premises": [{"query": {"category": "tobacco"}}, {"headers": geo}],
        "POST /api/v1/premises": [{"body": {"category": "lottery", "licence_no": "FZ-L",
                                            "name": "l", "location": point}}],
        "GET /api/v1/premises/{premises_id}": [
            {"path_parameters": {"premises_id": ids["premises"]}}],
        "PATCH /api/v1/premises/{premises_id}": [
            {"path_parameters": {"premises_id": ids["premises"]},
             "body": {"status": "suspended", "location": {"lon": 114.0031, "lat": 30.5011}}}],
        "POST /api/v1/imports": [{"body": {"file": CSV, "kind": "premises", "crs": "wgs84"},
                                  "media_type": "multipart/form-data",
                                  "multipart_content_types": {"file": "text/csv"}}],
        "GET /api/v1/rules": [{"query": {"region": "4201", "on": "2025-01-01"}}],
        "GET /api/v1/findings": [{"query": {"state": "active"}}, {"headers": geo}],
        "GET /api/v1/findings/{finding_id}": [{"path_parameters": {"finding_id": ids["finding"]}}],
        "POST /api/v1/findings/{finding_id}/actions": [
            {"path_parameters": {"finding_id": ids["finding"]}, "body": {"action": "report"}}],
        "GET /api/v1/workflow": [{}],
        "GET /api/v1/reports/period": [{"query": {"period": "2026-11", "by": "unit"}}],
        "POST /api/v1/scans": [{"body": {"region": "11"}}],  # no data there: findings stay
        "GET /api/v1/scans": [{}],
        "POST /api/v1/findings/{finding_id}/evidence": [
            {"path_parameters": {"finding_id": ids["finding"]}, "body": {"file": JPEG},
             "media_type": "multipart/form-data",
             "multipart_content_types": {"file": "image/jpeg"}}],
        "GET /api/v1/findings/{finding_id}/evidence": [
            {"path_parameters": {"finding_id": ids["finding"]}}],
        "POST /api/v1/findings/{finding_id}/measurements": [
            {"path_parameters": {"finding_id": ids["finding"]},
             "body": {"distance_m": 120.0, "method": "卷尺", "instrument": "钢卷尺",
                      "measurers": ["甲", "乙"], "measured_on": "2025-01-02"}}],
        "GET /api/v1/findings/{finding_id}/measurements": [
            {"path_parameters": {"finding_id": ids["finding"]}}],
        "GET /api/v1/supervision": [{"query": {"region": "42"}}],
        "GET /api/v1/supervision/orders": [{}],
        "GET /api/v1/interviews": [{}],
        "GET /api/v1/audit": [{"query": {"entity": "finding"}}],
    }
    for layer, fid in (("schools", ids["school"]), ("zones", f"{ids['school']}-200"),
                       ("premises", ids["premises"]), ("findings", ids["finding"])):
        cases.setdefault("GET /ogc/collections/{collection_id}", []).append(
            {"path_parameters": {"collection_id": layer}})
        cases.setdefault("GET /ogc/collections/{collection_id}/items", []).append(
            {"path_parameters": {"collection_id": layer}, "query": {"limit": 2}})
        cases.setdefault("GET /ogc/collections/{collection_id}/items/{feature_id}", []).append(
            {"path_parameters": {"collection_id": layer, "feature_id": str(fid)}})
    return cases


def test_fuzzing_every_operation_finds_no_server_error_or_schema_violation(
    app: FastAPI, client: TestClient, admin: dict[str, str],  # noqa: ARG001 - binds the session
    session: Session, api_settings: Settings,
) -> None:
    ids = _seed(session, api_settings)
    explicit = _explicit(ids)
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    labels = {operation.label for operation in operations}
    assert set(explicit) <= labels
    started = time.monotonic()
    succeeded: set[str] = set()
    for operation in operations:
        assert time.monotonic() - started < BUDGET_S, f"budget spent before {operation.label}"
        if operation.label.endswith("/actions"):  # generated scans may have resolved it
            session.execute(text("UPDATE finding SET state = 'found', resolved_at = NULL "
                                 "WHERE id = :id"), {"id": ids["finding"]})
        for kwargs in explicit.get(operation.label, []):
            headers = {**admin, **kwargs.pop("headers", {})}
            response = operation.Case(**kwargs).call_and_validate(headers=headers,
                                                                  checks=CHECKS)
            assert response.status_code < 300, (operation.label, response.text)
            succeeded.add(operation.label)

        @given(case=operation.as_strategy())
        @settings(max_examples=EXAMPLES_PER_OPERATION, deadline=None, database=None,
                  derandomize=True, phases=[Phase.explicit, Phase.generate],
                  suppress_health_check=list(HealthCheck))
        def exercise(case: schemathesis.Case) -> None:
            case.call_and_validate(headers=admin, checks=CHECKS)

        exercise()
    assert succeeded == set(explicit)
