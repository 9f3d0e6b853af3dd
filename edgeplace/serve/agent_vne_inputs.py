"""agent-vne request bodies checked against the topology and turned into the scenario's own objects.

- A network state body -> :class:`SubstrateLoad` (checked arrays) -> the env's
  :class:`~edgeplace.envs.agent_vne.network_state.NetworkState` holding that load as background, so
  observations, commits and the KPIs after a commit are the env's own code.
- A workflow body <-> :class:`~edgeplace.workloads.agentic_workflows.WorkflowRequest`, the raw request
  the env's semantic layer (:class:`~edgeplace.envs.agent_vne.instance.InstanceBuilder`) parses.

Every check raises :class:`~edgeplace.serve.errors.ServeInputError` (422) naming the body path.
"""

from __future__ import annotations

from dataclasses import dataclass
from http import HTTPStatus

import numpy as np

from edgeplace.envs.agent_vne.network_state import NetworkState
from edgeplace.envs.agent_vne.static import StaticNetwork
from edgeplace.serve.agent_vne_schemas import (
    AgentVNEAgent,
    AgentVNELink,
    AgentVNEWorkflow,
)
from edgeplace.serve.errors import ServeInputError
from edgeplace.workloads.agentic_workflows import WorkflowAgent, WorkflowRequest

UNPROCESSABLE = HTTPStatus.UNPROCESSABLE_ENTITY


@dataclass(frozen=True, eq=False)
class SubstrateLoad:
    """A network state body checked against the topology (by the placer; arrays read-only).

    Shapes (N nodes, E links): node_free (N, 3) float64 within capacity; link_free_mbps (E,) float64
    within bandwidth, Mbit/s; link_flows, link_workflows (E,) int64; live_workflows >= every
    link_workflows entry.
    """

    node_free: np.ndarray
    link_free_mbps: np.ndarray
    link_flows: np.ndarray
    link_workflows: np.ndarray
    live_workflows: int

    def network_state(self, static: StaticNetwork) -> NetworkState:
        """A fresh env state holding this load as background (:meth:`NetworkState.holding`)."""
        return NetworkState.holding(
            static,
            self.node_free,
            self.link_free_mbps,
            self.link_flows,
            self.link_workflows,
            self.live_workflows,
        )


def workflow_request(body: AgentVNEWorkflow, field: str) -> WorkflowRequest:
    """The raw request of a workflow body (at body path ``field``); its ``data_source_node`` is checked
    against the topology by the placer.

    Raises:
        ServeInputError: 422 for a link to an agent that does not exist, a self loop or a duplicate
            link.
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
        data_source_node=body.data_source_node,
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


def check_within(values: np.ndarray, limit: np.ndarray, field: str, what: str) -> None:
    """Raise naming the first entry of ``values`` above ``limit`` (same shape)."""
    over = np.argwhere(values > limit)
    if over.size:
        index = tuple(int(i) for i in over[0])
        path = field + "".join(f"[{i}]" for i in index)
        raise ServeInputError(UNPROCESSABLE, path, f"{values[index]:g} exceeds {what}, {limit[index]:g}")
