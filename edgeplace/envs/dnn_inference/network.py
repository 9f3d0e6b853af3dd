"""The static server network of the dnn-inference scenario: per-server attributes and least-delay routes.

Built once per (topology URI, attribute seed) and shared by the env and the baselines. Spec:
papers/hisper.md, sections b (Eq. 3, 4, 8) and c. Any topology serves: :data:`NODE_ATTRIBUTES` are the
server attributes the scenario reads, drawn from spec c's sets where the topology lacks them (the rule
of :mod:`edgeplace.topology.attributes`); links keep the topology's bandwidth.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from scipy.sparse import csgraph

from edgeplace.topology import (
    AttributeNeed,
    Choice,
    NodeFeature,
    Resource,
    Substrate,
    TopologyError,
    load_with_attributes,
)
from edgeplace.topology.generators import GEO_COMPUTE_TFLOPS, GEO_MEMORY_GB, GEO_UPLINK_MBPS
from edgeplace.topology.geo import EARTH_RADIUS_KM

MBIT_PER_MB = 8.0
MB_PER_GB = 1024.0
#: The server attributes the scenario reads, with spec c's sets (steps 3-4) for topologies without them.
NODE_ATTRIBUTES = (
    AttributeNeed.resource(Resource.COMPUTE_TFLOPS, Choice(GEO_COMPUTE_TFLOPS), positive=True),
    AttributeNeed.resource(
        Resource.MEMORY_MB, Choice(tuple(gb * MB_PER_GB for gb in GEO_MEMORY_GB)), positive=True
    ),
    AttributeNeed.feature(
        NodeFeature.UPLINK_MB_S, Choice(tuple(mbps / MBIT_PER_MB for mbps in GEO_UPLINK_MBPS)), positive=True
    ),
)
_KM_PER_DEG = np.pi * EARTH_RADIUS_KM / 180.0


@dataclass(frozen=True, eq=False)
class ServerNetwork:
    """Edge servers and the least-delay route between every pair.

    Shapes (V servers, E links):
        compute_tflops: (V,) A_k, TFLOP/s.
        memory_mb: (V,) B_k, MB.
        uplink_mbps: (V,) rho_k, wireless uplink rate of the server's access point, Mbit/s.
        edge_index: (2, E) int64 links (src < dst); link_bw_mbps: (E,) w_e, Mbit/s.
        bandwidth_matrix_mbps: (V, V) symmetric, w of the link joining two servers, 0 where none.
        path_s_per_mbit: (V, V) sum of 1 / w_e over the least-delay path (weights 1 / w), 0 on the
            diagonal; ``8 D * path_s_per_mbit[v, k]`` is Eq. 4's transmission delay of D MB.
        path_hops: (V, V) int64, links on that path.
        positions_km: (V, 2) planar server positions, km, or None when the topology has no coordinates.
    """

    compute_tflops: np.ndarray
    memory_mb: np.ndarray
    uplink_mbps: np.ndarray
    edge_index: np.ndarray
    link_bw_mbps: np.ndarray
    bandwidth_matrix_mbps: np.ndarray
    path_s_per_mbit: np.ndarray
    path_hops: np.ndarray
    positions_km: np.ndarray | None = None

    @property
    def num_servers(self) -> int:
        """V."""
        return int(self.compute_tflops.shape[0])

    @classmethod
    def from_arrays(
        cls,
        compute_tflops: np.ndarray,
        memory_mb: np.ndarray,
        uplink_mbps: np.ndarray,
        edge_index: np.ndarray,
        link_bw_mbps: np.ndarray,
        positions_km: np.ndarray | None = None,
    ) -> ServerNetwork:
        """Validate the attributes and compute the routes (scipy csgraph, once).

        Shapes: compute_tflops, memory_mb, uplink_mbps (V,); edge_index (2, E); link_bw_mbps (E,).
        """
        arrays = {
            "compute_tflops": np.asarray(compute_tflops, dtype=np.float64),
            "memory_mb": np.asarray(memory_mb, dtype=np.float64),
            "uplink_mbps": np.asarray(uplink_mbps, dtype=np.float64),
            "link_bw_mbps": np.asarray(link_bw_mbps, dtype=np.float64),
        }
        edge_index = np.asarray(edge_index, dtype=np.int64).reshape(2, -1)
        num_servers = arrays["compute_tflops"].shape[0]
        for name, value in arrays.items():
            expected = (edge_index.shape[1],) if name == "link_bw_mbps" else (num_servers,)
            if value.shape != expected:
                raise ValueError(f"{name}: expected shape {expected}, got {value.shape}")
            if not (np.isfinite(value).all() and (value > 0).all()):
                raise ValueError(f"{name}: every value must be finite and > 0")
        if edge_index.size and (edge_index.min() < 0 or edge_index.max() >= num_servers):
            raise ValueError(f"edge_index: server index out of range for {num_servers} servers")
        bw = np.zeros((num_servers, num_servers))
        bw[edge_index[0], edge_index[1]] = bw[edge_index[1], edge_index[0]] = arrays["link_bw_mbps"]
        s_per_mbit, hops = least_delay_paths(bw)
        out = cls(
            edge_index=edge_index,
            bandwidth_matrix_mbps=bw,
            path_s_per_mbit=s_per_mbit,
            path_hops=hops,
            positions_km=None if positions_km is None else np.asarray(positions_km, dtype=np.float64),
            **arrays,
        )
        for value in vars(out).values():
            if isinstance(value, np.ndarray):
                value.setflags(write=False)
        return out

    @classmethod
    def from_substrate(cls, substrate: Substrate) -> ServerNetwork:
        """Servers of a substrate that has :data:`NODE_ATTRIBUTES` (``compute_tflops``, ``memory_mb``,
        ``uplink_mb_s``): link and uplink rates converted from MB/s to Mbit/s.

        Raises:
            TopologyError: an attribute is missing (fill them with
                :func:`~edgeplace.topology.with_attributes` first).
        """
        missing = [need.name for need in NODE_ATTRIBUTES if need.values(substrate) is None]
        if missing:
            raise TopologyError(
                f"dnn-inference needs the server attributes {missing}; draw them with "
                "edgeplace.topology.with_attributes(substrate, NODE_ATTRIBUTES, seed)",
                source=substrate.name,
            )
        return cls.from_arrays(
            substrate.capacity[:, substrate.resource_index(Resource.COMPUTE_TFLOPS)],
            substrate.capacity[:, substrate.resource_index(Resource.MEMORY_MB)],
            substrate.node_features[NodeFeature.UPLINK_MB_S] * MBIT_PER_MB,
            substrate.edge_index,
            substrate.bandwidth_mb_s * MBIT_PER_MB,
            None if substrate.coords is None else _local_km(substrate.coords),
        )


@functools.lru_cache(maxsize=16)
def load_server_network(topology: str, attribute_seed: int = 0) -> ServerNetwork:
    """The server network of a topology URI, its missing :data:`NODE_ATTRIBUTES` drawn from
    ``attribute_seed``; built once per process (envs and baselines share it)."""
    return ServerNetwork.from_substrate(load_with_attributes(topology, NODE_ATTRIBUTES, attribute_seed))


def least_delay_paths(bandwidth_matrix_mbps: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """All-pairs least-delay routes with link weights 1 / w (Dijkstra, scipy csgraph).

    Hop counts are read off the predecessor table by following every pair's pointer one level at a
    time (at most V - 1 vectorised passes).

    Shapes: bandwidth_matrix_mbps (V, V), 0 where there is no link -> (V, V) s per Mbit, (V, V) int64.
    """
    with np.errstate(divide="ignore"):
        weights = np.where(bandwidth_matrix_mbps > 0, 1.0 / bandwidth_matrix_mbps, 0.0)
    s_per_mbit, pred = csgraph.shortest_path(
        sp.csr_array(weights), method="D", directed=False, return_predecessors=True
    )
    if not np.isfinite(s_per_mbit).all():
        raise ValueError("the server network is disconnected")
    num = weights.shape[0]
    source = np.arange(num)[:, None]
    current = np.broadcast_to(np.arange(num), (num, num)).copy()  # current[s, t]: walks back from t to s
    hops = np.zeros((num, num), dtype=np.int64)
    while (moving := current != source).any():
        current = np.where(moving, np.take_along_axis(pred, current, axis=1), current)
        hops += moving
    return s_per_mbit, hops


def _local_km(coords: np.ndarray) -> np.ndarray:
    """(longitude, latitude) degrees to a planar km frame around their centre. Shapes: (V, 2) -> (V, 2)."""
    lon0, lat0 = coords.mean(axis=0)
    return np.stack(
        [(coords[:, 0] - lon0) * _KM_PER_DEG * np.cos(np.radians(lat0)), (coords[:, 1] - lat0) * _KM_PER_DEG],
        axis=1,
    )
