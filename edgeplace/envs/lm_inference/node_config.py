"""A deployment decision for one node: per LM, the pod's mode, cores and vGPUs (or off)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from edgeplace.envs.lm_inference.cluster import Cluster
from edgeplace.envs.lm_inference.lm_types import LM_LABELS, LM_TABLE, NUM_LMS, Mode


@dataclass(frozen=True)
class NodeConfig:
    """Target configuration of one node's pods, one entry per LM (index i is LM i + 1).

    An off LM has 0 cores and 0 vGPUs; a CPU pod has >= 1 core and 0 vGPUs; a GPU pod has >= 1 core
    (host cores) and >= 1 vGPU. Construction checks these per-pod rules; :meth:`check_fits` checks
    Eq. 1 against a node's allocatable hardware.

    Shapes: mode, cores, vgpus: I ints each (tuples, so configurations hash and compare).
    """

    mode: tuple[int, ...]
    cores: tuple[int, ...]
    vgpus: tuple[int, ...]

    def __post_init__(self) -> None:
        for name in ("mode", "cores", "vgpus"):
            values = tuple(int(v) for v in getattr(self, name))
            if len(values) != NUM_LMS:
                raise ValueError(f"NodeConfig.{name}: expected {NUM_LMS} entries, got {len(values)}")
            object.__setattr__(self, name, values)
        for i in range(NUM_LMS):
            mode, cores, vgpus = self.mode[i], self.cores[i], self.vgpus[i]
            where = f"NodeConfig {LM_LABELS[i]}"
            if mode not in (Mode.OFF, Mode.CPU, Mode.GPU):
                raise ValueError(f"{where}: field 'mode' must be 0 (off), 1 (cpu) or 2 (gpu), got {mode}")
            if mode == Mode.OFF and (cores or vgpus):
                raise ValueError(f"{where}: an off pod has 0 cores and 0 vGPUs, got {cores} and {vgpus}")
            if mode != Mode.OFF and cores < 1:
                raise ValueError(f"{where}: field 'cores' must be >= 1 for an active pod, got {cores}")
            if mode == Mode.CPU and (vgpus or not LM_TABLE.cpu_allowed[i]):
                raise ValueError(f"{where}: field 'mode' cpu is not allowed (GPU-only LM or vGPUs {vgpus})")
            if mode == Mode.GPU and vgpus < 1:
                raise ValueError(f"{where}: field 'vgpus' must be >= 1 in GPU mode, got {vgpus}")

    @classmethod
    def off(cls) -> NodeConfig:
        """Every LM off."""
        return cls((Mode.OFF,) * NUM_LMS, (0,) * NUM_LMS, (0,) * NUM_LMS)

    @classmethod
    def from_pods(cls, pods: dict[int, tuple[int, int, int]]) -> NodeConfig:
        """From ``{lm: (mode, cores, vgpus)}``; LMs not named are off."""
        rows = [pods.get(i, (Mode.OFF, 0, 0)) for i in range(NUM_LMS)]
        return cls(*(tuple(column) for column in zip(*rows, strict=True)))

    def pod(self, lm: int) -> tuple[int, int, int]:
        """(mode, cores, vgpus) of ``lm``."""
        return self.mode[lm], self.cores[lm], self.vgpus[lm]

    @property
    def active(self) -> np.ndarray:
        """Which LMs are on. Shapes: (I,) bool."""
        return np.asarray(self.mode) != Mode.OFF

    def check_fits(self, cluster: Cluster, node: int) -> None:
        """Eq. 1 on the node's allocatable hardware: sums of cores, vGPUs, RAM (every active pod) and
        vRAM (GPU pods) within capacity.

        Raises:
            ValueError: naming the node and the field that does not fit.
        """
        mode = np.asarray(self.mode)
        gpu = mode == Mode.GPU
        needs = {
            "cores": (sum(self.cores), cluster.cores[node]),
            "vgpus": (sum(self.vgpus), cluster.vgpus[node]),
            "ram_gb": (LM_TABLE.min_ram_gb[mode != Mode.OFF].sum(), cluster.ram_gb[node]),
            "vram_gb": (LM_TABLE.min_vram_gb[gpu].sum(), cluster.vram_gb[node]),
        }
        for name, (need, capacity) in needs.items():
            if need > capacity + 1e-9:
                raise ValueError(
                    f"NodeConfig for {cluster.names[node]}: field {name!r} needs {need:g}, "
                    f"the node has {capacity:g} allocatable"
                )
