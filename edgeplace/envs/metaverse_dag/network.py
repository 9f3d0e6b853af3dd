"""The static network of the metaverse-dag scenario (papers/llm-mappo.md, section b, "Generator" steps
3-5 and the node table): edge servers (ES) of any topology, clustered into K regions, one edge controller
(EC) per region at its centroid, one cloud node, links with slices, node resources and speeds.

Node order: ES ``0 .. n-1``, EC ``n .. n+K-1`` (EC k at ``n + k``), cloud ``n + K``. Built once per
(topology URI, preset, K, network seed, speed scale) and shared by env and baselines.
"""

from __future__ import annotations

import functools
import warnings
import zlib
from dataclasses import dataclass
from enum import IntEnum

import networkx as nx
import numpy as np
import scipy.sparse as sp
from scipy.cluster.vq import kmeans2
from scipy.sparse import csgraph

from edgeplace.envs.metaverse_dag.attributes import NODE_ATTRIBUTES, EsResource
from edgeplace.envs.metaverse_dag.config import PRESETS, MetaverseDagConfig
from edgeplace.envs.metaverse_dag.paths import RoutePaths
from edgeplace.topology import Substrate, load_with_attributes
from edgeplace.topology.generators import CELL_RADIO_LATENCY_S, CellFeature, _delaunay_edges
from edgeplace.topology.geo import EARTH_RADIUS_KM, fibre_delay_s
from edgeplace.workloads.metaverse_dag import NUM_CLASSES

ROUTE_FACTOR = 1.4
HOP_DELAY_S = 0.05e-3
EC_CLOUD_DELAY_S = 5e-3
EC_CLOUD_GBPS = 100.0
EC_EC_GBPS = (20.0, 100.0)
SLICE_SHARES = np.array([0.40, 0.35, 0.25])
"""Hard bandwidth shares of the XR, TWIN and HOLO slices on every link."""
RESTRICTED_SHARE = 0.15
"""Share of ES-ES links that admit only XR and HOLO."""
CLOUD_VCPU, CLOUD_RAM_GB = 1024.0, 4096.0
GIPS_PER_VCPU = np.array([16.0, 20.0, 24.0])
"""v by node kind (ES, EC, cloud), GIPS per vCPU, before ``speed_scale``."""
P_FAIL = np.array([1e-4, 1e-5, 1e-5])
MAX_CLUSTER_RETRIES = 20
MBPS_PER_MB_S = 8.0
_KM_PER_DEG = np.pi * EARTH_RADIUS_KM / 180.0


class NodeKind(IntEnum):
    """Node kinds (also the ``tier`` one-hot order of the observation)."""

    ES = 0
    EC = 1
    CLOUD = 2


class LinkKind(IntEnum):
    """Link kinds (spec b, step 4)."""

    ES_ES = 0
    ES_EC = 1
    EC_EC = 2
    EC_CLOUD = 3


@dataclass(frozen=True, eq=False)
class EdgeNetwork:
    """ES + EC + cloud with resources, links, slices and the precomputed routes.

    Shapes (N = n + K + 1 nodes, L links, 3 slices):
        kind, region: (N,) int64; region -1 for the cloud.
        xy_km: (N, 2) planar positions (the cloud at the EC mean).
        vcpu, ram_gb, gips_per_vcpu, p_fail: (N,).
        zone: (N,) int64, -1 off the ES; radio_latency_s: (N,) 0 off the ES.
        link_src, link_dst, link_kind: (L,) int64; delay_s: (L,); slice_bw_mbps: (L, 3);
        slice_admit: (L, 3) bool.
        delay_matrix_s: (N, N) least total delay between nodes.
        routes: the up-to-3 shortest-delay paths per node pair inside each region (+ EC + cloud).
    """

    num_es: int
    num_regions: int
    kind: np.ndarray
    region: np.ndarray
    xy_km: np.ndarray
    vcpu: np.ndarray
    ram_gb: np.ndarray
    gips_per_vcpu: np.ndarray
    p_fail: np.ndarray
    zone: np.ndarray
    radio_latency_s: np.ndarray
    link_src: np.ndarray
    link_dst: np.ndarray
    link_kind: np.ndarray
    delay_s: np.ndarray
    slice_bw_mbps: np.ndarray
    slice_admit: np.ndarray
    delay_matrix_s: np.ndarray
    routes: RoutePaths
    disc_km: float
    """Radius of the disc the hotspots move in (around the ES mean): the dense-zone ES's spread, km."""

    @property
    def num_nodes(self) -> int:
        return int(self.kind.size)

    @property
    def cloud(self) -> int:
        return self.num_nodes - 1

    def ec(self, k: int) -> int:
        """Node index of EC ``k``."""
        return self.num_es + k

    def region_es(self, k: int) -> np.ndarray:
        """ES of region ``k``. Shapes: -> (n_k,) int64."""
        return np.flatnonzero((self.kind == NodeKind.ES) & (self.region == k))


def load_network(cfg: MetaverseDagConfig) -> EdgeNetwork:
    """The network of ``cfg`` (cached per process).

    Raises:
        ValueError: a topology that cannot be loaded or has fewer ES than regions, naming the URI.
    """
    return _cached(cfg.topology_uri, cfg.preset, cfg.num_regions, cfg.network_seed, cfg.speed_scale)


@functools.cache
def _cached(uri: str, preset: str, regions: int, seed: int, speed_scale: float) -> EdgeNetwork:
    try:
        substrate = load_with_attributes(uri, NODE_ATTRIBUTES, seed)
    except ValueError as err:
        raise ValueError(f"metaverse-dag env_config: topology {uri!r}: {err}") from err
    if substrate.num_nodes < regions:
        raise ValueError(
            f"metaverse-dag env_config: topology {uri!r} has {substrate.num_nodes} nodes, fewer than "
            f"regions={regions}"
        )
    rng = np.random.default_rng([seed, zlib.crc32(uri.encode())])
    row = PRESETS[preset]
    return build_network(substrate, regions, row.ec_vcpu, row.ec_ram_gb, rng, seed, speed_scale)


def positions_km(substrate: Substrate, seed: int) -> np.ndarray:
    """Planar positions: the coordinates around their mean (equirectangular), else a seeded spring
    layout 10 km across. Shapes: -> (n, 2) km."""
    if substrate.coords is not None:
        lon, lat = substrate.coords[:, 0], substrate.coords[:, 1]
        lat0 = np.radians(lat.mean())
        return np.stack([(lon - lon.mean()) * np.cos(lat0), lat - lat.mean()], axis=1) * _KM_PER_DEG
    graph = nx.Graph(list(zip(*substrate.edge_index.tolist(), strict=True)))
    graph.add_nodes_from(range(substrate.num_nodes))
    layout = nx.spring_layout(graph, seed=seed)
    return 5.0 * np.array([layout[i] for i in range(substrate.num_nodes)])


def cluster_regions(xy_km: np.ndarray, regions: int, seed: int) -> np.ndarray:
    """Spec b step 3: k-means of the ES into ``regions`` clusters of at least max(3, n / 2K) ES each,
    retrying with seed + 1 up to 20 times; else K polar sectors around the ES mean holding equal
    numbers of ES (as equal as the count allows). Shapes: (n, 2) km -> (n,) int64 labels."""
    n = xy_km.shape[0]
    min_size = max(3.0, n / (2 * regions))
    for attempt in range(MAX_CLUSTER_RETRIES + 1):
        with warnings.catch_warnings():  # empty clusters and ++ draws on duplicates: retried below
            warnings.simplefilter("ignore", UserWarning)
            warnings.simplefilter("ignore", RuntimeWarning)
            _, labels = kmeans2(xy_km, regions, minit="++", missing="warn", rng=seed + attempt)
        if np.bincount(labels, minlength=regions).min() >= min_size:
            return labels.astype(np.int64)
    return polar_sectors(xy_km, regions)


def polar_sectors(xy_km: np.ndarray, regions: int) -> np.ndarray:
    """ES in angle order around their mean, cut into ``regions`` runs of equal size. Shapes: -> (n,)."""
    centred = xy_km - xy_km.mean(axis=0)
    order = np.argsort(np.arctan2(centred[:, 1], centred[:, 0]), kind="stable")
    labels = np.empty(xy_km.shape[0], np.int64)
    for k, members in enumerate(np.array_split(order, regions)):
        labels[members] = k
    return labels


def build_network(
    substrate: Substrate,
    regions: int,
    ec_vcpu: tuple[int, int],
    ec_ram_gb: tuple[int, int],
    rng: np.random.Generator,
    seed: int,
    speed_scale: float,
) -> EdgeNetwork:
    """Spec b steps 3-5 on a substrate whose nodes are the ES (with :data:`NODE_ATTRIBUTES`). Draws from
    ``rng``, in order: EC vCPU, EC RAM, EC-EC bandwidth, the restricted ES-ES links."""
    n, k = substrate.num_nodes, regions
    es_xy = positions_km(substrate, seed)
    labels = cluster_regions(es_xy, k, seed)
    ec_xy = np.stack([es_xy[labels == r].mean(axis=0) for r in range(k)])
    xy = np.concatenate([es_xy, ec_xy, ec_xy.mean(axis=0, keepdims=True)])
    kind = np.repeat([NodeKind.ES, NodeKind.EC, NodeKind.CLOUD], [n, k, 1]).astype(np.int64)
    region = np.concatenate([labels, np.arange(k), [-1]]).astype(np.int64)
    features = substrate.node_features
    backhaul_mbps = features[CellFeature.BACKHAUL_MB_S] * MBPS_PER_MB_S
    vcpu = np.concatenate(
        [
            substrate.capacity[:, substrate.resource_index(EsResource.VCPU)],
            rng.integers(ec_vcpu[0], ec_vcpu[1] + 1, k),
            [CLOUD_VCPU],
        ]
    ).astype(np.float64)
    ram = np.concatenate(
        [
            substrate.capacity[:, substrate.resource_index(EsResource.RAM_GB)],
            rng.integers(ec_ram_gb[0], ec_ram_gb[1] + 1, k),
            [CLOUD_RAM_GB],
        ]
    ).astype(np.float64)

    links = []  # (src, dst, kind, bw_mbps) blocks
    for r in range(k):
        members = np.flatnonzero(labels == r)
        local = _delaunay_edges(es_xy[members])
        src, dst = members[local[0]], members[local[1]]
        links.append((src, dst, LinkKind.ES_ES, np.minimum(backhaul_mbps[src], backhaul_mbps[dst])))
    es = np.arange(n)
    links.append((es, n + labels, LinkKind.ES_EC, backhaul_mbps))
    ec_edges = _delaunay_edges(ec_xy) if k > 3 else np.array(np.triu_indices(k, 1), dtype=np.int64)
    links.append(
        (n + ec_edges[0], n + ec_edges[1], LinkKind.EC_EC, rng.uniform(*EC_EC_GBPS, ec_edges.shape[1]) * 1e3)
    )
    links.append((n + np.arange(k), np.full(k, n + k), LinkKind.EC_CLOUD, np.full(k, EC_CLOUD_GBPS * 1e3)))
    src = np.concatenate([block[0] for block in links]).astype(np.int64)
    dst = np.concatenate([block[1] for block in links]).astype(np.int64)
    link_kind = np.concatenate([np.full(len(block[0]), block[2]) for block in links]).astype(np.int64)
    bw = np.concatenate([block[3] for block in links]).astype(np.float64)
    length = np.linalg.norm(xy[src] - xy[dst], axis=1)
    delay = np.where(
        link_kind == LinkKind.EC_CLOUD, EC_CLOUD_DELAY_S, fibre_delay_s(ROUTE_FACTOR * length) + HOP_DELAY_S
    )

    admit = np.ones((src.size, NUM_CLASSES), bool)
    es_es = np.flatnonzero(link_kind == LinkKind.ES_ES)
    admit[rng.permutation(es_es)[: round(RESTRICTED_SHARE * es_es.size)], 1] = False  # TWIN not admitted

    matrix = sp.coo_array((delay, (src, dst)), shape=(n + k + 1,) * 2).tocsr()
    delay_matrix = csgraph.dijkstra(matrix, directed=False)
    zone = np.concatenate([features[CellFeature.ZONE].astype(np.int64), np.full(k + 1, -1)])
    has_thz, has_mmw = features[CellFeature.HAS_THZ] > 0, features[CellFeature.HAS_MMW] > 0
    radio = np.where(
        has_thz, CELL_RADIO_LATENCY_S[0], np.where(has_mmw, CELL_RADIO_LATENCY_S[1], CELL_RADIO_LATENCY_S[2])
    )
    dense = es_xy[zone[:n] == 0]
    disc_km = float(np.linalg.norm(dense - dense.mean(axis=0), axis=1).max()) if dense.shape[0] > 1 else 1.0
    return EdgeNetwork(
        num_es=n,
        num_regions=k,
        kind=kind,
        region=region,
        xy_km=xy,
        vcpu=vcpu,
        ram_gb=ram,
        gips_per_vcpu=GIPS_PER_VCPU[kind] * speed_scale,
        p_fail=P_FAIL[kind],
        zone=zone,
        radio_latency_s=np.concatenate([radio, np.zeros(k + 1)]),
        link_src=src,
        link_dst=dst,
        link_kind=link_kind,
        delay_s=delay,
        slice_bw_mbps=bw[:, None] * SLICE_SHARES[None, :],
        slice_admit=admit,
        delay_matrix_s=delay_matrix,
        routes=RoutePaths.build(src, dst, delay, region, n),
        disc_km=max(disc_km, 0.5),
    )
