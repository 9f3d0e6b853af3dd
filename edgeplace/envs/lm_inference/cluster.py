"""The workers of the lm-inference scenario: hardware per node and transfer times between nodes.

Built from any substrate (:meth:`Cluster.from_substrate`). The testbed (``testbed:bristol``) carries
the hardware and a worker tag; any other topology is mapped onto workers by one seeded rule, so the
same workload runs on it.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

from edgeplace.envs.lm_inference.lm_types import LM_TABLE
from edgeplace.envs.lm_inference.params import LmInferenceParams
from edgeplace.topology import Resource, Substrate, load_topology
from edgeplace.topology.testbeds import VGPU, VGPUS_PER_GPU, VRAM, WORKER, testbed

MBIT_PER_MB = 8.0
DEFAULT_TOPOLOGY = "testbed:bristol"


@functools.cache
def _testbed_profiles() -> np.ndarray:
    """Worker hardware rows of the Bristol testbed: (cores, RAM GB, vGPUs, vRAM GB). Shapes: (6, 4)."""
    bristol = testbed("bristol")
    columns = [bristol.resource_index(r) for r in (Resource.COMPUTE, Resource.MEMORY, VGPU, VRAM)]
    return bristol.capacity[bristol.affinity[WORKER]][:, columns]


@dataclass(frozen=True, eq=False)
class Cluster:
    """Workers (allocatable hardware) and one-way transfer terms between every pair.

    A non-local transfer of K prompts of s MB each takes ``overhead + delay_s[a, b] + 8 s K /
    bandwidth_mbit_s[a, b]`` seconds (spec c, "Transfers"); a local one takes 0.

    Shapes (N workers; all arrays read-only):
        names: N labels (``VM<id>`` on the testbed, ``n<id>`` elsewhere).
        cores: (N,) int64 allocatable cores. ram_gb, vram_gb: (N,) float64 GB.
        vgpus: (N,) int64 vGPUs; vGPU k is on physical GPU ``k // vgpus_per_gpu``.
        delay_s: (N, N) one-way route delay, 0 on the diagonal.
        bandwidth_mbit_s: (N, N) route bottleneck bandwidth, Mbit/s, inf on the diagonal.
    """

    names: tuple[str, ...]
    cores: np.ndarray
    ram_gb: np.ndarray
    vgpus: np.ndarray
    vram_gb: np.ndarray
    delay_s: np.ndarray
    bandwidth_mbit_s: np.ndarray
    vgpus_per_gpu: int = VGPUS_PER_GPU

    def __post_init__(self) -> None:
        n = len(self.names)
        for name in ("cores", "ram_gb", "vgpus", "vram_gb", "delay_s", "bandwidth_mbit_s"):
            value = np.array(getattr(self, name), dtype=np.int64 if name in ("cores", "vgpus") else float)
            expected = (n, n) if name in ("delay_s", "bandwidth_mbit_s") else (n,)
            if value.shape != expected:
                raise ValueError(f"Cluster.{name}: expected shape {expected}, got {value.shape}")
            if np.isnan(value).any() or (value < 0).any():
                raise ValueError(f"Cluster.{name}: values must be >= 0")
            value.setflags(write=False)
            object.__setattr__(self, name, value)
        if n == 0:
            raise ValueError("Cluster.names: a cluster needs at least one worker")
        if (self.cores < 1).any():
            raise ValueError(f"Cluster.cores: every worker needs a core, got {self.cores.tolist()}")

    @property
    def num_nodes(self) -> int:
        """N."""
        return len(self.names)

    @functools.cached_property
    def can_host(self) -> np.ndarray:
        """Whether node n can ever host LM i (some mode fits its hardware). Shapes: (N, I) bool."""
        ram_ok = LM_TABLE.min_ram_gb[None, :] <= self.ram_gb[:, None]
        gpu_ok = (self.vgpus[:, None] >= 1) & (LM_TABLE.min_vram_gb[None, :] <= self.vram_gb[:, None])
        return _frozen(ram_ok & (gpu_ok | LM_TABLE.cpu_allowed[None, :]))

    def transfer_s(self, src: np.ndarray, dst: np.ndarray, size_mb: np.ndarray, params: LmInferenceParams):
        """One-way transfer time of ``size_mb`` MB from ``src`` to ``dst``; 0 when local.

        Shapes: src, dst, size_mb broadcast -> float64 s.
        """
        src, dst = np.asarray(src), np.asarray(dst)
        remote = (
            params.transfer_overhead_s
            + self.delay_s[src, dst]
            + MBIT_PER_MB * size_mb / (self.bandwidth_mbit_s[src, dst])
        )
        return np.where(src == dst, 0.0, remote)

    def round_trip_s(self, lm: int, prompts: int, params: LmInferenceParams) -> np.ndarray:
        """Upload plus download time of ``prompts`` prompts of ``lm`` for every (origin, destination).

        Shapes: returns (N, N) s, row = origin, column = destination.
        """
        origin = np.arange(self.num_nodes)[:, None]
        dest = np.arange(self.num_nodes)[None, :]
        up = self.transfer_s(origin, dest, LM_TABLE.upload_mb[lm] * prompts, params)
        return up + self.transfer_s(dest, origin, LM_TABLE.download_mb[lm] * prompts, params)

    @classmethod
    def from_substrate(cls, substrate: Substrate, hardware_seed: int = 0) -> Cluster:
        """Workers of any substrate.

        A substrate with the LM hardware (resources ``compute`` cores, ``memory`` GB, ``vgpu`` and
        ``vram`` GB, as ``testbed:NAME`` gives) uses it as it is, and its nodes tagged ``worker``
        (all nodes without the tag), named ``VM<node id>``. Any other substrate keeps its graph and all
        its nodes as workers; ``np.random.default_rng(hardware_seed).permutation(6)``, tiled, then gives
        node k the k-th worker profile of the Bristol testbed (one CPU-only 22-core, four 1-GPU and
        one 2-GPU 14-core nodes), so every block of nodes 6m..6m+5 holds the testbed's mix. Transfers use the
        substrate's min-hop routes: their delay and bottleneck bandwidth. Names: ``n<node id>``.
        """
        names = set(substrate.resource_names)
        if {Resource.COMPUTE, Resource.MEMORY, VGPU, VRAM} <= names:
            columns = [substrate.resource_index(r) for r in (Resource.COMPUTE, Resource.MEMORY, VGPU, VRAM)]
            hardware = substrate.capacity[:, columns]
            workers = np.flatnonzero(substrate.affinity.get(WORKER, np.ones(substrate.num_nodes, bool)))
            hardware, prefix = hardware[workers], "VM"
        else:
            workers = np.arange(substrate.num_nodes)
            profiles = _testbed_profiles()
            order = np.random.default_rng(hardware_seed).permutation(len(profiles))
            hardware, prefix = profiles[np.resize(order, substrate.num_nodes)], "n"
        paths = substrate.paths
        return cls(
            names=tuple(f"{prefix}{int(substrate.node_ids[w])}" for w in workers),
            cores=hardware[:, 0].astype(np.int64),
            ram_gb=hardware[:, 1],
            vgpus=hardware[:, 2].astype(np.int64),
            vram_gb=hardware[:, 3],
            delay_s=paths.delay_s[np.ix_(workers, workers)],
            bandwidth_mbit_s=paths.bottleneck_bw_mb_s[np.ix_(workers, workers)] * MBIT_PER_MB,
        )


@functools.lru_cache(maxsize=16)
def load_cluster(topology: str = DEFAULT_TOPOLOGY, hardware_seed: int = 0) -> Cluster:
    """The cluster of a topology URI, built once per process (simulators and policies share it)."""
    return Cluster.from_substrate(load_topology(topology), hardware_seed)


def _frozen(array: np.ndarray) -> np.ndarray:
    array.setflags(write=False)
    return array
