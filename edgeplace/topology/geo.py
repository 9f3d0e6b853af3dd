"""Geographic helpers: great-circle distances, local kilometre frames and fibre delay.

Coordinates are always ``(longitude, latitude)`` in degrees, in that column order.
"""

from __future__ import annotations

import numpy as np

EARTH_RADIUS_KM = 6371.0088
"""Mean Earth radius (IUGG), km."""

FIBRE_SPEED_KM_S = 200_000.0
"""Propagation speed of light in optical fibre (about 2/3 c), km/s."""

_KM_PER_DEG = np.pi * EARTH_RADIUS_KM / 180.0


def haversine_km(lonlat_a: np.ndarray, lonlat_b: np.ndarray) -> np.ndarray:
    """Great-circle distance between points.

    Shapes:
        lonlat_a, lonlat_b: (..., 2) degrees, broadcast against each other.
        returns: (...) km.
    """
    lon_a, lat_a = np.radians(lonlat_a[..., 0]), np.radians(lonlat_a[..., 1])
    lon_b, lat_b = np.radians(lonlat_b[..., 0]), np.radians(lonlat_b[..., 1])
    h = np.sin((lat_b - lat_a) / 2) ** 2 + np.cos(lat_a) * np.cos(lat_b) * np.sin((lon_b - lon_a) / 2) ** 2
    return 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(h, 0.0, 1.0)))


def link_length_km(coords: np.ndarray, edge_index: np.ndarray) -> np.ndarray:
    """Great-circle length of each link.

    Shapes:
        coords: (N, 2) (longitude, latitude) degrees; edge_index: (2, E). returns: (E,) km.
    """
    return haversine_km(coords[edge_index[0]], coords[edge_index[1]])


def fibre_delay_s(length_km: np.ndarray) -> np.ndarray:
    """Propagation delay over fibre, ``length / 200,000 km/s``. Shapes: (...) km -> (...) s."""
    return np.asarray(length_km, dtype=np.float64) / FIBRE_SPEED_KM_S


def km_to_lonlat(xy_km: np.ndarray, origin_lonlat: tuple[float, float]) -> np.ndarray:
    """Place a local planar frame (x east, y north, km) on the globe, equirectangular around ``origin``.

    Accurate to well under 1 % for regions a few hundred km across.

    Shapes:
        xy_km: (N, 2) km from the origin. returns: (N, 2) (longitude, latitude) degrees.
    """
    lon0, lat0 = origin_lonlat
    lat = lat0 + xy_km[:, 1] / _KM_PER_DEG
    lon = lon0 + xy_km[:, 0] / (_KM_PER_DEG * np.cos(np.radians(lat0)))
    return np.stack([lon, lat], axis=1)
