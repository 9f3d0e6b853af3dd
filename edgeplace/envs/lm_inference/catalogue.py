"""Feasible mode vectors and the deployment catalogue of a node (spec d, "Catalogue construction").

A mode vector gives each LM off, cpu or gpu (LM3/LM4: off or gpu). It is feasible on a node when at
most G_n LMs are in GPU mode, the RAM of every active pod and the vRAM of GPU pods fit (Eq. 1), and
the cores give each GPU pod its host cores and each CPU pod at least one.

The catalogue turns vectors into configurations: the all-off entry first, then, for every other
feasible vector in lexicographic order (off < cpu < gpu, LM1 most significant), every composition of
the node's G_n vGPUs into positive parts over its GPU-mode LMs (none when it has none), each GPU pod
with ``gpu_host_cores`` cores; the remaining a cores go to the CPU-mode LMs: all to a single one, or
for two, LM1 = floor(a r / 4 + 0.5) and the other the rest, r = 1, 2, 3. On the Bristol testbed this
gives 6 (VM2), 37 (VM3-6) and 86 (VM7) entries.
"""

from __future__ import annotations

import functools
import itertools

import numpy as np

from edgeplace.envs.lm_inference.cluster import Cluster
from edgeplace.envs.lm_inference.lm_types import LM_TABLE, NUM_LMS, Mode
from edgeplace.envs.lm_inference.node_config import NodeConfig
from edgeplace.envs.lm_inference.params import LmInferenceParams
from edgeplace.envs.lm_inference.time_model import prompt_time_s

_CPU_SPLITS = (1, 2, 3)
"""r of the two-CPU-LM core splits."""


_Hardware = tuple[int, float, float, int, int]


def _hardware(cluster: Cluster, node: int, params: LmInferenceParams) -> _Hardware:
    """(cores, RAM GB, vRAM GB, vGPUs, GPU host cores): what the catalogue of a node depends on (the
    cache key, so nodes of one profile share their tables)."""
    return (
        int(cluster.cores[node]),
        float(cluster.ram_gb[node]),
        float(cluster.vram_gb[node]),
        int(cluster.vgpus[node]),
        params.gpu_host_cores,
    )


@functools.cache
def _mode_vectors(cores: int, ram_gb: float, vram_gb: float, vgpus: int, host_cores: int) -> np.ndarray:
    choices = [
        (Mode.OFF, Mode.CPU, Mode.GPU) if LM_TABLE.cpu_allowed[i] else (Mode.OFF, Mode.GPU)
        for i in range(NUM_LMS)
    ]
    rows = []
    for modes in itertools.product(*choices):
        mode = np.asarray(modes)
        gpu, active = mode == Mode.GPU, mode != Mode.OFF
        fits = (
            gpu.sum() <= vgpus
            and LM_TABLE.min_ram_gb[active].sum() <= ram_gb + 1e-9
            and LM_TABLE.min_vram_gb[gpu].sum() <= vram_gb + 1e-9
            and host_cores * gpu.sum() + (mode == Mode.CPU).sum() <= cores
        )
        if fits:
            rows.append(modes)
    table = np.asarray(rows, dtype=np.int64).reshape(-1, NUM_LMS)
    table.setflags(write=False)
    return table


def mode_vectors(cluster: Cluster, node: int, params: LmInferenceParams) -> np.ndarray:
    """Feasible mode vectors of ``node`` in lexicographic order (all-off first).

    Shapes: returns (A, I) int64 :class:`Mode` values, read-only.
    """
    return _mode_vectors(*_hardware(cluster, node, params))


def compositions(total: int, parts: int) -> list[tuple[int, ...]]:
    """Ordered ways to write ``total`` as ``parts`` positive integers, in lexicographic order (one
    empty composition when ``parts`` is 0)."""
    if parts == 0:
        return [()]
    return [
        tuple(b - a for a, b in zip((0, *cuts), (*cuts, total), strict=True))
        for cuts in itertools.combinations(range(1, total), parts - 1)
    ]


def cpu_core_splits(spare: int, cpu_lms: list[int]) -> list[dict[int, int]]:
    """Ways to give ``spare`` cores to the CPU-mode LMs (spec d, step 4); splits that leave an LM
    without a core are dropped."""
    if not cpu_lms:
        return [{}]
    if len(cpu_lms) == 1:
        return [{cpu_lms[0]: spare}] if spare >= 1 else []
    if len(cpu_lms) != 2:
        raise ValueError(f"the catalogue splits cores over at most 2 CPU-mode LMs, got {len(cpu_lms)}")
    splits = []
    for r in _CPU_SPLITS:
        first = int(np.floor(spare * r / 4 + 0.5))
        if 1 <= first <= spare - 1:
            splits.append({cpu_lms[0]: first, cpu_lms[1]: spare - first})
    return splits


def catalogue(cluster: Cluster, node: int, params: LmInferenceParams) -> tuple[NodeConfig, ...]:
    """The deployment catalogue of ``node`` (see the module docstring)."""
    return _catalogue(*_hardware(cluster, node, params))


@functools.cache
def _catalogue(
    cores: int, ram_gb: float, vram_gb: float, vgpus: int, host_cores: int
) -> tuple[NodeConfig, ...]:
    entries = [NodeConfig.off()]
    for modes in _mode_vectors(cores, ram_gb, vram_gb, vgpus, host_cores)[1:].tolist():
        gpu_lms = [i for i, m in enumerate(modes) if m == Mode.GPU]
        cpu_lms = [i for i, m in enumerate(modes) if m == Mode.CPU]
        spare = cores - host_cores * len(gpu_lms)
        for parts in compositions(vgpus, len(gpu_lms)):
            for split in cpu_core_splits(spare, cpu_lms):
                pods = {i: (Mode.GPU, host_cores, g) for i, g in zip(gpu_lms, parts, strict=True)}
                pods.update({i: (Mode.CPU, c, 0) for i, c in split.items()})
                entries.append(NodeConfig.from_pods(pods))
    return tuple(entries)


def entry_prompt_times(cluster: Cluster, node: int, params: LmInferenceParams) -> np.ndarray:
    """Unshared per-prompt time of every LM under every catalogue entry of ``node``, inf where off.

    Shapes: returns (E, I) float64 s, rows in catalogue order.
    """
    entries = catalogue(cluster, node, params)
    mode = np.array([e.mode for e in entries])
    cores = np.array([e.cores for e in entries])
    vgpus = np.array([e.vgpus for e in entries])
    return prompt_time_s(np.arange(NUM_LMS)[None, :], mode, cores, vgpus, params)
