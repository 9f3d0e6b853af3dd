"""Per-prompt inference time (spec c, "Per-prompt time"): Amdahl-type, so returns diminish.

- CPU mode: ``t = T_i^(1) (s_i + (1 - s_i) / c)`` with c cores;
- GPU mode: ``t = B_i (sigma_i + (1 - sigma_i) / g) (1 + omega / c) / (1 - theta [shared])`` with g
  vGPUs, c host cores, and ``shared`` true while another pod holding a vGPU on the same physical GPU
  is busy.

A vGPU always gives half a GPU (time slicing is not work-conserving); unused cores are wasted.
"""

from __future__ import annotations

import numpy as np

from edgeplace.envs.lm_inference.lm_types import LM_TABLE, Mode
from edgeplace.envs.lm_inference.params import LmInferenceParams


def prompt_time_s(
    lm: np.ndarray | int,
    mode: np.ndarray | int,
    cores: np.ndarray | int,
    vgpus: np.ndarray | int,
    params: LmInferenceParams,
    shared: np.ndarray | bool = False,
) -> np.ndarray:
    """Seconds one prompt of ``lm`` takes in a pod of the given configuration.

    Shapes: every argument broadcasts; returns the broadcast shape, float64, ``inf`` where the pod
    is off or the configuration cannot run (CPU mode for a GPU-only LM, 0 cores, GPU mode on 0 vGPUs).
    """
    lm, mode = np.asarray(lm), np.asarray(mode)
    cores = np.asarray(cores, dtype=np.float64)
    vgpus = np.asarray(vgpus, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        cpu_serial = LM_TABLE.cpu_serial[lm]
        cpu = LM_TABLE.cpu_1core_s[lm] * (cpu_serial + (1.0 - cpu_serial) / cores)
        gpu_serial = LM_TABLE.gpu_serial[lm]
        gpu = (
            LM_TABLE.gpu_1vgpu_s[lm]
            * (gpu_serial + (1.0 - gpu_serial) / vgpus)
            * (1.0 + params.host_core_overhead / cores)
            / (1.0 - params.sharing_slowdown * np.asarray(shared, dtype=np.float64))
        )
    runnable_cpu = (mode == Mode.CPU) & LM_TABLE.cpu_allowed[lm] & (cores >= 1)
    runnable_gpu = (mode == Mode.GPU) & (cores >= 1) & (vgpus >= 1)
    return np.where(runnable_cpu, cpu, np.where(runnable_gpu, gpu, np.inf))
