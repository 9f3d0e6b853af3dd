"""The four language-model (LM) types and their constants (spec: papers/multi-agentic-lm-inference.md,
section c, the LM table; every value marked "(ours)" there is our calibrated default).

:data:`LM_TABLE` holds each constant as an (I,) array indexed by LM, so the simulator and the policies
look up whole configurations with one fancy index. Units: GB of memory, seconds, MB per prompt.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from enum import IntEnum

import numpy as np


class Mode(IntEnum):
    """How a pod runs its LM; the order (off < cpu < gpu) is the catalogue's lexicographic order."""

    OFF = 0
    CPU = 1
    GPU = 2


@dataclass(frozen=True)
class LmType:
    """One LM type (a column of the spec's LM table)."""

    name: str
    min_ram_gb: float
    """M_i^min: RAM a pod holds in either mode."""
    min_vram_gb: float
    """V_i^min: vRAM a GPU-mode pod holds."""
    cpu_allowed: bool
    cpu_1core_s: float
    """T_i^(1): seconds per prompt on one core (CPU mode); NaN where CPU mode is not allowed."""
    cpu_serial: float
    """s_i: serial (Amdahl) fraction of the CPU time."""
    gpu_1vgpu_s: float
    """B_i: seconds per prompt on one vGPU (GPU mode)."""
    gpu_serial: float
    """sigma_i: serial fraction of the GPU time."""
    init_cpu_s: float
    """Pod initialisation in CPU mode (NaN where not allowed)."""
    init_gpu_s: float
    terminate_s: float
    upload_mb: float
    """Prompt size, origin -> destination, per prompt."""
    download_mb: float
    """Result size, destination -> origin, per prompt."""


LM_TYPES = (
    LmType("GPT2", 3.0, 1.5, True, 50.0, 0.2, 1.0, 0.5, 10.0, 15.0, 8.0, 0.002, 0.002),
    LmType("GPT2-large", 9.0, 4.5, True, 160.0, 0.2, 3.0, 0.4, 25.0, 35.0, 15.0, 0.002, 0.004),
    LmType("BLIP", 2.5, 2.5, False, np.nan, np.nan, 1.5, 0.4, np.nan, 20.0, 10.0, 0.5, 0.002),
    LmType("Stable Diffusion", 3.5, 6.0, False, np.nan, np.nan, 25.0, 0.15, np.nan, 45.0, 20.0, 0.002, 0.6),
)
NUM_LMS = len(LM_TYPES)
"""I: LM types; LM i of the spec (1-based) is index i - 1."""
LM_LABELS = tuple(f"LM{i + 1}" for i in range(NUM_LMS))


@dataclass(frozen=True)
class LmTable:
    """Every :class:`LmType` field as a read-only (I,) array (``name`` as a tuple)."""

    name: tuple[str, ...]
    min_ram_gb: np.ndarray
    min_vram_gb: np.ndarray
    cpu_allowed: np.ndarray
    cpu_1core_s: np.ndarray
    cpu_serial: np.ndarray
    gpu_1vgpu_s: np.ndarray
    gpu_serial: np.ndarray
    init_cpu_s: np.ndarray
    init_gpu_s: np.ndarray
    terminate_s: np.ndarray
    upload_mb: np.ndarray
    download_mb: np.ndarray

    def init_s(self, mode: np.ndarray | int, lm: np.ndarray | int) -> np.ndarray:
        """Initialisation time of a pod of ``lm`` in ``mode`` (CPU or GPU). Shapes: broadcast."""
        return np.where(np.asarray(mode) == Mode.GPU, self.init_gpu_s[lm], self.init_cpu_s[lm])


def _build_table() -> LmTable:
    columns: dict[str, object] = {"name": tuple(lm.name for lm in LM_TYPES)}
    for f in fields(LmType):
        if f.name != "name":
            column = np.array([getattr(lm, f.name) for lm in LM_TYPES])
            column.setflags(write=False)
            columns[f.name] = column
    return LmTable(**columns)


LM_TABLE = _build_table()
