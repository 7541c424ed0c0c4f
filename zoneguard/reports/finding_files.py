"""Findings as files for scripts and people: JSON, CSV and GeoJSON.

English keys and codes by default; Chinese headers and labels with `labels="zh"`.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Any

from zoneguard.cells import csv_text
from zoneguard.errors import ValidationError
from zoneguard.reports.human import check_labels, header, human_value

FORMATS = ("table", "json", "csv", "geojson")
CSV_COLUMNS = ("id", "state", "verdict", "category", "school_code", "school_name", "licence_no",
               "premises_name", "premises_region", "rule_id", "metric", "distance_m",
               "threshold_m", "field_distance_m", "field_verdict", "effective_verdict",
               "assignee", "deadline", "overdue", "first_seen", "last_seen",
               "resolved_at", "resolution", "existing", "expires_on", "reasons", "lon", "lat")


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def to_json(rows: list[dict[str, Any]]) -> str:
    """A JSON array of findings."""
    return json.dumps([{k: _plain(v) for k, v in r.items()} for r in rows],
                      ensure_ascii=False, indent=2, default=str)


def _labelled(key: str, value: Any, labels: str) -> Any:
    return _plain(value if labels == "en" else human_value(key, value))


def to_csv(rows: list[dict[str, Any]], labels: str = "en") -> str:
    """CSV with a header row; reasons joined by '; ', no geometry beyond lon/lat.

    English keys, codes and UTC times by default; `labels="zh"` for Chinese headers, labels,
    region names and Beijing times.
    """
    check_labels(labels)
    records = ({**r, "reasons": "; ".join(r.get("reasons") or [])} for r in rows)
    headers = CSV_COLUMNS if labels == "en" else [header(c, "findings") for c in CSV_COLUMNS]
    return csv_text(headers, (["" if v.get(c) is None else _labelled(c, v[c], labels)
                               for c in CSV_COLUMNS] for v in records), lineterminator="\n")


def to_geojson(rows: list[dict[str, Any]], labels: str = "en") -> str:
    """A FeatureCollection: the measured line of each finding (the premises point if none)."""
    check_labels(labels)
    features = []
    for r in rows:
        geometry = r.get("line") or {"type": "Point", "coordinates": [r["lon"], r["lat"]]}
        props = {k if labels == "en" else header(k, "findings"): _labelled(k, v, labels)
                 for k, v in r.items() if k not in ("line", "events")}
        features.append({"type": "Feature", "id": r["id"], "geometry": geometry,
                         "properties": props})
    return json.dumps({"type": "FeatureCollection", "features": features},
                      ensure_ascii=False, default=str)


def export(rows: list[dict[str, Any]], fmt: str, labels: str = "en") -> str:
    """Render findings as json, csv or geojson (csv and geojson: `labels` en or zh)."""
    if fmt == "json":
        return to_json(rows)
    if fmt == "csv":
        return to_csv(rows, labels)
    if fmt == "geojson":
        return to_geojson(rows, labels)
    raise ValidationError(f"不支持的导出格式「{fmt}」：可选 json、csv、geojson")
