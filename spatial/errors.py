"""Errors raised by the spatial engine (no dependency on the domain package)."""


class SpatialError(ValueError):
    """Base class for invalid spatial input."""


class CrsError(SpatialError):
    """An unknown, unsupported or inconsistent coordinate reference system."""


class GeometryError(SpatialError):
    """A geometry that is empty, degenerate or cannot be repaired."""
