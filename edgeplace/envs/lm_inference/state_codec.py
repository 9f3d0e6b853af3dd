"""The exact decision context of an agent as one float64 vector: the :class:`ClusterView` it decides on
and, for the planner, the previous epoch's :class:`EpochTelemetry`.

Every observation carries it (key ``state``), so the rule backends and baselines, which decide on the
plain-data interfaces of :mod:`.hierarchy`, act through the env exactly as on the simulator. Learned
modules do not read it. Counts and times round-trip exactly (float64).

Layout: [slot, time_s, has_telemetry, first_slot, end_slot, duration_s, arrived_prompts (I),
prompt_actual_s (I), prompt_nominal_s (I), the (N, I) view fields in :data:`PAIR_FIELDS` order, the
(N,) view fields in :data:`NODE_FIELDS` order].
"""

from __future__ import annotations

import numpy as np

from edgeplace.envs.lm_inference.cluster_view import ClusterView
from edgeplace.envs.lm_inference.lm_types import NUM_LMS
from edgeplace.envs.lm_inference.telemetry import EpochTelemetry

PAIR_FIELDS = (
    "demand",
    "backlog_prompts",
    "inbound_prompts",
    "queued_requests",
    "oldest_age_s",
    "pod_state",
    "mode",
    "cores",
    "vgpus",
    "transition_left_s",
)
NODE_FIELDS = ("pending", "free_cores", "free_vgpus", "free_ram_gb", "eta_cpu", "eta_gpu", "eta_mem")
_INTEGER_FIELDS = frozenset(
    {"demand", "backlog_prompts", "inbound_prompts", "queued_requests", "pod_state", "mode", "cores"}
    | {"vgpus", "free_cores", "free_vgpus"}
)
_HEADER = 6 + 3 * NUM_LMS


def state_size(num_nodes: int) -> int:
    """Length of the vector for N nodes."""
    return _HEADER + num_nodes * (len(PAIR_FIELDS) * NUM_LMS + len(NODE_FIELDS))


def encode_state(view: ClusterView, telemetry: EpochTelemetry | None = None) -> np.ndarray:
    """The context as a vector. Shapes: -> (state_size(N),) float64."""
    if telemetry is None:
        measured = np.zeros(_HEADER - 2)
    else:
        measured = np.concatenate(
            [
                [1.0, telemetry.first_slot, telemetry.end_slot, telemetry.duration_s],
                telemetry.arrived_prompts,
                telemetry.prompt_actual_s,
                telemetry.prompt_nominal_s,
            ]
        )
    parts = [[view.slot, view.time_s], measured]
    parts += [getattr(view, name).ravel() for name in PAIR_FIELDS]
    parts += [getattr(view, name) for name in NODE_FIELDS]
    return np.concatenate(parts, dtype=np.float64)


def decode_state(vector: np.ndarray, num_nodes: int) -> tuple[ClusterView, EpochTelemetry | None]:
    """The view and telemetry a vector holds.

    Raises:
        ValueError: a vector of another length than ``state_size(num_nodes)``.
    """
    vector = np.asarray(vector, dtype=np.float64)
    if vector.shape != (state_size(num_nodes),):
        raise ValueError(
            f"state: expected ({state_size(num_nodes)},) for {num_nodes} nodes, got {vector.shape}"
        )
    telemetry = None
    if vector[2]:
        arrays = vector[6:_HEADER].reshape(3, NUM_LMS)
        telemetry = EpochTelemetry(int(vector[3]), int(vector[4]), float(vector[5]), *arrays)
    fields: dict[str, object] = {"slot": int(vector[0]), "time_s": float(vector[1])}
    offset, pair = _HEADER, num_nodes * NUM_LMS
    for name in PAIR_FIELDS:
        fields[name] = _typed(name, vector[offset : offset + pair].reshape(num_nodes, NUM_LMS))
        offset += pair
    for name in NODE_FIELDS:
        fields[name] = _typed(name, vector[offset : offset + num_nodes])
        offset += num_nodes
    fields["pending"] = fields["pending"].astype(bool)
    return ClusterView(**fields), telemetry


def _typed(name: str, values: np.ndarray) -> np.ndarray:
    return values.astype(np.int64) if name in _INTEGER_FIELDS else values.copy()
