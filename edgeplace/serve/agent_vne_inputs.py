"""agent-vne request bodies checked against the topology and turned into the scenario's own objects.

- A network state body -> :class:`SubstrateLoad` (checked arrays) -> :class:`ServedState`, the env's
  :class:`~edgeplace.envs.agent_vne.network_state.NetworkState` holding that load, so observations,
  commits and the KPIs after a commit are the env's own code.
- A workflow body <-> :class:`~edgeplace.workloads.agentic_workflows.WorkflowRequest`, the raw request
  the env's semantic layer (:class:`~edgeplace.envs.agent_vne.instance.InstanceBuilder`) parses.

Every check raises :class:`~edgeplace.serve.errors.ServeInputError` (422) naming the body path.
"""

from __future__ import annotations

from dataclasses import dataclass
from http import HTTPStatus

import numpy as np

from edgeplace.envs.agent_vne.network_state import NetworkState
from edgeplace.envs.agent_vne.static import MBPS_PER_MB_S, StaticNetwork
from edgeplace.serve.agent_vne_schemas import (
    AgentVNEAgent,
    AgentVNELink,
    AgentVNENetworkState,
    AgentVNEWorkflow,
)
from edgeplace.serve.errors import ServeInputError
from edgeplace.workloads.agentic_workflows import DEMAND_DIMS, WorkflowAgent, WorkflowRequest

UNPROCESSABLE = HTTPStatus.UNPROCESSABLE_ENTITY


@dataclass(frozen=True, eq=False)
class SubstrateLoad:
    """A network state body checked against the topology (arrays read-only).

    Shapes (N nodes, E links): node_free (N, 3) float64 within capacity; link_free_mbps (E,) float64
    within bandwidth, Mbit/s; link_flows, link_workflows (E,) int64; live_workflows >= every
    link_workflows entry.
    """

    node_free: np.ndarray
    link_free_mbps: np.ndarray
    link_flows: np.ndarray
    link_workflows: np.ndarray
    live_workflows: int

    @classmethod
    def check(cls, body: AgentVNENetworkState, static: StaticNetwork, field: str = "state") -> SubstrateLoad:
        """The load of ``body`` (at body path ``field``) on ``static``.

        Raises:
            ServeInputError: 422 for a wrong array length, a free amount above its capacity, or
                workflow counts above the flow counts or ``live_workflows``.
        """
        topology = static.substrate.name
        node_free = _array(body.node_free, static.num_nodes, f"{field}.node_free", f"node of {topology}")
        node_free = node_free.reshape(static.num_nodes, len(DEMAND_DIMS))
        _within(node_free, static.capacity, f"{field}.node_free", "the node's capacity")
        edges = f"link of {topology}"
        link_free = _array(body.link_free_mbps, static.num_edges, f"{field}.link_free_mbps", edges)
        _within(link_free, static.bandwidth_mbps, f"{field}.link_free_mbps", "the link's bandwidth (Mbit/s)")
        flows = _array(body.link_flows, static.num_edges, f"{field}.link_flows", edges, np.int64)
        workflows = _array(body.link_workflows, static.num_edges, f"{field}.link_workflows", edges, np.int64)
        _within(workflows, flows, f"{field}.link_workflows", "link_flows (each workflow has a flow there)")
        live = np.full_like(workflows, body.live_workflows)
        _within(workflows, live, f"{field}.link_workflows", "live_workflows")
        return cls(node_free, link_free, flows, workflows, body.live_workflows)

    def served_state(self, static: StaticNetwork) -> ServedState:
        """A fresh env state holding this load: one background allocation per busy node and one for the
        busy links, then the flow and workflow counts. For states the env produced, the free amounts
        come back bit for bit (capacity - (capacity - free) is exact there)."""
        state = NetworkState(static)
        node_used = static.capacity - self.node_free
        for node in np.flatnonzero((node_used > 0).any(axis=1)):
            state.ledger.allocate_node(int(node), node_used[node])
        link_used_mbps = static.bandwidth_mbps - self.link_free_mbps
        busy = np.flatnonzero(link_used_mbps > 0)
        if busy.size:
            state.ledger.allocate_links(busy, link_used_mbps[busy] / MBPS_PER_MB_S)
        state.flow_count[:] = self.link_flows
        state.workflow_count[:] = self.link_workflows
        return ServedState(state, self.live_workflows)


@dataclass(frozen=True, eq=False)
class ServedState:
    """The env's state of a request body: ``state`` holds the body's load (its live workflows only as
    resources and counts, ``background_workflows`` of them) and the workflows placed here."""

    state: NetworkState
    background_workflows: int

    def weighted_hops(self) -> float:
        """Eq.26 H = sum_e n_e |F_e| / |W| over every live workflow, the body's included
        (``NetworkState.weighted_hops`` counts only the workflows it holds itself)."""
        live = self.background_workflows + len(self.state.live)
        return float(self.state.workflow_count @ self.state.flow_count) / live if live else 0.0


def workflow_request(body: AgentVNEWorkflow, num_nodes: int, field: str) -> WorkflowRequest:
    """The raw request of a workflow body (at body path ``field``) on a topology of ``num_nodes`` nodes.

    Raises:
        ServeInputError: 422 for a link to an agent that does not exist, a self loop, a duplicate
            link, or a data source node out of range.
    """
    count = len(body.agents)
    seen: dict[tuple[int, int], int] = {}
    for index, link in enumerate(body.links):
        where = f"{field}.links[{index}]"
        for end in ("src", "dst"):
            if getattr(link, end) >= count:
                raise ServeInputError(
                    UNPROCESSABLE,
                    f"{where}.{end}",
                    f"agent index {getattr(link, end)} out of range: the workflow has {count} agents",
                )
        if link.src == link.dst:
            raise ServeInputError(UNPROCESSABLE, where, f"self loop on agent {link.src}")
        pair = (link.src, link.dst)
        if pair in seen:
            raise ServeInputError(UNPROCESSABLE, where, f"duplicates {field}.links[{seen[pair]}]")
        seen[pair] = index
    source = body.data_source_node
    if source is not None and source >= num_nodes:
        raise ServeInputError(
            UNPROCESSABLE,
            f"{field}.data_source_node",
            f"node index {source} out of range: the topology has {num_nodes} nodes (0..{num_nodes - 1})",
        )
    return WorkflowRequest(
        request_id=body.request_id,
        workflow_type=body.workflow_type,
        description=body.description,
        agents=tuple(
            WorkflowAgent(i, agent.name, agent.role, tuple(agent.tools), np.asarray(agent.demand))
            for i, agent in enumerate(body.agents)
        ),
        links=np.array([(link.src, link.dst) for link in body.links], dtype=np.int64).reshape(-1, 2),
        link_bandwidth_mbps=np.array([link.bandwidth_mbps for link in body.links], dtype=np.float64),
        link_data_mb=np.array([link.data_mb for link in body.links], dtype=np.float64),
        data_source_node=source,
    )


def workflow_body(request: WorkflowRequest) -> AgentVNEWorkflow:
    """The body of a raw request (its ground-truth ``affinity`` is left out: the parser finds it)."""
    links = zip(
        request.links.tolist(),
        request.link_bandwidth_mbps.tolist(),
        request.link_data_mb.tolist(),
        strict=True,
    )
    return AgentVNEWorkflow(
        request_id=request.request_id,
        workflow_type=request.workflow_type,
        description=request.description,
        agents=[
            AgentVNEAgent(name=a.name, role=a.role, tools=list(a.tools), demand=a.demand.tolist())
            for a in request.agents
        ],
        links=[
            AgentVNELink(src=src, dst=dst, bandwidth_mbps=bw, data_mb=data) for (src, dst), bw, data in links
        ],
        data_source_node=request.data_source_node,
    )


def _array(values: list, length: int, field: str, item: str, dtype: type = np.float64) -> np.ndarray:
    """``values`` as a read-only array, checking that it has one entry per ``item`` (``length``)."""
    if len(values) != length:
        raise ServeInputError(
            UNPROCESSABLE, field, f"expected {length} entries (one per {item}), got {len(values)}"
        )
    array = np.array(values, dtype=dtype)
    array.setflags(write=False)
    return array


def _within(values: np.ndarray, limit: np.ndarray, field: str, what: str) -> None:
    """Raise naming the first entry of ``values`` above ``limit`` (same shape)."""
    over = np.argwhere(values > limit)
    if over.size:
        index = tuple(int(i) for i in over[0])
        path = field + "".join(f"[{i}]" for i in index)
        raise ServeInputError(UNPROCESSABLE, path, f"{values[index]:g} exceeds {what}, {limit[index]:g}")
