"""B dnn-inference requests, each on its own slot state: what an observation shows of a request, as
arrays (decoded by :meth:`ObservationLayout.decode_batch`, or built from a Serve request body)."""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np


@dataclass(frozen=True)
class RequestBatch:
    """B requests and the server background each one sees.

    Shapes (B requests, V servers): service, local (B,) int64; deadline_s (B,) s; data_mb (B,) raw
    data, MB; background_tflop (B, V) h_sys, TFLOP; background_memory_mb (B, V) H_mem, MB.
    """

    service: np.ndarray
    local: np.ndarray
    deadline_s: np.ndarray
    data_mb: np.ndarray
    background_tflop: np.ndarray
    background_memory_mb: np.ndarray

    def __len__(self) -> int:
        return len(self.service)

    def select(self, index: np.ndarray) -> RequestBatch:
        """The requests at ``index`` (K,)."""
        return RequestBatch(*(getattr(self, f.name)[index] for f in fields(self)))
