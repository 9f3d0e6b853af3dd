"""Pydantic request and response bodies of the placement API: the common ones, the generic outlines
of the placement routes' bodies, then the genai-chain bodies (the other scenarios' are in their own
modules). Requests are strict (no extra fields, no strings for numbers, no NaN or infinity) and
bounded, so every value that reaches the scenario code is finite; checks that need the topology
(array lengths, node indices, feasibility) happen in the scenario's placer.

A scenario's route bodies subclass the outlines with its own state and request models, e.g.
``class ChainPlaceRequest(PlaceRequest[ChainNetworkState, ChainRequest])``: the subclass names the
schema in the OpenAPI document and its docstring describes it.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any, Generic, TypeVar

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from edgeplace.workloads.genai_chain import NUM_MODEL_TYPES, NUM_STAGES, SIZE_UNIT

#: Request bodies: unknown fields, type coercion from strings and non-finite floats are errors.
STRICT_INPUT = ConfigDict(extra="forbid", strict=True, allow_inf_nan=False, frozen=True)

MAX_NODES = 4096
"""Upper bound on per-node arrays in the schema; the exact length N is checked against the topology."""
MAX_LOAD = 1e6
"""Sanity bound on a node load L_s (abstract compute units; real loads are tens)."""
MAX_TELEMETRY = 1e3
"""Sanity bound on a telemetry slowdown delta (real values are below ~10)."""
MAX_SIZE_SCALE = 1e3
"""Sanity bound on a request's size scale (size / 512)."""
MAX_BATCH_REQUESTS = 1024
"""Hard cap on ``requests`` of a batch in the schema; the deployment's own limit is lower or equal."""


class HealthStatus(StrEnum):
    """Values of ``Health.status``."""

    OK = "ok"


class ErrorBody(BaseModel):
    """Every 4xx (and the never-expected 5xx) response body."""

    detail: str = Field(description="What is wrong, naming the field.")
    field: str | None = Field(
        description="Dotted path of the offending input, e.g. ``state.load`` or ``requests[3].route[2]``; "
        "``body`` for the body as a whole, ``path``/``method`` for an unknown route or method."
    )
    errors: list[FieldError] = Field(
        default_factory=list, description="Every problem found, when validation found several."
    )


class FieldError(BaseModel):
    """One problem of a request body."""

    field: str
    detail: str


class Health(BaseModel):
    """``GET /healthz``."""

    status: HealthStatus
    policies: int = Field(description="Number of policies served.")


class PolicyInfo(BaseModel):
    """One served policy (``GET /v1/policies``)."""

    name: str
    scenario: str
    checkpoint: str = Field(description="Absolute path of the algorithm checkpoint directory.")
    topology: str = Field(description="Topology URI the policy places on (an override if one was given).")
    num_nodes: int = Field(description="N: length of the per-node arrays of a network state.")
    num_actions: int = Field(
        description="Size of one agent decision's action space (genai-chain: the M model instances)."
    )
    default: bool = Field(description="Whether requests of this scenario without ``policy`` use it.")
    training: dict[str, Any] = Field(
        description="The checkpoint's edgeplace metadata: algorithm name, iteration, timesteps, wall "
        "time, env config, train config and agent-to-module mapping."
    )


def _integral_float_to_int(value: Any) -> Any:
    """JSON Schema's ``integer`` includes ``1.0``: accept it (strict mode alone would not)."""
    return int(value) if isinstance(value, float) and value.is_integer() else value


#: A strict integer that also takes integral floats (``3.0``), as JSON Schema's ``integer`` does.
JsonInt = Annotated[int, BeforeValidator(_integral_float_to_int)]


PolicyName = Annotated[
    str | None,
    Field(
        max_length=200,
        description="Served policy to use (``GET /v1/policies``); default: the scenario's first one.",
    ),
]

# --- the placement routes' bodies, generic over a scenario's models --------------------------------
StateT = TypeVar("StateT", bound=BaseModel)
RequestT = TypeVar("RequestT", bound=BaseModel)
PlacementT = TypeVar("PlacementT", bound=BaseModel)


class PlaceRequest(BaseModel, Generic[StateT, RequestT]):
    """``POST /v1/{scenario}/place``: one request on one network state."""

    model_config = STRICT_INPUT

    state: StateT
    request: RequestT
    policy: PolicyName = None


class PlaceBatchRequest(BaseModel, Generic[StateT, RequestT]):
    """``POST /v1/{scenario}/place-batch``: many requests on one network state."""

    model_config = STRICT_INPUT

    state: StateT
    requests: list[RequestT] = Field(
        min_length=1,
        max_length=MAX_BATCH_REQUESTS,
        description="The requests: at most the deployment's ``max_batch_requests`` (64 unless "
        "configured otherwise), never more than 1024.",
    )
    policy: PolicyName = None


class BatchPlacement(BaseModel, Generic[PlacementT]):
    """``POST /v1/{scenario}/place-batch`` of independently placed requests: one placement per
    request, in request order."""

    policy: str
    placements: list[PlacementT]


# --- genai-chain ----------------------------------------------------------------------------------
ModelType = Annotated[int, Field(ge=1, le=NUM_MODEL_TYPES), BeforeValidator(_integral_float_to_int)]
NodeLoad = Annotated[float, Field(ge=0.0, le=MAX_LOAD)]
Telemetry = Annotated[float, Field(ge=0.0, le=MAX_TELEMETRY)]


class ChainNetworkState(BaseModel):
    """The network as the genai-chain agents see it when a request arrives."""

    model_config = STRICT_INPUT

    load: list[NodeLoad] = Field(
        max_length=MAX_NODES,
        description="L_s per node, in the dataset's compute units (N values, node index order). "
        "Callers keep it like the env: add each placed stage's demand, multiply by the load "
        "decay after each request.",
    )
    telemetry: list[Telemetry] = Field(
        max_length=MAX_NODES,
        description="Per node, the compute slowdown delta the previous request saw (N values). The "
        "server also uses it as the estimate of the current request's delta.",
    )
    request_index: JsonInt = Field(
        default=0,
        ge=0,
        description="Position of the request in the policy's training window of requests "
        "(the env's progress feature: index / requests_per_episode); must be below that window.",
    )


class ChainRequest(BaseModel):
    """One 5-stage GenAI request chain in the dataset's terms."""

    model_config = STRICT_INPUT

    route: list[ModelType] = Field(
        min_length=NUM_STAGES,
        max_length=NUM_STAGES,
        description="Model type of each stage: 1 text-to-text, 2 text-to-image, 3 image-to-video.",
    )
    omega: float = Field(ge=0.0, le=1.0, description="Weight of quality against latency in the utility.")
    size_scale: float = Field(
        ge=0.0,
        le=MAX_SIZE_SCALE,
        description=f"Request size / {SIZE_UNIT:g} (the dataset's ``size`` column divided by {SIZE_UNIT:g}).",
    )
    access_node: JsonInt = Field(ge=0, description="Node index where the user's input enters the network.")


class ChainPlaceRequest(PlaceRequest[ChainNetworkState, ChainRequest]):
    """``POST /v1/genai-chain/place``: one request on one network state."""


class ChainPlaceBatchRequest(PlaceBatchRequest[ChainNetworkState, ChainRequest]):
    """``POST /v1/genai-chain/place-batch``: many requests, each placed independently on the same
    network state (as if each were the only one arriving now; loads are not carried between them)."""


class Candidate(BaseModel):
    """An allowed action and its probability under the policy."""

    instance: int = Field(description="Model instance index (0..M-1).")
    node: int = Field(description="Index of the node hosting the instance.")
    probability: float


class StagePlacement(BaseModel):
    """Where one stage goes, with the system model's estimates (telemetry in place of the unseen delta)."""

    instance: int = Field(description="Chosen model instance index (the greedy action).")
    node: int = Field(description="Node index of the chosen instance.")
    latency_s: float = Field(description="Estimated communication + compute time of the stage, seconds.")
    utility: float = Field(description="Estimated stage utility omega*quality + (1-omega)*latency utility.")
    candidates: list[Candidate] = Field(description="The top-k actions by probability, best first.")


class ChainPlacement(BaseModel):
    """All five stages of a request, placed in order, and the chain's estimated totals."""

    policy: str
    stages: list[StagePlacement]
    latency_s: float = Field(description="Estimated end-to-end latency (sum of the stages), seconds.")
    deadline_s: float = Field(description="SLA deadline: sum of the stage deadlines, seconds.")
    meets_sla: bool = Field(description="Whether the estimated latency is within the deadline.")
    utility: float = Field(description="Sum of the estimated stage utilities.")


class ChainBatchPlacement(BatchPlacement[ChainPlacement]):
    """``POST /v1/genai-chain/place-batch``: one placement per request, in request order."""


ErrorBody.model_rebuild()
