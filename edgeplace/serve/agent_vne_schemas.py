"""Pydantic bodies of the agent-vne routes: the substrate's live state and agentic workflow requests in,
embeddings out (papers/agentvne.md, section b).

Requests are strict and bounded like every request of the API (:data:`STRICT_INPUT`); what needs the
topology (array lengths, node indices, free amounts within capacity, the policy's agent limit) is
checked by :class:`~edgeplace.serve.agent_vne_placer.VNEPlacer`, naming the field.

Units: node resources in the served topology's capacity units (compute, memory, storage, after the
policy's ``capacity_scale``); bandwidth in Mbit/s; data in MB. Per-link arrays follow the topology's link
order (its ``edge_index``, as ``edgeplace`` loads it); the request example in ``/openapi.json`` shows the
idle state of the served topology: every capacity and link bandwidth.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, Field

from edgeplace.serve.schemas import MAX_NODES, STRICT_INPUT, JsonInt, PlaceBatchRequest, PlaceRequest
from edgeplace.workloads.agentic_workflows import DEMAND_DIMS

MAX_LINKS = 16 * MAX_NODES
"""Upper bound on per-link arrays in the schema; the exact length E is checked against the topology."""
MAX_AGENTS = 64
"""Upper bound on a workflow's agents in the schema; the policy's own limit (agents plus the anchors the
parser adds, at most ``max_virtual_nodes``) is checked by the placer."""
MAX_WORKFLOW_LINKS = 256
"""Upper bound on a workflow's virtual links."""
MAX_AMOUNT = 1e6
"""Sanity bound on a resource amount (capacity units; real ones are below ~10)."""
MAX_BANDWIDTH_MBPS = 1e6
"""Sanity bound on a bandwidth, Mbit/s."""
MAX_DATA_MB = 1e6
"""Sanity bound on a virtual link's data size, MB."""
MAX_COUNT = 10**6
"""Sanity bound on flow and workflow counts."""
MAX_TEXT = 2000
"""Longest description, role or tool text, characters."""
MAX_TOOLS = 32

Amount = Annotated[float, Field(ge=0.0, le=MAX_AMOUNT)]
Bandwidth = Annotated[float, Field(ge=0.0, le=MAX_BANDWIDTH_MBPS)]
#: Bounds go before JsonInt's validator, so that the JSON schema states them as minimum / maximum.
Count = Annotated[int, Field(ge=0, le=MAX_COUNT), *JsonInt.__metadata__]
NodeIndex = Annotated[int, Field(ge=0), *JsonInt.__metadata__]
Resources = Annotated[
    list[Amount],
    Field(
        min_length=len(DEMAND_DIMS),
        max_length=len(DEMAND_DIMS),
        description=f"({', '.join(DEMAND_DIMS)}) in the topology's capacity units.",
    ),
]
Text = Annotated[str, Field(max_length=MAX_TEXT)]


class AgentVNENetworkState(BaseModel):
    """The substrate as the embedder sees it when a workflow arrives: what live workflows hold."""

    model_config = STRICT_INPUT

    node_free: list[Resources] = Field(
        max_length=MAX_NODES,
        description="Free (compute, memory, storage) per node: N rows in node index order, each within "
        "the node's capacity.",
    )
    link_free_mbps: list[Bandwidth] = Field(
        max_length=MAX_LINKS,
        description="Free bandwidth B_e minus the b_uv of the flows routed over each link, Mbit/s: E "
        "values in the topology's link order, each within the link's bandwidth.",
    )
    link_flows: list[Count] = Field(
        max_length=MAX_LINKS,
        description="|F_e|: live virtual links routed over each link (E values; Eq.12's equal share "
        "B_e / |F_e| gives the latency estimate).",
    )
    link_workflows: list[Count] = Field(
        max_length=MAX_LINKS,
        description="n_e: live workflows with at least one virtual link over each link (E values, each "
        "at most link_flows and live_workflows; Eq.26's weights).",
    )
    live_workflows: Count = Field(description="|W|: workflows embedded now (Eq.26's denominator).")


class AgentVNEAgent(BaseModel):
    """One agent of a workflow, as its author describes it. Its id is its position in ``agents``."""

    model_config = STRICT_INPUT

    name: str = Field(min_length=1, max_length=200, description="e.g. ``payment``.")
    role: Text = Field(default="", description="What the agent does, in one sentence.")
    tools: list[Text] = Field(default_factory=list, max_length=MAX_TOOLS, description="Tool names.")
    demand: Resources


class AgentVNELink(BaseModel):
    """A directed virtual link: ``src`` sends ``data_mb`` to ``dst`` and needs ``bandwidth_mbps``."""

    model_config = STRICT_INPUT

    src: JsonInt = Field(ge=0, description="Sending agent (index in ``agents``).")
    dst: JsonInt = Field(ge=0, description="Receiving agent (index in ``agents``), not ``src``.")
    bandwidth_mbps: float = Field(gt=0.0, le=MAX_BANDWIDTH_MBPS, description="Minimum bandwidth b_uv, Mbit/s")
    data_mb: float = Field(ge=0.0, le=MAX_DATA_MB, description="Data size D_uv shipped per request, MB.")


class AgentVNEWorkflow(BaseModel):
    """One agentic workflow request. The semantic layer (the rule-based parser) reads each agent's name,
    role and tools for affinity needs (a TEE for payment or medical data, a camera for live video), pins
    a zero-demand anchor to a node holding them and links it to the agent."""

    model_config = STRICT_INPUT

    request_id: str = Field(default="", max_length=200, description="Echoed in the response.")
    workflow_type: str = Field(
        default="", max_length=200, description="Informational, e.g. ``text_search``; the parser ignores it."
    )
    description: Text = ""
    agents: list[AgentVNEAgent] = Field(min_length=1, max_length=MAX_AGENTS)
    links: list[AgentVNELink] = Field(
        default_factory=list, max_length=MAX_WORKFLOW_LINKS, description="No duplicates, no self loops."
    )
    data_source_node: NodeIndex | None = Field(
        default=None,
        description="Node where the workflow's protected data or sensor lives; the anchor of an agent "
        "that needs its attributes is pinned there when it holds them.",
    )


class AgentVNEPlaceRequest(PlaceRequest[AgentVNENetworkState, AgentVNEWorkflow]):
    """``POST /v1/agent-vne/place``: one workflow on one network state."""


class AgentVNEBatchMode(StrEnum):
    """How the workflows of a batch share the network state."""

    SEQUENTIAL = "sequential"
    """In request order, each on the state the accepted ones before it leave (admission of a burst of
    arrivals, as the env does): one forward pass per request."""
    INDEPENDENT = "independent"
    """Each alone on the given state (what-if): one forward pass for the whole batch."""


class AgentVNEPlaceBatchRequest(PlaceBatchRequest[AgentVNENetworkState, AgentVNEWorkflow]):
    """``POST /v1/agent-vne/place-batch``: many workflows on one network state, in ``mode``."""

    mode: AgentVNEBatchMode = Field(
        default=AgentVNEBatchMode.SEQUENTIAL,
        strict=False,  # the enum's value strings, as JSON gives them
        description="``sequential``: in order, each on what the accepted ones before it leave; a "
        "workflow that cannot be embedded is rejected and leaves the state as it was. ``independent``: "
        "each alone on the given state.",
    )


class AgentVNECandidate(BaseModel):
    """A node of an agent's priority list and its probability pi under the policy."""

    node: int
    probability: float


class AgentVNEAgentPlacement(BaseModel):
    """Where one agent of the request runs."""

    host: int = Field(description="Node index hosting the agent.")
    candidates: list[AgentVNECandidate] = Field(
        description="The head of the agent's priority list (the policy's top-k feasible nodes, best "
        "first). The decoder places along the workflow's links (co-location first, then the nearest "
        "hop ring), so ``host`` need not be the first."
    )


class AgentVNEAnchor(BaseModel):
    """A communication anchor the semantic layer added: zero demand, pinned to ``node``, linked to
    ``agent``. Anchors are the virtual nodes after the agents (V, V+1, ...) in this order."""

    agent: int = Field(description="The agent whose affinity needs it stands for.")
    attributes: list[str] = Field(description="Attribute tags ``node`` holds, e.g. ``tee``.")
    node: int = Field(description="Node the anchor is pinned to.")
    bias: float = Field(description="Virtual resource bias added to ``node``'s input features.")
    reason: str = Field(description="The parser's justification (matched terms).")


class AgentVNERoute(BaseModel):
    """The substrate route of one virtual link (the fixed min-hop path between the two hosts)."""

    src: int = Field(description="Sending virtual node: an agent index, or V + i for anchor i.")
    dst: int = Field(description="Receiving virtual node.")
    path: list[int] = Field(description="Nodes from host(src) to host(dst); one node when co-located.")
    links: list[int] = Field(description="Link indices along ``path`` (its hops).")


class AgentVNEPlacement(BaseModel):
    """The embedding of one workflow, and what the env would measure right after committing it."""

    policy: str
    request_id: str
    agents: list[AgentVNEAgentPlacement] = Field(description="One per agent of the request, in order.")
    anchors: list[AgentVNEAnchor]
    routes: list[AgentVNERoute] = Field(description="The request's links in order, then one per anchor.")
    hops: int = Field(description="Substrate links over all routes.")
    weighted_hops: float = Field(
        description="This workflow's congestion-weighted hops after the commit: each route link e "
        "counted n_e times (its term of Eq.26)."
    )
    network_weighted_hops: float = Field(
        description="Eq.26 H over the live workflows and this one after the commit (the env's reward is -H)."
    )
    latency_s: float = Field(
        description="Eq.5-6 transfer latency after the commit: over the routes, 8 D_uv / (B_e / |F_e|) + "
        "propagation delay tau_e per link, seconds (processing time excluded)."
    )


class AgentVNEBatchResult(BaseModel):
    """The outcome of one workflow of a batch."""

    request_id: str
    accepted: bool
    reason: str = Field(description="Why the workflow cannot be embedded (empty when accepted).")
    placement: AgentVNEPlacement | None = Field(description="The embedding when accepted, else null.")


class AgentVNEBatchPlacement(BaseModel):
    """``POST /v1/agent-vne/place-batch``: one result per workflow, in request order."""

    policy: str
    mode: AgentVNEBatchMode
    results: list[AgentVNEBatchResult]
