"""Pydantic bodies of the metaverse-dag routes (``/v1/metaverse-dag/place`` and ``/place-batch``).

A state is the network's load and failures (papers/llm-mappo.md, b): the vCPU and RAM that services
already hold on every node, which nodes are up, every edge server's arrival rate and the hour. A request
is one service DAG of one class (its microservices with their per-replica demand, the DAG's edges and
payload fractions, the deadline) arriving at one edge controller's region. The answer places the DAG's
replicas on the region's nodes (its edge servers, its controller, the cloud) and splits each DAG edge's
traffic over the region's paths. Units: vCPU, GB, requests/s, seconds, hours. Checks that need the
topology or the policy's slot layout (array lengths, indices, sizes, acyclicity) happen in
:class:`~edgeplace.serve.metaverse_dag_placer.MetaverseDagPlacer`.
"""

from __future__ import annotations

from enum import StrEnum
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
from edgeplace.workloads.metaverse_dag import ServiceClass

MAX_VCPU = 1e6
"""Sanity bound on vCPU amounts (ES have 6-10 vCPU, EC up to 128, the cloud 1024)."""
MAX_RAM_GB = 1e6
"""Sanity bound on RAM amounts, GB."""
MAX_RATE = 1e6
"""Sanity bound on an edge server's arrival rate, req/s (training: up to ~1,000 at a hotspot's peak)."""
MAX_DEADLINE_S = 10.0
"""Sanity bound on a DAG's deadline (training: 10-30 ms)."""
MAX_MICROSERVICES = 64
"""Schema bound on a DAG's microservices; the policy's slot layout allows fewer (checked by the placer)."""
DEFAULT_HOUR = 18.0
"""The hour a state without one is at: the diurnal peak (D = 1)."""

Vcpu = Annotated[float, Field(ge=0.0, le=MAX_VCPU)]
RamGb = Annotated[float, Field(ge=0.0, le=MAX_RAM_GB)]
Rate = Annotated[float, Field(ge=0.0, le=MAX_RATE)]
Index = Annotated[JsonInt, Field(ge=0)]
PayloadFraction = Annotated[float, Field(gt=0.0, le=1.0)]


class ServiceClassName(StrEnum):
    """A DAG's service class (its network slice and its slot block in the policy's layout)."""

    XR = "XR"
    TWIN = "TWIN"
    HOLO = "HOLO"

    @property
    def index(self) -> int:
        """The class's index in every per-class array."""
        return int(ServiceClass[self.value])


class MetaverseNetworkState(BaseModel):
    """The network when the DAG arrives: what other services hold, failures, load and time of day."""

    model_config = STRICT_INPUT

    reserved_cpu: list[Vcpu] = Field(
        max_length=MAX_NODES,
        description="vCPU held on each node by the replicas of other services (N values, node order: the "
        "edge servers, then the edge controllers, then the cloud). May exceed a node's capacity "
        "(over-commit, as the env allows).",
    )
    reserved_ram_gb: list[RamGb] = Field(
        max_length=MAX_NODES, description="RAM held on each node by other services' replicas, GB (N values)."
    )
    node_up: list[bool] = Field(
        max_length=MAX_NODES,
        description="Whether each node is up (N values); no replica is placed on a node that is down.",
    )
    es_rate: list[Rate] = Field(
        max_length=MAX_NODES,
        description="Request arrival rate at each edge server, req/s (n values: the edge servers only).",
    )
    hour: float = Field(
        default=DEFAULT_HOUR,
        ge=0.0,
        lt=24.0,
        description=f"Hour of the day, [0, 24) (the observation's clock); default {DEFAULT_HOUR:g}, the "
        "diurnal peak.",
    )


class MetaverseMicroservice(BaseModel):
    """One microservice of the DAG; the policy places 1 to R_max replicas of it."""

    model_config = STRICT_INPUT

    cpu: float = Field(gt=0.0, le=MAX_VCPU, description="vCPU each replica reserves (training: 0.1-4).")
    ram_gb: float = Field(
        gt=0.0, le=MAX_RAM_GB, description="RAM each replica reserves, GB (training: 0.125-8)."
    )
    stateful: bool = Field(
        default=False, description="Whether its replicas synchronise state (spreading them costs latency)."
    )
    parents: list[Index] = Field(
        default_factory=list,
        max_length=MAX_MICROSERVICES,
        description="Indices (in ``microservices``) of the microservices it receives data from: the DAG's "
        "edges into it. Microservice 0 is the entry (no parents); every other one has at least one "
        "parent, and the edges form no cycle.",
    )
    payload_fractions: list[PayloadFraction] = Field(
        default_factory=list,
        max_length=MAX_MICROSERVICES,
        description="Per parent (same order), the fraction of the request's payload sent on that edge "
        "(training: 0.01-0.05).",
    )


class MetaverseDagRequest(BaseModel):
    """One service DAG arriving at one region; give ``region`` or ``origin_es`` (or both, consistent)."""

    model_config = STRICT_INPUT

    service_class: ServiceClassName = Field(strict=False, description="XR, TWIN or HOLO.")
    microservices: list[MetaverseMicroservice] = Field(
        min_length=1,
        max_length=MAX_MICROSERVICES,
        description="The DAG's microservices; at most the policy's microservices for the class "
        "(``GET /v1/policies``: the training env config).",
    )
    deadline_s: float = Field(
        gt=0.0, le=MAX_DEADLINE_S, description="l^max: end-to-end latency bound, s (training: 10-30 ms)."
    )
    region: Index | None = Field(
        default=None, description="Index k of the edge controller whose agent ``ec_k`` places the DAG."
    )
    origin_es: Index | None = Field(
        default=None,
        description="Index of the edge server the requests arrive at; its region's controller places the "
        "DAG. Must be up.",
    )


class MetaversePlaceRequest(PlaceRequest[MetaverseNetworkState, MetaverseDagRequest]):
    """``POST /v1/metaverse-dag/place``: one service DAG on one network state."""


class MetaversePlaceBatchRequest(PlaceBatchRequest[MetaverseNetworkState, MetaverseDagRequest]):
    """``POST /v1/metaverse-dag/place-batch``: many service DAGs, each placed independently on the same
    network state (nothing one DAG reserves is seen by the next)."""


class MetaverseOptionCandidate(BaseModel):
    """A placement option of a replica slot and its probability under the policy."""

    option: int = Field(description="Option index of the agent: its region's ES, then EC, cloud, NONE.")
    node: int | None = Field(description="Node index, None for NONE (no replica).")
    node_name: str | None = Field(description="``es_<i>``, ``ec_<k>`` or ``cloud``; None for NONE.")
    probability: float


class MetaverseReplica(BaseModel):
    """The decision of one replica slot of a microservice."""

    replica: int = Field(description="Replica slot r (0 .. R_max-1); slot 0 is always placed.")
    option: int
    node: int | None = Field(description="Node index of the replica, None when the slot stays empty (NONE).")
    node_name: str | None
    probability: float = Field(description="Probability of the chosen option.")
    candidates: list[MetaverseOptionCandidate] = Field(description="The top-k options, best first.")


class MetaverseMicroservicePlacement(BaseModel):
    """Where one microservice's replicas run."""

    index: int = Field(description="Index in the request's ``microservices``.")
    nodes: list[str] = Field(description="Node names of its replicas, in replica-slot order.")
    replicas: list[MetaverseReplica] = Field(description="Every replica slot's decision (R_max of them).")


class MetaversePatternCandidate(BaseModel):
    """A split pattern of a DAG edge and its probability under the policy."""

    pattern: int
    probability: float


class MetaverseEdgePlacement(BaseModel):
    """How one DAG edge's traffic is split over the region's up-to-3 shortest-delay paths."""

    source: int = Field(description="Index of the parent microservice.")
    destination: int = Field(description="Index of the child microservice.")
    pattern: int = Field(description="Split pattern 0-6.")
    split: list[float] = Field(description="Shares of paths of rank 1, 2 and 3 (the pattern's weights).")
    probability: float
    candidates: list[MetaversePatternCandidate] = Field(description="The top-k patterns, best first.")


class MetaversePlacement(BaseModel):
    """The greedy decision of the region's agent for the DAG (one MultiDiscrete action)."""

    policy: str
    agent: str = Field(description="The acting edge controller agent, ``ec_<k>``.")
    region: int
    service_class: ServiceClassName
    microservices: list[MetaverseMicroservicePlacement] = Field(description="In request order.")
    edges: list[MetaverseEdgePlacement] = Field(description="Every DAG edge, by destination then source.")
    overcommitted_nodes: list[str] = Field(
        description="Nodes whose vCPU or RAM (the state's reservations plus this DAG's replicas) exceeds "
        "their capacity; the policy's masks forbid only nodes too small for one replica, as in training."
    )


class MetaverseBatchPlacement(BatchPlacement[MetaversePlacement]):
    """``POST /v1/metaverse-dag/place-batch``: one placement per DAG, in request order."""
