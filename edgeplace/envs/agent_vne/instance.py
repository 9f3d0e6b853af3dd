"""From a raw workflow request to the embedding instance: the semantic layer's one entry point.

The instance (anchors, pins) always comes from the rule-based parser and is shared by every method
(spec c, "Fairness"); ``bias`` only changes the virtual bias that AgentVNE's features see.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from edgeplace.envs.agent_vne.request import NO_TARGET, VirtualRequest, allowed_hosts
from edgeplace.envs.agent_vne.static import StaticNetwork
from edgeplace.planners.constraints import ConstraintSet
from edgeplace.planners.decoupling import DecoupledRequest, bias_features, decouple
from edgeplace.planners.rule_based import RuleBasedParser
from edgeplace.workloads.agentic_workflows import SubstrateSummary, WorkflowRequest


@dataclass(frozen=True, eq=False)
class EmbeddingInstance:
    """One arriving request, ready to embed.

    Shapes (N nodes): bias (N, 6) float64, the virtual bias added to the substrate input features
    (column 5 is the bias flag).
    """

    raw: WorkflowRequest
    constraints: ConstraintSet
    request: VirtualRequest | None
    """None when the parser found an agent whose attributes no node holds (reject)."""
    bias: np.ndarray


class InstanceBuilder:
    """Parses, decouples and converts requests for one static network.

    Args:
        static: the network.
        bias: None keeps the parser's bias; a number replaces it on every constraint.
        strict_affinity: keep the attributes on the constrained agents (literal Eq.11).
    """

    def __init__(
        self, static: StaticNetwork, bias: float | None = None, strict_affinity: bool = False
    ) -> None:
        self.static, self.bias, self.strict_affinity = static, bias, strict_affinity
        self.parser = RuleBasedParser()

    def build(self, raw: WorkflowRequest, node_free: np.ndarray) -> EmbeddingInstance:
        """The instance of ``raw`` with the current free resources ``node_free`` (N, 3)."""
        constraints = self.parser.parse(raw, SubstrateSummary.of(self.static.substrate, node_free))
        if self.bias is not None:
            constraints = dataclasses.replace(
                constraints,
                constraints=tuple(dataclasses.replace(c, bias=self.bias) for c in constraints.constraints),
            )
        bias = bias_features(self.static.num_nodes, constraints)
        if constraints.infeasible:
            return EmbeddingInstance(raw, constraints, None, bias)
        decoupled = decouple(raw, constraints, strict_affinity=self.strict_affinity)
        return EmbeddingInstance(raw, constraints, virtual_request(decoupled, self.static), bias)


def virtual_request(decoupled: DecoupledRequest, static: StaticNetwork) -> VirtualRequest:
    """The numpy form of a decoupled request on ``static`` (a tag the substrate lacks allows no node)."""
    names = static.attribute_names
    affinity = np.array([[name in tags for name in names] for tags in decoupled.affinity], dtype=bool)
    affinity = affinity.reshape(decoupled.num_nodes, len(names))
    unknown = np.array([any(tag not in names for tag in tags) for tags in decoupled.affinity], dtype=bool)
    target = np.where(decoupled.is_anchor, decoupled.pinned_node, NO_TARGET).astype(np.int64)
    allowed = allowed_hosts(affinity, target, static)
    allowed[unknown] = False
    return VirtualRequest(
        request_id=decoupled.request_id,
        demand=np.asarray(decoupled.demand, dtype=np.float64),
        affinity=affinity,
        allowed=allowed,
        is_anchor=np.asarray(decoupled.is_anchor, dtype=bool),
        anchor_target=target,
        links=np.asarray(decoupled.links, dtype=np.int64).reshape(-1, 2),
        bw_mbps=np.asarray(decoupled.link_bandwidth_mbps, dtype=np.float64),
        data_mb=np.asarray(decoupled.link_data_mb, dtype=np.float64),
    )
