"""Finding a place by its name or address: an offline geocoder over the registry, or 天地图.

`OfflineGeocoder` searches the imported schools' and premises' names and addresses (every
word of the query must appear; exact and prefix matches first), within the caller's scope.
`TiandituGeocoder` asks the 天地图 geocoding service (needs `ZONEGUARD_TIANDITU_KEY`; its
CGCS2000 coordinates are used as WGS 84, which they match to centimetres). Both return
positions in WGS 84 (EPSG:4326), degrees.
"""

from __future__ import annotations

import json
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any, Protocol

from sqlalchemy import text
from sqlalchemy.orm import Session

from zoneguard.errors import ValidationError, ZoneGuardError
from zoneguard.services.access.keys import Scope
from zoneguard.settings import Settings

MAX_QUERY = 100
TIANDITU_URL = "https://api.tianditu.gov.cn/geocoder"


class GeocoderUnavailable(ZoneGuardError):
    """The configured online geocoder did not answer."""

    status = 503
    type = "urn:zoneguard:problem:geocoder-unavailable"
    title = "地址解析服务不可用"


@dataclass(frozen=True)
class Place:
    """One candidate position for a query: WGS 84 degrees."""

    label: str
    address: str | None
    kind: str  # school | premises | tianditu
    lon: float
    lat: float

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready place."""
        return asdict(self)


class Geocoder(Protocol):
    """Anything that turns a query into candidate places."""

    def search(self, session: Session, query: str, *, scope: Scope,
               limit: int = 10) -> list[Place]:
        """Candidate places for a name or address, best first."""
        ...


def _words(query: str) -> list[str]:
    cleaned = " ".join(query.split())
    if not cleaned:
        raise ValidationError("请输入要查找的名称或地址")
    if len(cleaned) > MAX_QUERY:
        raise ValidationError(f"查询过长（最多 {MAX_QUERY} 个字符）")
    return cleaned.split(" ")


def _like(word: str) -> str:
    escaped = word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


_OFFLINE = text("""
SELECT kind, name, address, lon, lat FROM (
  SELECT 'school' AS kind, name, address, ST_X(location) AS lon, ST_Y(location) AS lat,
         CASE WHEN name = :query THEN 0 WHEN starts_with(name, :query) THEN 1 ELSE 2 END AS rank
  FROM school
  WHERE name || ' ' || coalesce(address, '') ILIKE ALL (CAST(:patterns AS text[]))
    AND (CAST(:region AS text) IS NULL OR region LIKE CAST(:region AS text) || '%')
  UNION ALL
  SELECT 'premises', name, address, ST_X(location), ST_Y(location),
         CASE WHEN name = :query THEN 0 WHEN starts_with(name, :query) THEN 1 ELSE 2 END
  FROM premises
  WHERE name || ' ' || coalesce(address, '') ILIKE ALL (CAST(:patterns AS text[]))
    AND (CAST(:region AS text) IS NULL OR region LIKE CAST(:region AS text) || '%')
    AND (CAST(:categories AS text[]) IS NULL OR category = ANY(CAST(:categories AS text[])))
) found
ORDER BY rank, length(name), name
LIMIT :limit
""")


class OfflineGeocoder:
    """Names and addresses of the imported schools and premises (works with no network)."""

    def search(self, session: Session, query: str, *, scope: Scope,
               limit: int = 10) -> list[Place]:
        """Schools and premises whose name and address hold every word of the query."""
        words = _words(query)
        rows = session.execute(_OFFLINE, {
            "query": " ".join(words), "patterns": [_like(w) for w in words],
            "region": scope.region_prefix,
            "categories": None if scope.categories is None else sorted(scope.categories),
            "limit": max(1, min(limit, 50))}).all()
        return [Place(r.name, r.address, r.kind, float(r.lon), float(r.lat)) for r in rows]


Fetch = Callable[[str], bytes]


def _fetch(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=5) as reply:  # noqa: S310 - a fixed https URL
        body: bytes = reply.read(1_000_000)
        return body


class TiandituGeocoder:
    """The 天地图 geocoding service (a key from https://console.tianditu.gov.cn/)."""

    def __init__(self, key: str, fetch: Fetch = _fetch) -> None:
        if not key:
            raise ValidationError("天地图地理编码需要 ZONEGUARD_TIANDITU_KEY")
        self.key = key
        self.fetch = fetch

    def url(self, query: str) -> str:
        """The request URL of one query."""
        ds = json.dumps({"keyWord": query}, ensure_ascii=False)
        return f"{TIANDITU_URL}?{urllib.parse.urlencode({'ds': ds, 'tk': self.key})}"

    def search(self, session: Session, query: str, *, scope: Scope,  # noqa: ARG002
               limit: int = 10) -> list[Place]:
        """The service's best position for the address (it answers one)."""
        words = _words(query)
        try:
            answer = json.loads(self.fetch(self.url(" ".join(words))))
        except (OSError, ValueError) as exc:
            raise GeocoderUnavailable(f"天地图地理编码服务不可用：{exc}") from None
        location = answer.get("location") if isinstance(answer, dict) else None
        if str(answer.get("status")) != "0" or not isinstance(location, dict):
            return []
        try:
            lon, lat = float(location["lon"]), float(location["lat"])
        except (KeyError, TypeError, ValueError):
            return []
        return [Place(str(location.get("keyWord") or " ".join(words)), None, "tianditu",
                      lon, lat)][:limit]


def geocoder_for(settings: Settings) -> Geocoder:
    """The geocoder of the settings: 天地图 when a key is set and chosen, else offline."""
    if settings.geocoder == "tianditu" and settings.tianditu_key:
        return TiandituGeocoder(settings.tianditu_key)
    return OfflineGeocoder()
