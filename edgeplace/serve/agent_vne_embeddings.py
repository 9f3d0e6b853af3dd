"""The embeddings of agent-vne workflows, kept as the env's objects and arrays, and written out as JSON.

Documents are built straight from the arrays into the shapes of
:class:`~edgeplace.serve.agent_vne_schemas.AgentVNEPlacement` and ``AgentVNEBatchPlacement``, for
``pydantic_core.to_json`` (no pydantic object per agent, route and candidate is built or validated).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from edgeplace.envs.agent_vne.instance import EmbeddingInstance
from edgeplace.envs.agent_vne.network_state import LiveWorkflow
from edgeplace.envs.agent_vne.static import NO_EDGE
from edgeplace.serve.responses import DECIMALS, rounded

#: A JSON document shaped as :class:`~edgeplace.serve.agent_vne_schemas.AgentVNEPlacement`.
PlacementDocument = dict[str, Any]


@dataclass(frozen=True, eq=False)
class Embedding:
    """One workflow's outcome on its network state.

    Shapes (V virtual nodes: the request's agents, then its anchors; k listed candidates):
        candidates: (V, k) int64, the head of each virtual node's priority list (sorted pi, feasible
            nodes only); probability: (V, k) float64, their pi; listed: (V, k) bool, False past the
            end of a shorter list (anchors have none).

    Attributes:
        instance: the parsed, decoupled request.
        workflow: the committed embedding, or None when the workflow was rejected.
        reason: why it was rejected ("" when accepted).
        weighted_hops, network_weighted_hops, latency_s: the env's measures right after the commit
            (this workflow's Eq.26 term, Eq.26 H, Eq.5-6 latency in seconds); 0 when rejected.
    """

    instance: EmbeddingInstance
    workflow: LiveWorkflow | None
    reason: str
    candidates: np.ndarray
    probability: np.ndarray
    listed: np.ndarray
    weighted_hops: float = 0.0
    network_weighted_hops: float = 0.0
    latency_s: float = 0.0

    @property
    def request_id(self) -> str:
        return self.instance.raw.request_id

    @property
    def accepted(self) -> bool:
        return self.workflow is not None

    def document(self, policy: str, edge_index: np.ndarray) -> PlacementDocument:
        """The ``AgentVNEPlacement`` document of an accepted workflow; ``edge_index`` (2, E) gives the
        nodes along each route."""
        workflow = self.workflow
        assert workflow is not None, "only accepted workflows have a placement"
        hosts = workflow.hosts.tolist()
        num_agents = self.instance.raw.num_agents
        probability = rounded(self.probability)
        candidates = [
            [{"node": n, "probability": p} for n, p, shown in zip(*row, strict=True) if shown]
            for row in zip(self.candidates.tolist(), probability, self.listed.tolist(), strict=True)
        ]
        constraints = sorted(self.instance.constraints.constraints, key=lambda c: c.agent_id)
        return {
            "policy": policy,
            "request_id": self.request_id,
            "agents": [
                {"host": host, "candidates": listed}
                for host, listed in zip(hosts[:num_agents], candidates[:num_agents], strict=True)
            ],
            "anchors": [
                {
                    "agent": c.agent_id,
                    "attributes": list(c.required_attributes),
                    "node": node,
                    "bias": c.bias,
                    "reason": c.reason,
                }
                for c, node in zip(constraints, hosts[num_agents:], strict=True)
            ],
            "routes": [
                _route(src, dst, hosts[src], edges, edge_index)
                for (src, dst), edges in zip(workflow.request.links.tolist(), workflow.route, strict=True)
            ],
            "hops": int(workflow.link_hops.sum()),
            "weighted_hops": round(self.weighted_hops, DECIMALS),
            "network_weighted_hops": round(self.network_weighted_hops, DECIMALS),
            "latency_s": round(self.latency_s, DECIMALS),
        }


def _route(src: int, dst: int, src_host: int, edges: np.ndarray, edge_index: np.ndarray) -> dict[str, Any]:
    """The ``AgentVNERoute`` of a virtual link. ``edges`` (D,) is its row of ``LiveWorkflow.route``:
    link ids walked back from the destination, -1 padded."""
    links = edges[edges != NO_EDGE][::-1].tolist()  # from the source's host on
    path = [src_host]
    for link in links:
        a, b = edge_index[:, link].tolist()
        path.append(b if path[-1] == a else a)
    return {"src": src, "dst": dst, "path": path, "links": links}


def batch_document(
    policy: str, mode: str, embeddings: Sequence[Embedding], edge_index: np.ndarray
) -> dict[str, Any]:
    """The ``AgentVNEBatchPlacement`` document of a batch, in request order."""
    return {
        "policy": policy,
        "mode": mode,
        "results": [
            {
                "request_id": embedding.request_id,
                "accepted": embedding.accepted,
                "reason": embedding.reason,
                "placement": embedding.document(policy, edge_index) if embedding.accepted else None,
            }
            for embedding in embeddings
        ],
    }
