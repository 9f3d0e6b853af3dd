"""Pydantic bodies of the dnn-inference routes (``/v1/dnn-inference/place`` and ``/place-batch``).

A slot's state is what the agents observe (papers/hisper.md, e): each server's background work and
memory. A request is one agent's inference request: the agent (hence its service and its own trained
actor), its local server, deadline and raw data size. Units follow the scenario: TFLOP of work, MB of
memory and data, seconds, dollars. Checks that need the topology (array lengths, server indices,
agent ids, feasibility) happen in :class:`~edgeplace.serve.dnn_inference_placer.DnnInferencePlacer`.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, Field

from edgeplace.serve.schemas import (
    MAX_NODES,
    STRICT_INPUT,
    BatchPlacement,
    JsonInt,
    PlaceBatchRequest,
    PlaceRequest,
)

MAX_BACKGROUND_TFLOP = 1e3
"""Sanity bound on a server's background work h_sys (training draws 0.1-0.3 TFLOP)."""
MAX_MEMORY_MB = 1e7
"""Sanity bound on a server's background memory H_mem (training draws 100-900 MB)."""
MAX_DEADLINE_S = 1e4
"""Sanity bound on a deadline (training draws 0.5-2 s for OD, 1-25 s for MOT)."""
MAX_DATA_MB = 1e5
"""Sanity bound on a request's raw data (training draws 1-10 MB for OD, 5-20 MB for MOT)."""
AGENT_PATTERN = r"^(od|mot)_(0|[1-9][0-9]{0,3})$"

BackgroundWork = Annotated[float, Field(ge=0.0, le=MAX_BACKGROUND_TFLOP)]
BackgroundMemory = Annotated[float, Field(ge=0.0, le=MAX_MEMORY_MB)]


class DnnSlotState(BaseModel):
    """The servers at the start of a slot, before any request of the slot is placed."""

    model_config = STRICT_INPUT

    background_tflop: list[BackgroundWork] = Field(
        max_length=MAX_NODES,
        description="h_sys per server: background work queued ahead of the slot's requests, TFLOP "
        "(V values, server index order; training draws U(0.1, 0.3)).",
    )
    background_memory_mb: list[BackgroundMemory] = Field(
        max_length=MAX_NODES,
        description="H_mem per server: memory taken by background work, MB (V values; training draws "
        "U(100, 900); server capacities are 1, 2 or 4 GB).",
    )


class DnnRequest(BaseModel):
    """One agent's inference request of the slot."""

    model_config = STRICT_INPUT

    agent: str = Field(
        pattern=AGENT_PATTERN,
        description="The requesting agent: ``od_<n>`` (object detection) or ``mot_<n>`` (multiple-object "
        "tracking), n < the policy's agents per service. Its own trained actor places the request.",
    )
    local_server: JsonInt = Field(
        ge=0, description="v_u: index of the server whose access point receives the request's data."
    )
    deadline_s: float = Field(
        gt=0.0,
        le=MAX_DEADLINE_S,
        description="dreq_u: the request's deadline, s (training: OD 0.5-2 s, MOT 1-25 s).",
    )
    data_mb: float = Field(
        ge=0.0,
        le=MAX_DATA_MB,
        description="data_u: raw data before the configuration scales it, MB (training: OD 1-10, MOT 5-20).",
    )


class DnnPlaceRequest(PlaceRequest[DnnSlotState, DnnRequest]):
    """``POST /v1/dnn-inference/place``: one agent's request on one slot state."""


class DnnPlaceBatchRequest(PlaceBatchRequest[DnnSlotState, DnnRequest]):
    """``POST /v1/dnn-inference/place-batch``: many agents' requests (any agents in any order; an agent
    may repeat), each placed independently on the same slot state (the env's agents act
    simultaneously on the slot's pre-decision state)."""


class DnnCandidate(BaseModel):
    """A sub-action and its probability under the policy's head."""

    index: int
    probability: float


class DnnCandidates(BaseModel):
    """The top-k sub-actions of each head, best first. The heads decide in turn (configuration, model,
    server); each one's probabilities are conditioned on the greedy choices of the heads before it."""

    configuration: list[DnnCandidate]
    model: list[DnnCandidate]
    server: list[DnnCandidate]


class DnnPlacement(BaseModel):
    """The greedy action of the request's agent and the system model's estimates for it.

    The estimates place the request alone on the given state (background only: no other request of
    the slot, no shared instance), which is exact for the slot's first agent; in the env, requests of
    earlier agents on the same server add to its queue and memory.
    """

    policy: str
    agent: str
    service: str = Field(description="``od`` (object detection) or ``mot`` (multiple-object tracking).")
    configuration: int = Field(
        description="i = 4 * resolution index + x index (0 = highest quality): resolution scale "
        "(1, .75, .5, .25); x = JPEG quality (100, 90, 80, 70) for OD, frames per second (30, 15, 10, 5) "
        "for MOT."
    )
    model: int = Field(description="DNN model index of the service (OD: 0-3, MOT: 0-2).")
    model_name: str
    server: int = Field(description="Index of the server that runs the inference.")
    probability: float = Field(description="Probability of the chosen (configuration, model, server).")
    candidates: DnnCandidates
    accepted: bool = Field(description="Admission: meets the deadline and fits the server's memory.")
    meets_deadline: bool = Field(description="delay_s <= deadline_s (constraint 15).")
    fits_memory: bool = Field(
        description="Background memory + data + the model instance fit the server (constraint 14)."
    )
    delay_s: float = Field(description="Estimated access + transmission + queue and compute delay, s.")
    deadline_s: float
    accuracy: float = Field(description="Phi: mAP (OD) or MOTA (MOT) of the configuration and model.")
    accuracy_std: float = Field(description="Phi standardised over the service's table (Eq. 19), 0-1.")
    cost: float = Field(
        description="Routing, compute and data-memory cost plus the new instance's memory cost, $; "
        "0 when not accepted (rejected requests pay nothing)."
    )
    memory_mb: float = Field(description="Memory the request takes on the server: its data + the model, MB.")
    reward: float = Field(
        description="The request's own reward term: accuracy_std (or -100 when not accepted) - delay_s "
        "- cost."
    )


class DnnBatchPlacement(BatchPlacement[DnnPlacement]):
    """``POST /v1/dnn-inference/place-batch``: one placement per request, in request order."""
