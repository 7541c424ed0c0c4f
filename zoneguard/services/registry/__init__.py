"""Registries of schools and premises: filtered pages, single rows, audited creates and patches.

Reads return JSON-ready mappings with a GeoJSON `geometry` in EPSG:4326 (the campus polygon,
or the point of a point-only school or a premises); the API routes and the OGC layers share
them. Inputs may come in any accepted CRS (see `spatial.crs`) and are stored as EPSG:4326.
"""

from zoneguard.services.registry.common import BBox, Page, check_bbox, envelope, like_pattern
from zoneguard.services.registry.premises import (
    create_premises,
    get_premises,
    list_premises,
    patch_premises,
    premises_filters,
)
from zoneguard.services.registry.schools import (
    create_school,
    get_school,
    list_schools,
    patch_school,
    school_filters,
)

__all__ = [
    "BBox", "Page", "check_bbox", "create_premises", "create_school", "envelope",
    "get_premises", "get_school", "like_pattern", "list_premises", "list_schools",
    "patch_premises", "patch_school", "premises_filters", "school_filters",
]
