"""Turn parser constraints into the embedding instance and the substrate bias (spec c, "Decoupling"
and "Bias injection").

Decoupling: every constrained agent c (attributes A, target t) gets a communication anchor a: zero
demand, ``is_anchor``, affinity A, pinned to t, and a virtual link a -> c with the anchor link profile
of A (:func:`~edgeplace.workloads.agentic_workflows.anchor_link_profile`). A is dropped from c unless
``strict_affinity`` (the literal Eq. 11, which also binds the agent itself). Agents keep their
indices 0..V_a-1; anchors follow in agent-id order; anchor links follow the request's links.

Bias: the target of each constraint gets ``bias * bias_scale`` added to its 6 input features and its
bias flag (feature 5) set; the bias is virtual and never changes real capacity.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from edgeplace.planners.constraints import AgentConstraint, ConstraintSet
from edgeplace.workloads.agentic_workflows import WorkflowRequest, anchor_link_profile

#: ``pinned_node`` of a virtual node the placer may put anywhere.
FREE = -1
#: Width of the substrate input features the bias is added to (spec d).
NUM_NODE_FEATURES = 6
#: Column of the bias flag in those features.
BIAS_FLAG_COLUMN = 5
DEFAULT_BIAS_SCALE = (1.0, 1.0, 1.0, 0.0, 0.0, 0.0)
#: Largest hop distance the optional explicit spread reaches, and its per-hop decay.
SPREAD_HOPS = 2
SPREAD_DECAY = 0.5


@dataclass(frozen=True, eq=False)
class DecoupledRequest:
    """A request with its decoupling anchors: the instance every placement algorithm embeds.

    Virtual nodes 0..num_agents-1 are the request's agents (same ids); num_agents..V-1 are anchors.
    Arrays are read-only.

    Shapes (V virtual nodes, L virtual links):
        demand: (V, 3) float64 (compute, memory, storage); anchors are 0.
        is_anchor: (V,) bool.
        pinned_node: (V,) int64, the substrate node of a pinned (anchor) node, :data:`FREE` otherwise.
        anchor_of: (V,) int64, the agent an anchor stands for, -1 for agents.
        links: (L, 2) int64 virtual node ids, directed u -> v.
        link_bandwidth_mbps: (L,) float64, minimum bandwidth, Mbit/s.
        link_data_mb: (L,) float64, data size, MB.

    Attributes:
        affinity: V tuples of attribute tags each virtual node's host must hold.
    """

    request_id: str
    num_agents: int
    demand: np.ndarray
    affinity: tuple[tuple[str, ...], ...]
    is_anchor: np.ndarray
    pinned_node: np.ndarray
    anchor_of: np.ndarray
    links: np.ndarray
    link_bandwidth_mbps: np.ndarray
    link_data_mb: np.ndarray

    @property
    def num_nodes(self) -> int:
        """V, agents plus anchors."""
        return int(self.demand.shape[0])

    @property
    def num_links(self) -> int:
        """L, request links plus anchor links."""
        return int(self.links.shape[0])

    @property
    def has_affinity(self) -> np.ndarray:
        """Virtual nodes with a non-empty affinity. Shapes: (V,) bool."""
        return np.array([bool(tags) for tags in self.affinity], dtype=bool)


def decouple(
    request: WorkflowRequest, constraints: ConstraintSet, strict_affinity: bool = False
) -> DecoupledRequest:
    """Add one pinned zero-demand anchor and one anchor -> agent link per constraint.

    Args:
        request: the raw request.
        constraints: its constraints (the rule-based ones, shared by all algorithms).
        strict_affinity: keep the attributes on the agent too (literal Eq. 11).

    Raises:
        ValueError: constraints of another request, an infeasible set (reject the request instead),
            an agent id outside the request, or an attribute without an anchor link profile.
    """
    if constraints.request_id != request.request_id:
        raise ValueError(
            f"constraints.request_id: {constraints.request_id!r} is not the request's {request.request_id!r}"
        )
    if constraints.infeasible:
        ids = [c.agent_id for c in constraints.unsatisfiable]
        raise ValueError(f"constraints: agents {ids} have no holder; the request must be rejected")
    num_agents = request.num_agents
    ordered = sorted(constraints.constraints, key=lambda c: c.agent_id)
    for c in ordered:
        if not 0 <= c.agent_id < num_agents:
            raise ValueError(f"constraints: agent_id {c.agent_id} is not an agent of {request.request_id!r}")
    num_anchors = len(ordered)
    anchors = np.arange(num_agents, num_agents + num_anchors, dtype=np.int64)
    constrained = np.array([c.agent_id for c in ordered], dtype=np.int64)
    profiles = [anchor_link_profile(c.required_attributes) for c in ordered]

    affinity: list[tuple[str, ...]] = [() for _ in range(num_agents)]
    if strict_affinity:
        for c in ordered:
            affinity[c.agent_id] = c.required_attributes
    affinity += [c.required_attributes for c in ordered]

    return DecoupledRequest(
        request_id=request.request_id,
        num_agents=num_agents,
        demand=_frozen(np.vstack([request.demand, np.zeros((num_anchors, request.demand.shape[1]))])),
        affinity=tuple(affinity),
        is_anchor=_frozen(np.arange(num_agents + num_anchors) >= num_agents),
        pinned_node=_frozen(
            np.concatenate([np.full(num_agents, FREE), [c.target_node for c in ordered]]).astype(np.int64)
        ),
        anchor_of=_frozen(np.concatenate([np.full(num_agents, -1), constrained]).astype(np.int64)),
        links=_frozen(np.vstack([request.links, np.stack([anchors, constrained], axis=1)]).astype(np.int64)),
        link_bandwidth_mbps=_frozen(
            np.concatenate([request.link_bandwidth_mbps, [p.bandwidth_mbps for p in profiles]]).astype(float)
        ),
        link_data_mb=_frozen(
            np.concatenate([request.link_data_mb, [p.data_mb for p in profiles]]).astype(float)
        ),
    )


def bias_features(
    num_nodes: int,
    constraints: ConstraintSet | Iterable[AgentConstraint],
    bias_scale: Sequence[float] = DEFAULT_BIAS_SCALE,
    hops: np.ndarray | None = None,
) -> np.ndarray:
    """Virtual resource bias to add to the substrate input features.

    Each constraint adds ``bias * bias_scale`` to its target's row (several constraints on one target
    add up). When ``hops`` is given, nodes h = 1..2 hops from a target also get
    ``bias * 0.5**h * bias_scale`` (the optional explicit spread; off by default, since GCN message
    passing spreads the bias implicitly). Column 5 (bias flag) is then set to 1 on every target of a
    constraint with bias > 0 (bias 0, as in the w/o-LLM ablation, leaves no trace). ``unsatisfiable``
    entries of a :class:`ConstraintSet` are ignored.

    Args:
        num_nodes: N.
        constraints: a set or its satisfiable constraints.
        bias_scale: (6,) per-feature multiplier; default (1, 1, 1, 0, 0, 0) biases the three resources.
        hops: (N, N) hop counts (``Substrate.paths.hops``), or None for no explicit spread.

    Shapes:
        -> (N, 6) float64.

    Raises:
        ValueError: a bad ``bias_scale`` or ``hops`` shape, or a target outside 0..N-1.
    """
    items = constraints.constraints if isinstance(constraints, ConstraintSet) else tuple(constraints)
    scale = np.asarray(bias_scale, dtype=np.float64)
    if scale.shape != (NUM_NODE_FEATURES,):
        raise ValueError(f"bias_scale: expected {NUM_NODE_FEATURES} numbers, got shape {scale.shape}")
    targets = np.array([c.target_node for c in items], dtype=np.int64)
    biases = np.array([c.bias for c in items], dtype=np.float64)
    if targets.size and (targets.min() < 0 or targets.max() >= num_nodes):
        raise ValueError(f"constraints: target_node outside 0..{num_nodes - 1}: {targets.tolist()}")
    weight = np.zeros(num_nodes)  # total bias per node, before the per-feature scale
    np.add.at(weight, targets, biases)
    if hops is not None:
        hops = np.asarray(hops)
        if hops.shape != (num_nodes, num_nodes):
            raise ValueError(f"hops: expected shape ({num_nodes}, {num_nodes}), got {hops.shape}")
        near = hops[targets]  # (K, N) hop distance of every node from each target
        decay = np.where((near >= 1) & (near <= SPREAD_HOPS), SPREAD_DECAY ** np.clip(near, 0, None), 0.0)
        weight += biases @ decay
    features = weight[:, None] * scale[None, :]
    features[targets[biases > 0], BIAS_FLAG_COLUMN] = 1.0
    return features


def _frozen(array: np.ndarray) -> np.ndarray:
    array = np.ascontiguousarray(array)
    array.setflags(write=False)
    return array
