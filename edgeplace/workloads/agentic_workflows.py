"""Agentic LLM workflows (papers/agentvne.md, section b): request types, seeded generation, arrivals.

A :class:`WorkflowRequest` is what the semantic layer (``edgeplace.planners``) reads and what the
agent-vne scenario embeds: a small directed chain of agents with resource demands, and virtual links
with a minimum bandwidth and a data size. Four workflow types arrive with equal probability
(:data:`WORKFLOW_TYPES`). Requests carry the *raw* workflow only: affinity is written in the agents'
names, roles and tools, where a parser must find it; :attr:`WorkflowAgent.affinity` records the ground
truth for tests and diagnostics, and the scenario never reads it.

Units: demand in the substrate's capacity units (compute, memory, storage); bandwidth in Mbit/s
(``_mbps``); data in megabytes (``_mb``); time in unit steps. Attribute tags are the substrate's
(:class:`edgeplace.topology.Affinity`: ``"tee"``, ``"camera"``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

import numpy as np

from edgeplace.topology import Affinity, Substrate

#: Columns of a demand vector, in the substrate's resource order.
DEMAND_DIMS = ("compute", "memory", "storage")
#: Demand jitter: every agent's demand is multiplied by U[low, high] per request and dimension.
DEMAND_JITTER = (0.9, 1.1)


class WorkflowType(StrEnum):
    """The four workflow types of spec b (Table III)."""

    TEXT_SEARCH = "text_search"
    TEXT_SEARCH_PAY = "text_search_pay"
    IMAGE_PROC = "image_proc"
    TRAFFIC_MONITOR = "traffic_monitor"


@dataclass(frozen=True, eq=False)
class WorkflowAgent:
    """One agent (virtual node) of a workflow.

    Shapes: demand (3,) float64 >= 0 (compute, memory, storage), read-only.
    """

    id: int
    """Index of the agent in its request (0-based, chain order)."""
    name: str
    role: str
    """One sentence on what the agent does (read by the semantic layer)."""
    tools: tuple[str, ...]
    demand: np.ndarray
    affinity: tuple[str, ...] = ()
    """Ground-truth attribute tags the agent needs (sorted); the scenario takes affinity from the parser."""

    def __post_init__(self) -> None:
        demand = np.array(self.demand, dtype=np.float64)
        if demand.shape != (len(DEMAND_DIMS),) or not np.isfinite(demand).all() or (demand < 0).any():
            raise ValueError(
                f"agent {self.id} ({self.name}): demand must be {len(DEMAND_DIMS)} finite numbers >= 0, "
                f"got {self.demand!r}"
            )
        demand.setflags(write=False)
        object.__setattr__(self, "demand", demand)
        object.__setattr__(self, "tools", tuple(str(t) for t in self.tools))
        object.__setattr__(self, "affinity", tuple(sorted({str(a) for a in self.affinity})))


@dataclass(frozen=True, eq=False)
class WorkflowRequest:
    """One workflow request: agents plus directed virtual links ``links[l] = (u, v)``, u -> v.

    Shapes (V agents, L links; arrays read-only):
        links: (L, 2) int64 agent ids, no self loops or duplicates.
        link_bandwidth_mbps: (L,) float64 > 0, the minimum bandwidth b_uv of each link, Mbit/s.
        link_data_mb: (L,) float64 >= 0, data size D_uv shipped over each link, MB.
    """

    request_id: str
    workflow_type: str
    description: str
    agents: tuple[WorkflowAgent, ...]
    links: np.ndarray
    link_bandwidth_mbps: np.ndarray
    link_data_mb: np.ndarray
    data_source_node: int | None = None
    """Substrate node where the request's protected data or sensor lives (None: no such node)."""

    def __post_init__(self) -> None:
        where = f"request {self.request_id!r}"
        agents = tuple(self.agents)
        if not agents:
            raise ValueError(f"{where}: agents must not be empty")
        ids = [agent.id for agent in agents]
        if ids != list(range(len(agents))):
            raise ValueError(f"{where}: agent ids must be 0..V-1 in order, got {ids}")
        links = np.array(self.links, dtype=np.int64).reshape(-1, 2) if np.size(self.links) else _no_links()
        if links.size and (links.min() < 0 or links.max() >= len(agents)):
            raise ValueError(f"{where}: links refer to agents outside 0..{len(agents) - 1}")
        if (links[:, 0] == links[:, 1]).any():
            raise ValueError(f"{where}: links contain a self loop")
        if np.unique(links, axis=0).shape[0] != links.shape[0]:
            raise ValueError(f"{where}: links contain a duplicate")
        bw = _vector(self.link_bandwidth_mbps, links.shape[0], f"{where}: link_bandwidth_mbps")
        data = _vector(self.link_data_mb, links.shape[0], f"{where}: link_data_mb")
        if (bw <= 0).any() or (data < 0).any():
            raise ValueError(f"{where}: link bandwidth must be > 0 and data sizes >= 0")
        for name, value in (("links", links), ("link_bandwidth_mbps", bw), ("link_data_mb", data)):
            value.setflags(write=False)
            object.__setattr__(self, name, value)
        object.__setattr__(self, "agents", agents)
        if self.data_source_node is not None:
            object.__setattr__(self, "data_source_node", int(self.data_source_node))

    @property
    def num_agents(self) -> int:
        """V, the number of agents."""
        return len(self.agents)

    @property
    def num_links(self) -> int:
        """L, the number of virtual links."""
        return int(self.links.shape[0])

    @property
    def demand(self) -> np.ndarray:
        """Stacked agent demands. Shapes: (V, 3) float64."""
        return np.stack([agent.demand for agent in self.agents])


@dataclass(frozen=True, eq=False)
class SubstrateSummary:
    """What the semantic layer sees of the substrate now.

    Shapes (N nodes): attributes tag -> (N,) bool; residual_fraction (N, 3) free / capacity in [0, 1]
    (compute, memory, storage); degree (N,) int64.
    """

    attributes: Mapping[str, np.ndarray]
    residual_fraction: np.ndarray
    degree: np.ndarray

    @classmethod
    def of(cls, substrate: Substrate, node_free: np.ndarray) -> SubstrateSummary:
        """Summary of ``substrate`` with free resources ``node_free`` (N, 3)."""
        capacity = substrate.capacity
        fraction = np.divide(node_free, capacity, out=np.zeros_like(capacity), where=capacity > 0)
        return cls(
            attributes={str(k): np.asarray(v, dtype=bool) for k, v in substrate.affinity.items()},
            residual_fraction=np.clip(fraction, 0.0, 1.0),
            degree=np.asarray(substrate.degree, dtype=np.int64),
        )


@dataclass(frozen=True)
class AgentTemplate:
    """An agent of a workflow type before jitter. ``demand`` is (compute, memory, storage)."""

    name: str
    role: str
    tools: tuple[str, ...]
    demand: tuple[float, float, float]
    affinity: tuple[str, ...] = ()


@dataclass(frozen=True)
class LinkProfile:
    """Minimum bandwidth (Mbit/s) and data size (MB) of a virtual link."""

    bandwidth_mbps: float
    data_mb: float


TEXT_LINK = LinkProfile(2.0, 0.02)
IMAGE_LINK = LinkProfile(20.0, 2.0)
RESULT_LINK = LinkProfile(2.0, 0.05)
#: Link from a decoupling anchor to its agent, by the attribute it stands for (spec b, [D]).
ANCHOR_LINKS: Mapping[str, LinkProfile] = {
    Affinity.TEE: LinkProfile(2.0, 0.01),
    Affinity.CAMERA: LinkProfile(20.0, 2.0),
}


def anchor_link_profile(attributes: Sequence[str]) -> LinkProfile:
    """Link profile of an anchor standing for ``attributes``: the largest bandwidth and data among them.

    Raises:
        ValueError: an attribute without a profile in :data:`ANCHOR_LINKS`.
    """
    unknown = sorted(set(attributes) - set(ANCHOR_LINKS))
    if unknown or not attributes:
        raise ValueError(f"no anchor link profile for attributes {unknown or list(attributes)}")
    profiles = [ANCHOR_LINKS[a] for a in attributes]
    return LinkProfile(max(p.bandwidth_mbps for p in profiles), max(p.data_mb for p in profiles))


@dataclass(frozen=True)
class WorkflowTemplate:
    """A workflow type: a chain of agents, one link profile per chain link, and a text description."""

    workflow_type: WorkflowType
    description: str
    agents: tuple[AgentTemplate, ...]
    link_profiles: tuple[LinkProfile, ...]
    source_attribute: str | None = None
    """Tag whose holders the request's ``data_source_node`` is drawn from (None: no data source)."""

    def __post_init__(self) -> None:
        if len(self.link_profiles) != len(self.agents) - 1:
            raise ValueError(
                f"{self.workflow_type}: a chain of {len(self.agents)} agents needs that minus 1 links"
            )


_INTENT = AgentTemplate(
    "intent", "Parses the user's request into a structured goal.", ("llm",), (0.4, 0.2, 0.2)
)
_PARAMS = AgentTemplate(
    "param_extract",
    "Extracts the query parameters from the structured goal.",
    ("llm", "json_schema"),
    (0.2, 0.1, 0.8),
)
_SUMMARY = AgentTemplate("summarizer", "Writes the final answer for the user.", ("llm",), (0.4, 0.4, 0.4))
_PREPROCESS = AgentTemplate(
    "preprocess", "Resizes and normalises images for the vision model.", ("opencv",), (0.6, 0.8, 0.6)
)

WORKFLOW_TEMPLATES: Mapping[WorkflowType, WorkflowTemplate] = {
    WorkflowType.TEXT_SEARCH: WorkflowTemplate(
        WorkflowType.TEXT_SEARCH,
        "Answer a question by searching the web and summarising the best results.",
        (
            _INTENT,
            _PARAMS,
            AgentTemplate("search_planner", "Plans the search queries.", ("llm",), (0.44, 0.6, 1.6)),
            AgentTemplate(
                "web_search",
                "Runs the queries against a web search engine.",
                ("search_api",),
                (0.6, 0.95, 1.0),
            ),
            AgentTemplate(
                "filter_rank", "Filters and ranks the search results.", ("reranker",), (0.2, 0.6, 0.2)
            ),
            _SUMMARY,
        ),
        (TEXT_LINK,) * 5,
    ),
    WorkflowType.TEXT_SEARCH_PAY: WorkflowTemplate(
        WorkflowType.TEXT_SEARCH_PAY,
        "Find and book a hotel room, then pay for it with the customer's stored credit card.",
        (
            _INTENT,
            _PARAMS,
            AgentTemplate(
                "hotel_search", "Searches hotel offers for the dates.", ("booking_api",), (0.6, 0.95, 1.0)
            ),
            AgentTemplate("filter_select", "Selects the best offer.", ("reranker",), (0.44, 0.6, 1.6)),
            AgentTemplate(
                "payment",
                "Charges the customer's credit card through the bank's payment gateway.",
                ("payment_gateway", "card_vault"),
                (0.3, 0.3, 0.4),
                (Affinity.TEE,),
            ),
            _SUMMARY,
        ),
        (TEXT_LINK,) * 5,
        Affinity.TEE,
    ),
    WorkflowType.IMAGE_PROC: WorkflowTemplate(
        WorkflowType.IMAGE_PROC,
        "Analyse a batch of stored photos and describe what they show.",
        (
            _INTENT,
            AgentTemplate(
                "image_loader",
                "Loads stored images from the object store.",
                ("object_store",),
                (0.3, 0.5, 1.5),
            ),
            _PREPROCESS,
            AgentTemplate(
                "vision_analysis", "Runs the vision model on the images.", ("vision_model",), (0.8, 1.0, 1.2)
            ),
            _SUMMARY,
        ),
        (TEXT_LINK, IMAGE_LINK, IMAGE_LINK, RESULT_LINK),
    ),
    WorkflowType.TRAFFIC_MONITOR: WorkflowTemplate(
        WorkflowType.TRAFFIC_MONITOR,
        "Monitor road traffic at an intersection and report congestion.",
        (
            _INTENT,
            AgentTemplate(
                "camera_capture",
                "Grabs live video frames from the roadside camera.",
                ("camera_driver", "video_stream"),
                (0.3, 0.5, 1.5),
                (Affinity.CAMERA,),
            ),
            _PREPROCESS,
            AgentTemplate(
                "feature_extract",
                "Extracts vehicle features from the frames.",
                ("vision_model",),
                (0.8, 1.0, 1.2),
            ),
            AgentTemplate(
                "analyze_report", "Estimates congestion and writes the report.", ("llm",), (0.5, 0.6, 0.4)
            ),
        ),
        (TEXT_LINK, IMAGE_LINK, IMAGE_LINK, RESULT_LINK),
        Affinity.CAMERA,
    ),
}
#: The workflow types in a fixed order (index = draw).
WORKFLOW_TYPES = tuple(WorkflowType)


def build_request(
    template: WorkflowTemplate,
    request_id: str,
    demand_scale: np.ndarray | None = None,
    data_source_node: int | None = None,
) -> WorkflowRequest:
    """A request of ``template`` with demands multiplied by ``demand_scale`` (V, 3) (default 1)."""
    scale = np.ones((len(template.agents), len(DEMAND_DIMS))) if demand_scale is None else demand_scale
    agents = tuple(
        WorkflowAgent(i, a.name, a.role, a.tools, np.asarray(a.demand) * scale[i], a.affinity)
        for i, a in enumerate(template.agents)
    )
    count = len(agents)
    return WorkflowRequest(
        request_id=request_id,
        workflow_type=str(template.workflow_type),
        description=template.description,
        agents=agents,
        links=np.stack([np.arange(count - 1), np.arange(1, count)], axis=1),
        link_bandwidth_mbps=np.array([p.bandwidth_mbps for p in template.link_profiles]),
        link_data_mb=np.array([p.data_mb for p in template.link_profiles]),
        data_source_node=data_source_node,
    )


class WorkflowGenerator:
    """Seeded workflow requests for one substrate's attribute holders.

    Per request, in this order from ``rng``: the type (uniform over :data:`WORKFLOW_TYPES`), the
    demand jitter (V, 3) ~ U[0.9, 1.1], then, for the types with a data source, the source node
    uniform over the holders of its attribute (None if no node holds it).

    Args:
        attributes: tag -> (N,) bool, the substrate's attribute holders.
    """

    def __init__(self, attributes: Mapping[str, np.ndarray]) -> None:
        self.holders = {str(k): np.flatnonzero(np.asarray(v, dtype=bool)) for k, v in attributes.items()}

    def sample(self, rng: np.random.Generator, request_id: str) -> WorkflowRequest:
        """One request drawn from ``rng``."""
        template = WORKFLOW_TEMPLATES[WORKFLOW_TYPES[int(rng.integers(len(WORKFLOW_TYPES)))]]
        jitter = rng.uniform(*DEMAND_JITTER, (len(template.agents), len(DEMAND_DIMS)))
        source = None
        if template.source_attribute is not None:
            holders = self.holders.get(template.source_attribute, np.zeros(0, dtype=np.int64))
            source = int(holders[rng.integers(holders.size)]) if holders.size else None
        return build_request(template, request_id, jitter, source)


@dataclass(frozen=True)
class Arrival:
    """A request arriving at step ``time`` that lives ``lifetime`` steps.

    It departs at ``departure`` = the first step >= time + lifetime, at least one step after arrival.
    """

    time: int
    lifetime: float
    request: WorkflowRequest
    departure: int = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "departure", self.time + max(1, math.ceil(self.lifetime)))


class ArrivalProcess:
    """Poisson arrivals in unit steps with exponential lifetimes (spec b, "Arrivals").

    Each step t = 0, 1, ... draws k ~ Poisson(rate) and, for each of the k requests in turn, the
    request (:meth:`WorkflowGenerator.sample`) and its lifetime ~ Exp(mean_lifetime). The k requests
    of a step are i.i.d., so their order is already random. Iterate with :meth:`next_arrival`.

    Args:
        generator: draws the requests.
        rate: lambda, mean arrivals per step (> 0).
        mean_lifetime: mean lifetime in steps (> 0).
        rng: the only source of randomness.
        id_prefix: request ids are ``f"{id_prefix}{k}"`` for the k-th arrival (k from 0).
    """

    def __init__(
        self,
        generator: WorkflowGenerator,
        rate: float,
        mean_lifetime: float,
        rng: np.random.Generator,
        id_prefix: str = "",
    ) -> None:
        if not (np.isfinite(rate) and rate > 0):
            raise ValueError(f"rate must be a finite number > 0, got {rate!r}")
        if not (np.isfinite(mean_lifetime) and mean_lifetime > 0):
            raise ValueError(f"mean_lifetime must be a finite number > 0, got {mean_lifetime!r}")
        self.generator, self.rate, self.mean_lifetime, self.rng = generator, rate, mean_lifetime, rng
        self.id_prefix = id_prefix
        self.count = 0
        self._time = -1
        self._left_this_step = 0

    def next_arrival(self) -> Arrival:
        """The next arrival (time never decreases)."""
        while self._left_this_step == 0:
            self._time += 1
            self._left_this_step = int(self.rng.poisson(self.rate))
        self._left_this_step -= 1
        request = self.generator.sample(self.rng, f"{self.id_prefix}{self.count}")
        self.count += 1
        return Arrival(self._time, float(self.rng.exponential(self.mean_lifetime)), request)


def _no_links() -> np.ndarray:
    return np.zeros((0, 2), dtype=np.int64)


def _vector(value: object, length: int, name: str) -> np.ndarray:
    array = np.array(value, dtype=np.float64).reshape(-1)
    if array.shape != (length,) or not np.isfinite(array).all():
        raise ValueError(f"{name}: expected {length} finite numbers, got {value!r}")
    return array
