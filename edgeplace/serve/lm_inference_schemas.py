"""Pydantic bodies of the lm-inference routes (``/v1/lm-inference/place`` and ``/place-batch``).

A state is the cluster at the start of a slot as the env's slot-level agents see it
(papers/multi-agentic-lm-inference.md, d): the epoch's plan (the planner's weights), every pod (its
lifecycle state, which locks it, and the configuration it is heading to), every queue and each node's
free resources and utilisation. A request is one slot's prompt batch: the prompts K per (origin, LM).
The answer holds the scheduler's destinations and every deployer's configuration. Units: seconds, GB,
cores, vGPUs, prompts. Checks that need the topology (array lengths, capacities, plan feasibility)
happen in :class:`~edgeplace.serve.lm_inference_placer.LmInferencePlacer`.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, Field

from edgeplace.envs.lm_inference.lm_types import NUM_LMS
from edgeplace.envs.lm_inference.plan import MAX_WEIGHT
from edgeplace.serve.schemas import (
    MAX_NODES,
    STRICT_INPUT,
    BatchPlacement,
    JsonInt,
    PlaceBatchRequest,
    PlaceRequest,
)
from edgeplace.workloads.lm_inference import MAX_PROMPTS

MAX_COUNT = 10**6
"""Sanity bound on counts: cores, vGPUs, prompts and requests of a queue, the slot index."""
MAX_TIME_S = 1e6
"""Sanity bound on durations (queue ages stay below the 900 s deadline, transitions below a minute)."""
MAX_RAM_GB = 1e6
"""Sanity bound on free RAM."""

Count = Annotated[JsonInt, Field(ge=0, le=MAX_COUNT)]
Duration = Annotated[float, Field(ge=0.0, le=MAX_TIME_S)]
Fraction = Annotated[float, Field(ge=0.0, le=1.0)]
Weight = Annotated[JsonInt, Field(ge=0, le=MAX_WEIGHT)]
Prompts = Annotated[JsonInt, Field(ge=0, le=MAX_PROMPTS)]


class PodStateName(StrEnum):
    """A pod's lifecycle state; ``pending``, ``init`` and ``terminating`` lock it (no change this slot)."""

    OFF = "off"
    PENDING = "pending"
    INIT = "init"
    READY = "ready"
    TERMINATING = "terminating"


class ModeName(StrEnum):
    """How a pod runs its LM."""

    OFF = "off"
    CPU = "cpu"
    GPU = "gpu"


class LmPod(BaseModel):
    """The pod of one LM on one node."""

    model_config = STRICT_INPUT

    state: PodStateName = Field(
        strict=False,
        description="Its lifecycle state. ``pending``, ``init`` and ``terminating`` lock the pod; a "
        "``pending`` pod also voids its node's allocating actions this slot (masked for the deployer).",
    )
    mode: ModeName = Field(
        strict=False,
        description="The mode the pod is heading to (a terminating pod: its next incarnation, or off).",
    )
    cores: Count = Field(description="Cores of that configuration (host cores of a GPU pod).")
    vgpus: Count = Field(description="vGPUs of that configuration (0 in CPU mode or off).")
    transition_left_s: Duration = Field(
        default=0.0, description="Time left of the current INIT or TERMINATING, s (0 otherwise)."
    )


class LmQueue(BaseModel):
    """The FIFO of one LM on one node."""

    model_config = STRICT_INPUT

    backlog_prompts: Count = Field(
        description="Q_ni: prompts left of the requests queued there plus those in transit to it."
    )
    inbound_prompts: Count = Field(default=0, description="The part of the backlog still in transit.")
    queued_requests: Count = Field(default=0, description="Requests queued (the one in service included).")
    oldest_age_s: Duration = Field(
        default=0.0, description="Time since the arrival of the oldest queued request, s (0 when none)."
    )


class LmNode(BaseModel):
    """One worker's free resources and utilisation."""

    model_config = STRICT_INPUT

    free_cores: Count
    free_vgpus: Count
    free_ram_gb: float = Field(ge=0.0, le=MAX_RAM_GB, description="Free allocatable RAM, GB.")
    eta_cpu: Fraction = Field(
        default=1.0, description="1 - busy fraction of the cores over the previous slot."
    )
    eta_gpu: Fraction = Field(
        default=1.0, description="1 - busy fraction of the vGPUs over the previous slot (1 without vGPUs)."
    )
    eta_mem: Fraction = Field(default=1.0, description="1 - reserved / allocatable RAM, now.")


class LmClusterState(BaseModel):
    """The cluster at the start of a slot, before its prompt batch is routed."""

    model_config = STRICT_INPUT

    slot: Count = Field(
        default=0, description="Slot index t (its position in the planning epoch is t mod epoch)."
    )
    plan: list[list[Weight]] = Field(
        min_length=NUM_LMS,
        max_length=NUM_LMS,
        description="The epoch's planner weights w_in in {0..4}, one row per LM of N values (node order): "
        "p_in = w_in / sum_n w_in, LM i is in role on node n iff w_in > 0; an all-zero row means uniform "
        "over the nodes that can host the LM, all in role.",
    )
    pods: list[list[LmPod]] = Field(
        max_length=MAX_NODES, description=f"Per node (N rows, node order), the pods of the {NUM_LMS} LMs."
    )
    queues: list[list[LmQueue]] = Field(
        max_length=MAX_NODES, description=f"Per node (N rows), the queues of the {NUM_LMS} LMs."
    )
    nodes: list[LmNode] = Field(max_length=MAX_NODES, description="Per node (N values).")


class LmPromptBatch(BaseModel):
    """One slot's requests: at most one per (origin, LM)."""

    model_config = STRICT_INPUT

    prompts: list[Annotated[list[Prompts], Field(min_length=NUM_LMS, max_length=NUM_LMS)]] = Field(
        max_length=MAX_NODES,
        description=f"K per (origin, LM): N rows (origin node order) of {NUM_LMS} prompt counts in "
        f"0..{MAX_PROMPTS}, 0 = no request.",
    )


class LmPlaceRequest(PlaceRequest[LmClusterState, LmPromptBatch]):
    """``POST /v1/lm-inference/place``: one slot's prompt batch on one cluster state."""


class LmPlaceBatchRequest(PlaceBatchRequest[LmClusterState, LmPromptBatch]):
    """``POST /v1/lm-inference/place-batch``: many prompt batches, each placed independently on the same
    cluster state (as if each were the slot's only one)."""


class LmCandidate(BaseModel):
    """An allowed choice and its probability under the policy."""

    index: int = Field(description="A node index (routes) or a deployer action (deployments).")
    probability: float


class LmRoute(BaseModel):
    """Where one request of the batch goes (the scheduler's greedy destination)."""

    origin: int
    origin_name: str
    lm: str = Field(description="``LM1`` .. ``LM4``.")
    prompts: int
    destination: int
    destination_name: str
    in_role: bool = Field(description="Whether the plan has the LM in role on the destination.")
    probability: float
    candidates: list[LmCandidate] = Field(description="The top-k destinations, best first.")


class LmNodeConfig(BaseModel):
    """A node's configuration: per LM (``LM1`` .. ``LM4`` order) its mode, cores and vGPUs."""

    mode: list[ModeName]
    cores: list[int]
    vgpus: list[int]


class LmDeployment(BaseModel):
    """One node's deployer decision, taken on the state after the batch is routed."""

    node: int
    name: str
    action: int = Field(
        description="0 keeps the configuration; k > 0 asks for the node's catalogue entry k - 1."
    )
    keep: bool
    config: LmNodeConfig = Field(description="The configuration the node heads to after the decision.")
    probability: float
    candidates: list[LmCandidate] = Field(description="The top-k actions, best first.")


class LmPlacement(BaseModel):
    """The slot's routing and deployment decisions."""

    policy: str
    routes: list[LmRoute] = Field(description="One per request of the batch, in (origin, LM) order.")
    deployments: list[LmDeployment] = Field(description="One per node, in node order.")


class LmBatchPlacement(BatchPlacement[LmPlacement]):
    """``POST /v1/lm-inference/place-batch``: one placement per prompt batch, in request order."""
