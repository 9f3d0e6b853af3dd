"""Plain-text pieces shared by the llm agents' prompts: numbers, node hardware, LM constraints and the
JSON contracts, worded once."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from edgeplace.envs.lm_inference.cluster import Cluster
from edgeplace.envs.lm_inference.lm_types import LM_LABELS, LM_TABLE

ANSWER_RULE = "Answer with one JSON object and nothing else."


def number(value: float) -> str:
    """``value`` with 3 significant digits."""
    return f"{float(value):.3g}"


def per_lm(values: Sequence[float] | np.ndarray, unit: str = "") -> str:
    """``LM1 0.98, LM2 0.5, ...``. Shapes: values (I,)."""
    return ", ".join(f"{label} {number(v)}{unit}" for label, v in zip(LM_LABELS, values, strict=True))


def per_node(values: np.ndarray, names: Sequence[str], marks: np.ndarray | None = None) -> str:
    """``VM2 0.5, VM3 0.5*`` over the nonzero entries (``*`` where ``marks``), or ``none``.

    Shapes: values (N,); marks (N,) bool."""
    parts = [
        f"{name} {number(v)}{'*' if marks is not None and marks[n] else ''}"
        for n, (name, v) in enumerate(zip(names, values, strict=True))
        if v
    ]
    return ", ".join(parts) or "none"


def node_hardware(cluster: Cluster, node: int) -> str:
    """``VM3: 14 cores, 20 GB RAM, 2 vGPUs (24 GB vRAM)`` (allocatable)."""
    gpus = (
        f"{cluster.vgpus[node]} vGPUs ({number(cluster.vram_gb[node])} GB vRAM)"
        if cluster.vgpus[node]
        else "no GPU"
    )
    return (
        f"{cluster.names[node]}: {cluster.cores[node]} cores, {number(cluster.ram_gb[node])} GB RAM, {gpus}"
    )


def lm_constraints(cluster: Cluster, lm: int) -> str:
    """What LM ``lm`` needs, how fast it runs and where it can run."""
    label, name = LM_LABELS[lm], LM_TABLE.name[lm]
    speed = f"{number(LM_TABLE.gpu_1vgpu_s[lm])} s per prompt on 1 vGPU"
    if LM_TABLE.cpu_allowed[lm]:
        modes = f"CPU or GPU mode; {number(LM_TABLE.cpu_1core_s[lm])} s per prompt on 1 core, {speed}"
    else:
        modes = f"GPU mode only; {speed}"
    hosts = ", ".join(name for n, name in enumerate(cluster.names) if cluster.can_host[n, lm])
    return (
        f"{label} ({name}): {number(LM_TABLE.min_ram_gb[lm])} GB RAM, {number(LM_TABLE.min_vram_gb[lm])} GB "
        f"vRAM in GPU mode; {modes}; can run on {hosts or 'no node'}."
    )
