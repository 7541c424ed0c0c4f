"""A premises' entrance (its door) checked against its point: geodesic, WGS 84 ellipsoid."""

from __future__ import annotations

from typing import Any

import numpy as np
import shapely
from numpy.typing import NDArray
from pyproj import Geod

from zoneguard.imports.fields import Fields

_WGS84 = Geod(ellps="WGS84")


def entrance_distances_m(lon: Any, lat: Any, door_lon: Any, door_lat: Any) -> NDArray[np.float64]:
    """Return geodesic distances (metres, WGS 84 ellipsoid) between lon/lat degree arrays."""
    _, _, distance = _WGS84.inv(np.asarray(lon, dtype=float), np.asarray(lat, dtype=float),
                                np.asarray(door_lon, dtype=float),
                                np.asarray(door_lat, dtype=float))
    return np.asarray(distance, dtype=float)


def entrance_too_far(point_lonlat: tuple[float, float], door_lonlat: tuple[float, float],
                     max_m: float) -> float | None:
    """Return the geodesic distance (metres, WGS 84 lon/lat) of an entrance over `max_m`.

    None when the entrance lies within `max_m` metres of the premises point.
    """
    distance = float(entrance_distances_m([point_lonlat[0]], [point_lonlat[1]],
                                          [door_lonlat[0]], [door_lonlat[1]])[0])
    return distance if distance > max_m else None


def entrance_problem(distance_m: float, max_m: float) -> str:
    """Return the report text (Chinese) for an entrance `distance_m` from its premises."""
    return f"入口距场所点 {distance_m:.1f} 米，超过 {max_m:g} 米上限"


def far_entrances(geoms: np.ndarray[Any, Any], entrances: list[Any], max_m: float,
                  rows: Fields) -> None:
    """Reject rows whose entrance lies more than `max_m` metres from the premises point."""
    doors = np.asarray(entrances, dtype=object)
    both = np.flatnonzero((shapely.get_type_id(geoms) == 0) & (shapely.get_type_id(doors) == 0))
    if not len(both):
        return
    distance = entrance_distances_m(shapely.get_x(geoms[both]), shapely.get_y(geoms[both]),
                                    shapely.get_x(doors[both]), shapely.get_y(doors[both]))
    for i, d in zip(both[distance > max_m].tolist(), distance[distance > max_m].tolist(),
                    strict=True):
        rows.add(i, "entrance_lon", rows.get("entrance_lon")[i], entrance_problem(d, max_m))
