"""Parameters of the lm-inference system model (spec: papers/multi-agentic-lm-inference.md, sections b
and c). Every default is the spec's; the ones it marks "(ours)" are our calibrated choices."""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np


@dataclass(frozen=True)
class LmInferenceParams:
    """Time model, deadline and objective weights of the simulator."""

    slot_s: float = 30.0
    """Delta: length of a slot, s."""
    epoch_slots: int = 50
    """Slots per planning epoch."""
    deadline_s: float = 900.0
    """tau: end-to-end deadline of a request, s."""
    latency_weight: float = 0.5
    """lambda of Eq. 10: weight of the latency term against unfairness."""
    host_core_overhead: float = 0.25
    """omega: GPU-mode per-prompt time grows by omega / c with c host cores."""
    sharing_slowdown: float = 0.15
    """theta: a GPU-mode prompt runs 1 / (1 - theta) times slower while a pod on the same GPU is busy."""
    gpu_host_cores: int = 2
    """Host cores of a GPU pod in catalogue entries and the completion rule."""
    transfer_overhead_s: float = 0.3
    """Fixed per-direction overhead of a non-local transfer, s."""

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, bool) or not np.isfinite(value):
                raise ValueError(f"{f.name} must be a finite number, got {value!r}")
        for name in ("slot_s", "deadline_s"):
            if getattr(self, name) <= 0:
                raise ValueError(f"{name} must be > 0, got {getattr(self, name)!r}")
        for name in ("epoch_slots", "gpu_host_cores"):
            value = getattr(self, name)
            if int(value) != value or value < 1:
                raise ValueError(f"{name} must be a positive integer, got {value!r}")
        if not 0.0 <= self.latency_weight <= 1.0:
            raise ValueError(f"latency_weight must be in [0, 1], got {self.latency_weight!r}")
        if not 0.0 <= self.sharing_slowdown < 1.0:
            raise ValueError(f"sharing_slowdown must be in [0, 1), got {self.sharing_slowdown!r}")
        for name in ("host_core_overhead", "transfer_overhead_s"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must be >= 0, got {getattr(self, name)!r}")
