"""What the screening pages read and write beyond the screening service."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from zoneguard.maps.basemaps import basemap_for
from zoneguard.services.access.keys import Scope
from zoneguard.settings import Settings

PICK_SCHOOLS_MAX = 3000
_SCHOOLS = text("""
SELECT name, ST_X(ST_PointOnSurface(COALESCE(boundary, location))) AS lon,
       ST_Y(ST_PointOnSurface(COALESCE(boundary, location))) AS lat
FROM school
WHERE (CAST(:prefix AS text) IS NULL OR region LIKE CAST(:prefix AS text) || '%')
ORDER BY id LIMIT :limit
""")
_APPLICATION = text("""
UPDATE screening SET request = request || jsonb_build_object('application', CAST(:app AS jsonb))
WHERE id = :id
""")
CHINA_CENTRE = (116.3975, 39.9087)  # 天安门, when no school is known yet


def pick_spec(session: Session, *, scope: Scope, settings: Settings) -> dict[str, Any]:
    """What the point-picking map shows: the schools in scope and the basemap tiles."""
    rows = session.execute(_SCHOOLS, {"prefix": scope.region_prefix,
                                      "limit": PICK_SCHOOLS_MAX}).all()
    basemap = basemap_for(settings)
    schools = [[round(r.lon, 7), round(r.lat, 7), r.name] for r in rows]
    if schools:
        lons, lats = [s[0] for s in schools], [s[1] for s in schools]
        bounds = [[min(lats), min(lons)], [max(lats), max(lons)]]
    else:
        bounds = [[CHINA_CENTRE[1] - 0.05, CHINA_CENTRE[0] - 0.05],
                  [CHINA_CENTRE[1] + 0.05, CHINA_CENTRE[0] + 0.05]]
    return {"schools": schools, "bounds": bounds, "tiles": basemap.tiles,
            "attribution": basemap.attribution,
            "click_crs": "gcj02" if basemap.display_crs == "gcj02" else "wgs84"}


def store_application(session: Session, screening_id: int, application: dict[str, str]) -> None:
    """Keep the application number, applicant and mode in the screening's stored request."""
    session.execute(_APPLICATION, {"id": screening_id,
                                   "app": json.dumps(application, ensure_ascii=False)})
