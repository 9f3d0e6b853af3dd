"""The static server network of the dnn-inference scenario: per-server attributes and least-delay routes.

Built once per (topology URI, attribute seed) and shared by the env and the baselines. Spec:
papers/hisper.md, sections b (Eq. 3, 4, 8) and c.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from scipy.sparse import csgraph

from edgeplace.topology import NodeFeature, Resource, Substrate, load_topology
from edgeplace.topology.geo import EARTH_RADIUS_KM

MBIT_PER_MB = 8.0
#: The spec's attribute sets (section c, steps 3-4), drawn for substrates that do not carry them.
LINK_BW_MBPS_SET = (50.0, 100.0, 200.0, 300.0, 400.0)
UPLINK_MBPS_SET = (36.0, 48.0, 64.0, 72.0)
COMPUTE_TFLOPS_SET = (0.5, 1.26, 1.33)
MEMORY_GB_SET = (1.0, 2.0, 4.0)
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
    def from_substrate(cls, substrate: Substrate, attribute_seed: int = 0) -> ServerNetwork:
        """Servers of any substrate.

        A substrate that carries an uplink rate together with compute and memory resources (the
        ``geo-radius`` generator, which draws them by spec c) is used as it is: compute in TFLOP/s,
        memory in MB, bandwidths converted from MB/s to Mbit/s. Any other substrate keeps only its
        graph (and coordinates); ``np.random.default_rng(attribute_seed)`` then draws, in this
        order, link bandwidths (E,), uplinks (V,), compute (V,) and memory (V,) from the spec's sets.
        """
        positions = None if substrate.coords is None else _local_km(substrate.coords)
        names = set(substrate.resource_names)
        if (
            NodeFeature.UPLINK_MB_S in substrate.node_features
            and {Resource.COMPUTE, Resource.MEMORY} <= names
        ):
            return cls.from_arrays(
                substrate.capacity[:, substrate.resource_index(Resource.COMPUTE)],
                substrate.capacity[:, substrate.resource_index(Resource.MEMORY)],
                substrate.node_features[NodeFeature.UPLINK_MB_S] * MBIT_PER_MB,
                substrate.edge_index,
                substrate.bandwidth_mb_s * MBIT_PER_MB,
                positions,
            )
        rng = np.random.default_rng(attribute_seed)
        link_bw = rng.choice(LINK_BW_MBPS_SET, substrate.num_edges)
        uplink = rng.choice(UPLINK_MBPS_SET, substrate.num_nodes)
        compute = rng.choice(COMPUTE_TFLOPS_SET, substrate.num_nodes)
        memory = rng.choice(MEMORY_GB_SET, substrate.num_nodes) * 1024.0
        return cls.from_arrays(compute, memory, uplink, substrate.edge_index, link_bw, positions)


@functools.lru_cache(maxsize=16)
def load_server_network(topology: str, attribute_seed: int = 0) -> ServerNetwork:
    """The server network of a topology URI, built once per process (envs and baselines share it)."""
    return ServerNetwork.from_substrate(load_topology(topology), attribute_seed)


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
