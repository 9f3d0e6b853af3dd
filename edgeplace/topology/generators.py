"""Seeded synthetic substrates: Waxman, geometric radius (EUA-like), clustered cell sites, GenAI-like.

Every generator draws from one ``np.random.default_rng(seed)`` in a documented order, so the same
arguments give identical arrays. Positions are drawn in a local planar frame in km, links use planar
distances, and ``coords`` places the frame on the globe around a documented origin. Links are listed
in lexicographic ``(src, dst)`` order. A disconnected draw is repaired deterministically: while there
are several components, add the shortest link ``i < j`` that joins two of them (ties: the smallest
``(i, j)``).
"""

from __future__ import annotations

import warnings
from enum import IntEnum, StrEnum

import numpy as np
import scipy.sparse as sp
from scipy.cluster.vq import kmeans2
from scipy.sparse import csgraph
from scipy.spatial import Delaunay
from scipy.spatial.distance import pdist, squareform

from edgeplace.topology.distributions import Tagged, TierMix
from edgeplace.topology.errors import TopologyError
from edgeplace.topology.geo import fibre_delay_s, km_to_lonlat
from edgeplace.topology.names import Affinity, NodeFeature, Resource, Tier
from edgeplace.topology.substrate import Substrate

_MBPS_PER_MB_S = 8.0

# waxman: the AgentVNE substrate (papers/agentvne.md, "Defaults we chose").
WAXMAN_ORIGIN = (11.0, 48.0)
"""(longitude, latitude) of the south-west corner of the Waxman square."""
WAXMAN_TIERS = TierMix(cloud_fraction=0.05, edge_fraction=0.25)
"""The tier mix: 5 % cloud, 25 % edge (MEC), the rest access (end devices)."""
WAXMAN_RESOURCES = (Resource.COMPUTE, Resource.MEMORY, Resource.STORAGE)
WAXMAN_CAPACITY_LOW = np.array([[4.0, 4.0, 8.0], [2.0, 2.0, 4.0], [1.0, 1.0, 2.0]])
"""Rows: cloud, edge (MEC), access (end device) (``Tier`` values); columns: ``WAXMAN_RESOURCES``."""
WAXMAN_CAPACITY_HIGH = np.array([[4.0, 4.0, 8.0], [3.0, 3.0, 6.0], [2.0, 2.0, 4.0]])
WAXMAN_TAGS = {
    Affinity.TEE: Tagged(0.1, 2, (Tier.CLOUD, Tier.EDGE), part=0, parts=2),
    Affinity.CAMERA: Tagged(0.1, 2, (Tier.ACCESS,), part=1, parts=2),
}
"""``max(2, round(0.1 N))`` tagged nodes: half TEE on cloud/edge nodes, half camera on access nodes."""
_WAXMAN_BW_MBPS = np.array([[1000.0, 1000.0, 100.0], [1000.0, 1000.0, 100.0], [100.0, 100.0, 50.0]])
"""Link bandwidth by the tiers of its two ends, Mbit/s."""
_CLOUD_LINK_DELAY_S = 10e-3

# geo_radius: the HISPER stand-in for the EUA servers (papers/hisper.md, section c).
GEO_RADIUS_ORIGIN = (144.9631, -37.8136)
"""(longitude, latitude) of the centre of the geo_radius square (Melbourne CBD, as in EUA)."""
GEO_BW_MBPS = (50.0, 100.0, 200.0, 300.0, 400.0)
"""Link bandwidths of spec c, Mbit/s."""
GEO_UPLINK_MBPS = (36.0, 48.0, 64.0, 72.0)
"""Uplink rates of the servers' access points (spec c), Mbit/s."""
GEO_COMPUTE_TFLOPS = (0.5, 1.26, 1.33)
"""Server compute of spec c, TFLOP/s."""
GEO_MEMORY_GB = (1.0, 2.0, 4.0)
"""Server memory of spec c, GB."""

# cell_cluster: the tower layout of papers/llm-mappo.md (edge-server layer only).
CELL_ORIGIN = (-122.33, 47.61)
"""(longitude, latitude) of the city centre of cell_cluster."""
_ROUTE_FACTOR = 1.4
_HOP_DELAY_S = 0.05e-3
_MB_S_PER_GBPS = 125.0
CELL_ZONE_SHARES = (0.45, 0.35, 0.20)
"""Tower shares of the dense, medium and suburban zones (``CellZone`` order)."""
CELL_MMW_PROB = np.array([0.8, 0.5, 0.2])
"""P(an edge server has mmWave) per zone; every server has sub-6."""
CELL_THZ_PROB = np.array([0.3, 0.1, 0.0])
"""P(an edge server has THz) per zone."""
CELL_RADIO_LATENCY_S = np.array([1.0e-3, 1.5e-3, 2.5e-3])
"""Access latency of the best band: THz, mmWave, sub-6 (in that order), seconds."""


class CellZone(IntEnum):
    """Tower zones of cell_cluster (values of the ``zone`` node feature)."""

    DENSE = 0
    MEDIUM = 1
    SUBURBAN = 2


class CellFeature(StrEnum):
    """Node features cell_cluster records per edge server."""

    ZONE = "zone"
    """The majority zone of the server's towers (a ``CellZone``; the ring of the site if it has none)."""
    HAS_MMW = "has_mmw"
    """1.0 where the server has a mmWave band."""
    HAS_THZ = "has_thz"
    """1.0 where the server has a THz band."""
    RADIO_LATENCY_S = "radio_latency_s"
    """Access latency of the best band present, seconds."""
    BACKHAUL_MB_S = "backhaul_mb_s"
    """The server's backhaul, MB/s."""


# synthetic_genai: statistics of the GenAI-edge files (data/genai-edge/README.md).
GENAI_SIZES = {"genai-small": 25, "genai-medium": 50, "genai-large": 100}
GENAI_ORIGIN = (8.2, 46.8)
"""(longitude, latitude) of the centre of the synthetic GenAI region."""
_GENAI_SIDE_KM = 300.0
_GENAI_MEAN_DEGREE = 3.0
_GENAI_BW_MB_S = 50.0
GENAI_COMPUTE_RANGE = (16, 55)
"""Inclusive range of the integer compute capacity (the files' ComputationCapacity)."""
GENAI_STORAGE_RANGE = (12, 39)
"""Inclusive range of the integer storage node feature (StorageCapacity)."""
GENAI_TRAFFIC_RANGE = (17, 48)
"""Inclusive range of the integer traffic-rate node feature (TrafficRate)."""


def waxman(
    nodes: int, alpha: float = 0.5, beta: float = 0.2, *, side_km: float = 100.0, seed: int = 0
) -> Substrate:
    """Three-tier Waxman graph (AgentVNE defaults), resources (compute, memory, storage).

    Draws, in order: positions uniform in a ``side_km`` square; one uniform number per pair ``i < j``
    (row-major), linked when below ``beta * exp(-d / (alpha * L))`` with L the largest distance; a
    permutation assigning tiers: ``max(1, round(0.05 N))`` cloud, ``max(1, round(0.25 N))`` edge (MEC),
    the rest access (fewer when N is tiny); capacities uniform per tier (cloud (4, 4, 8); edge
    U[2,3], U[2,3], U[4,6]; access U[1,2], U[1,2], U[2,4]); then the affinity tags:
    ``max(2, round(0.1 N))`` nodes, half ``tee`` on cloud/edge nodes and half ``camera`` on access
    nodes. Every cloud node is linked to every edge node before the connectivity repair.
    Bandwidth by tiers of the ends: cloud/edge-cloud/edge 1000, with an access end 100, access-access
    50 Mbit/s (stored in MB/s). Delay: distance / 200,000 km/s, plus 10 ms on links at a cloud node.
    """
    _check_count(nodes, "nodes")
    _check_positive(alpha, "alpha")
    _check_positive(side_km, "side_km")
    if not 0 < beta <= 1:
        raise TopologyError(f"must be in (0, 1], got {beta!r}", field="beta")
    rng = np.random.default_rng(seed)
    xy = rng.uniform(0.0, side_km, (nodes, 2))
    dist = squareform(pdist(xy))
    i, j = np.triu_indices(nodes, k=1)
    draws = rng.random(i.size)
    linked = draws < beta * np.exp(-dist[i, j] / (alpha * max(dist.max(), 1e-12)))
    adjacency = np.zeros((nodes, nodes), dtype=bool)
    adjacency[i[linked], j[linked]] = True

    tier = WAXMAN_TIERS.assign(rng, nodes)
    adjacency |= (tier[:, None] == Tier.CLOUD) & (tier[None, :] == Tier.EDGE)
    edge_index = _edges(_connect(adjacency | adjacency.T, dist))

    capacity = rng.uniform(WAXMAN_CAPACITY_LOW[tier], WAXMAN_CAPACITY_HIGH[tier])
    tee = WAXMAN_TAGS[Affinity.TEE].assign(rng, tier)
    camera = WAXMAN_TAGS[Affinity.CAMERA].assign(rng, tier)

    src, dst = edge_index
    at_cloud = (tier[src] == Tier.CLOUD) | (tier[dst] == Tier.CLOUD)
    return Substrate(
        name=f"waxman:nodes={nodes},alpha={alpha},beta={beta},side_km={side_km},seed={seed}",
        resource_names=WAXMAN_RESOURCES,
        capacity=capacity,
        edge_index=edge_index,
        bandwidth_mb_s=_WAXMAN_BW_MBPS[tier[src], tier[dst]] / _MBPS_PER_MB_S,
        delay_s=fibre_delay_s(dist[src, dst]) + np.where(at_cloud, _CLOUD_LINK_DELAY_S, 0.0),
        coords=km_to_lonlat(xy, WAXMAN_ORIGIN),
        tier=tier,
        affinity={Affinity.TEE: tee, Affinity.CAMERA: camera},
    )


def geo_radius(nodes: int, radius_km: float, *, side_km: float = 1.5, seed: int = 0) -> Substrate:
    """EUA-like edge servers linked within ``radius_km`` (the HISPER stand-in), resources (compute_tflops,
    memory_mb).

    Draws, in order (papers/hisper.md, section c): positions uniform in a ``side_km`` square (centred on
    Melbourne CBD); links for distance < ``radius_km``, then the connectivity repair; per link
    bandwidth from {50, 100, 200, 300, 400} Mbit/s; per node uplink from {36, 48, 64, 72} Mbit/s
    (node feature ``uplink_mb_s``), compute from {0.5, 1.26, 1.33} TFLOP/s and memory from
    {1, 2, 4} GB (stored in MB). Bandwidths are stored in MB/s. Delay: distance / 200,000 km/s.
    """
    _check_count(nodes, "nodes")
    _check_positive(radius_km, "radius_km")
    _check_positive(side_km, "side_km")
    rng = np.random.default_rng(seed)
    xy = rng.uniform(0.0, side_km, (nodes, 2))
    dist = squareform(pdist(xy))
    edge_index = _edges(_connect(dist < radius_km, dist))
    bw_mbps = rng.choice(GEO_BW_MBPS, edge_index.shape[1])
    uplink_mbps = rng.choice(GEO_UPLINK_MBPS, nodes)
    compute = rng.choice(GEO_COMPUTE_TFLOPS, nodes)
    memory_mb = rng.choice(GEO_MEMORY_GB, nodes) * 1024.0
    return Substrate(
        name=f"geo-radius:nodes={nodes},radius_km={radius_km},side_km={side_km},seed={seed}",
        resource_names=(Resource.COMPUTE_TFLOPS, Resource.MEMORY_MB),
        capacity=np.stack([compute, memory_mb], axis=1),
        edge_index=edge_index,
        bandwidth_mb_s=bw_mbps / _MBPS_PER_MB_S,
        delay_s=fibre_delay_s(dist[edge_index[0], edge_index[1]]),
        coords=km_to_lonlat(xy - side_km / 2, GEO_RADIUS_ORIGIN),
        node_features={NodeFeature.UPLINK_MB_S: uplink_mbps / _MBPS_PER_MB_S},
    )


def cell_cluster(towers: int, servers: int, *, radius_km: float = 10.0, seed: int = 0) -> Substrate:
    """Edge servers at k-means centroids of cell towers, linked by a Delaunay triangulation.

    Draws, in order (tower layout of papers/llm-mappo.md, section b, steps 1-2, around Seattle): 6 hotspot
    centres uniform in the disc of radius 0.2 R; 45 % of the towers (dense zone) around a random
    hotspot (Gaussian, sigma 0.6 km), 35 % (medium) uniform in the ring 0.2 R - 0.55 R, the rest
    (suburban) in the ring 0.55 R - R; k-means (``kmeans2``, ``minit="++"``) into ``servers`` sites; a
    backhaul per server uniform in [1, 2] Gbit/s; then the radio bands (mmWave, THz) per server with the
    probabilities of its zone (``CELL_MMW_PROB``, ``CELL_THZ_PROB``). Compute capacity = number of towers
    a server serves (0 for a site k-means left empty). A server's zone is the majority zone of its towers
    (ties: the denser; no towers: the ring its site lies in), recorded with the bands, access latency
    and backhaul as ``CellFeature`` node features. A link's bandwidth is the smaller backhaul of its
    ends; delay = 1.4 x distance / 200,000 km/s + 0.05 ms.
    """
    _check_count(servers, "servers")
    _check_count(towers, "towers")
    _check_positive(radius_km, "radius_km")
    if servers > towers:
        raise TopologyError(f"servers={servers} exceeds towers={towers}", field="servers")
    rng = np.random.default_rng(seed)
    hotspots = _uniform_disc(rng, 6, 0.0, 0.2 * radius_km)
    n_dense, n_medium = round(CELL_ZONE_SHARES[0] * towers), round(CELL_ZONE_SHARES[1] * towers)
    dense = hotspots[rng.integers(0, 6, n_dense)] + rng.normal(0.0, 0.6, (n_dense, 2))
    medium = _uniform_disc(rng, n_medium, 0.2 * radius_km, 0.55 * radius_km)
    suburban = _uniform_disc(rng, towers - n_dense - n_medium, 0.55 * radius_km, radius_km)
    xy_towers = np.concatenate([dense, medium, suburban])
    with warnings.catch_warnings():  # an empty cluster is documented (capacity 0), not an accident
        warnings.filterwarnings("ignore", "One of the clusters is empty", UserWarning)
        centroids, labels = kmeans2(xy_towers, servers, minit="++", missing="warn", rng=rng)
    backhaul_gbps = rng.uniform(1.0, 2.0, servers)
    tower_zone = np.repeat(np.arange(3), [n_dense, n_medium, towers - n_dense - n_medium])
    zone = _server_zones(labels, tower_zone, centroids, radius_km)
    has_mmw = rng.random(servers) < CELL_MMW_PROB[zone]
    has_thz = rng.random(servers) < CELL_THZ_PROB[zone]
    radio_s = np.where(
        has_thz, CELL_RADIO_LATENCY_S[0], np.where(has_mmw, CELL_RADIO_LATENCY_S[1], CELL_RADIO_LATENCY_S[2])
    )

    edge_index = _delaunay_edges(centroids)
    src, dst = edge_index
    length_km = np.linalg.norm(centroids[src] - centroids[dst], axis=1)
    return Substrate(
        name=f"cell-cluster:towers={towers},servers={servers},radius_km={radius_km},seed={seed}",
        resource_names=(Resource.COMPUTE,),
        capacity=np.bincount(labels, minlength=servers).astype(np.float64)[:, None],
        edge_index=edge_index,
        bandwidth_mb_s=np.minimum(backhaul_gbps[src], backhaul_gbps[dst]) * _MB_S_PER_GBPS,
        delay_s=fibre_delay_s(_ROUTE_FACTOR * length_km) + _HOP_DELAY_S,
        coords=km_to_lonlat(centroids, CELL_ORIGIN),
        node_features={
            CellFeature.ZONE: zone.astype(np.float64),
            CellFeature.HAS_MMW: has_mmw.astype(np.float64),
            CellFeature.HAS_THZ: has_thz.astype(np.float64),
            CellFeature.RADIO_LATENCY_S: radio_s,
            CellFeature.BACKHAUL_MB_S: backhaul_gbps * _MB_S_PER_GBPS,
        },
    )


def _server_zones(
    labels: np.ndarray, tower_zone: np.ndarray, centroids: np.ndarray, radius_km: float
) -> np.ndarray:
    """Majority ``CellZone`` of each server's towers (ties: the denser zone); a server without towers
    takes the ring its site lies in. Shapes: (T,), (T,), (S, 2) km -> (S,) int64."""
    counts = np.zeros((centroids.shape[0], 3), dtype=np.int64)
    np.add.at(counts, (labels, tower_zone), 1)
    ring = np.searchsorted([0.2 * radius_km, 0.55 * radius_km], np.linalg.norm(centroids, axis=1))
    return np.where(counts.sum(axis=1) > 0, counts.argmax(axis=1), ring).astype(np.int64)


def synthetic_genai(size: str, seed: int = 0) -> Substrate:
    """A GenAI-edge-like substrate: 25 / 50 / 100 nodes for ``genai-small`` / ``-medium`` / ``-large``.

    Matches the shape of the data files: positions uniform in a 300 km square (centred in
    Switzerland), links within the radius that gives a mean degree of about 3 (then the
    connectivity repair), ``node_ids`` 1..N, and, drawn in this order, integer compute 16-55,
    storage 12-39 and traffic rate 17-48 (inclusive); bandwidth 50 MB/s; delay distance /
    200,000 km/s.
    """
    if size not in GENAI_SIZES:
        raise TopologyError(f"unknown size {size!r}; choose one of {list(GENAI_SIZES)}", field="size")
    nodes = GENAI_SIZES[size]
    rng = np.random.default_rng(seed)
    xy = rng.uniform(0.0, _GENAI_SIDE_KM, (nodes, 2))
    dist = squareform(pdist(xy))
    radius_km = _GENAI_SIDE_KM * np.sqrt(_GENAI_MEAN_DEGREE / (np.pi * nodes))
    edge_index = _edges(_connect(dist < radius_km, dist))
    compute = rng.integers(GENAI_COMPUTE_RANGE[0], GENAI_COMPUTE_RANGE[1] + 1, nodes)
    storage = rng.integers(GENAI_STORAGE_RANGE[0], GENAI_STORAGE_RANGE[1] + 1, nodes)
    traffic = rng.integers(GENAI_TRAFFIC_RANGE[0], GENAI_TRAFFIC_RANGE[1] + 1, nodes)
    return Substrate(
        name=f"synthetic:{size},seed={seed}",
        resource_names=(Resource.COMPUTE,),
        capacity=compute[:, None].astype(np.float64),
        edge_index=edge_index,
        bandwidth_mb_s=np.full(edge_index.shape[1], _GENAI_BW_MB_S),
        delay_s=fibre_delay_s(dist[edge_index[0], edge_index[1]]),
        node_ids=np.arange(1, nodes + 1),
        coords=km_to_lonlat(xy - _GENAI_SIDE_KM / 2, GENAI_ORIGIN),
        node_features={NodeFeature.STORAGE: storage, NodeFeature.TRAFFIC_RATE: traffic},
    )


def _connect(adjacency: np.ndarray, dist: np.ndarray) -> np.ndarray:
    """Add shortest component-joining links until connected. Shapes: (N, N) bool, (N, N) km -> (N, N) bool."""
    adjacency = adjacency | adjacency.T
    np.fill_diagonal(adjacency, False)
    while True:
        count, labels = csgraph.connected_components(sp.csr_array(adjacency), directed=False)
        if count == 1:
            return adjacency
        gap = np.where(labels[:, None] != labels[None, :], dist, np.inf)
        i, j = np.unravel_index(np.argmin(gap), gap.shape)  # row-major first: i < j, smallest pair on ties
        adjacency[i, j] = adjacency[j, i] = True


def _edges(adjacency: np.ndarray) -> np.ndarray:
    """Links of a symmetric adjacency in lexicographic order. Shapes: (N, N) bool -> (2, E) int64."""
    return np.stack(np.nonzero(np.triu(adjacency, k=1))).astype(np.int64)


def _delaunay_edges(points: np.ndarray) -> np.ndarray:
    """Links of the Delaunay triangulation (joggled, so always complete). Shapes: (K, 2) -> (2, E)."""
    k = points.shape[0]
    adjacency = np.zeros((k, k), dtype=bool)
    if k <= 3:
        adjacency[:] = True
    else:
        simplices = Delaunay(points, qhull_options="QJ").simplices
        for a, b in ((0, 1), (1, 2), (0, 2)):
            adjacency[simplices[:, a], simplices[:, b]] = True
    adjacency |= adjacency.T
    np.fill_diagonal(adjacency, False)
    return _edges(adjacency)


def _uniform_disc(rng: np.random.Generator, count: int, inner_km: float, outer_km: float) -> np.ndarray:
    """Points uniform in the ring ``inner_km <= r <= outer_km``. Shapes: returns (count, 2) km."""
    r = np.sqrt(rng.uniform(inner_km**2, outer_km**2, count))
    theta = rng.uniform(0.0, 2 * np.pi, count)
    return np.stack([r * np.cos(theta), r * np.sin(theta)], axis=1)


def _check_count(value: int, name: str) -> None:
    if isinstance(value, bool) or int(value) != value or value < 1:
        raise TopologyError(f"must be a positive integer, got {value!r}", field=name)


def _check_positive(value: float, name: str) -> None:
    if not (np.isfinite(value) and value > 0):
        raise TopologyError(f"must be a finite number > 0, got {value!r}", field=name)
