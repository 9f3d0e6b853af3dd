"""The lm-inference ``rule`` backend served without a checkpoint (``rule:lm-inference[:CONTROLLER]``):
the controller's JSQ scheduler routes each prompt batch on its state and the role-enacting deployer
decides on the routed state, under the plan the state carries. The request carries no demand
estimates or configuration hint (the planner's per-episode state), so the deployer uses its own
fallback; a served ``ma-rule`` therefore equals ``reference`` (JSQ + role deployer) exactly. A rule
decision is deterministic: each comes with probability 1 and itself as the only candidate.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from edgeplace.envs.lm_inference.decisions import NOT_IN_CATALOGUE, catalogue_actions
from edgeplace.envs.lm_inference.hierarchy import Hierarchy
from edgeplace.envs.lm_inference.lm_types import NUM_LMS
from edgeplace.envs.lm_inference.node_config import NodeConfig
from edgeplace.serve.lm_inference_placements import Decisions, LmPlacements

if TYPE_CHECKING:
    from edgeplace.serve.lm_inference_placer import LmInferencePlacer, LmJob

#: Rule controllers served without a checkpoint: those whose scheduler and deployer decide from the
#: state and its plan alone (JSQ and the role-enacting deployer; the planner does not act in serving,
#: so ``ma-rule`` and ``reference`` decide alike). The first is the default.
RULE_CONTROLLERS = ("ma-rule", "reference")
#: Seed of a served rule controller's hierarchy (its JSQ scheduler and role deployer draw nothing).
RULE_SEED = 0


@dataclass(frozen=True)
class LmRulePolicy:
    """A rule controller served without a checkpoint: ``controller`` of :data:`RULE_CONTROLLERS`,
    named ``name`` in the API."""

    name: str
    controller: str


def rule_placements(placer: LmInferencePlacer, jobs: Sequence[LmJob], rule: Hierarchy) -> LmPlacements:
    """The rule controller's decisions on every job (see the module docstring).

    Raises:
        ValueError: a deployment outside the node's catalogue (a served plan has no configuration hint,
            so the role deployer only picks catalogue entries).
    """
    n = placer.num_nodes
    dests = [rule.scheduler.route(job.view, job.plan) for job in jobs]  # (N, I) each
    actions = []
    for job, dest in zip(jobs, dests, strict=True):
        routed = job.view.routed(dest, placer.cluster.can_host)
        targets = rule.deployer.deploy(routed, job.plan)
        configs = np.stack([_rows(target or routed.node_config(node)) for node, target in enumerate(targets)])
        actions.append(catalogue_actions(placer.table, routed, np.arange(n), configs))  # (N,)
    deployments = np.concatenate(actions)
    if (deployments == NOT_IN_CATALOGUE).any():
        raise ValueError(
            f"{placer.policy.name}: the role deployer chose a configuration outside the catalogue"
        )
    routes = certain(np.stack([dest.reshape(n * NUM_LMS) for dest in dests]), n)  # (B, N I)
    return LmPlacements(placer, jobs, routes, certain(deployments, placer.num_actions))  # (B N,)


def _rows(config: NodeConfig) -> np.ndarray:
    """A configuration's mode, cores and vgpus rows. Shapes: -> (3, I)."""
    return np.stack([config.mode, config.cores, config.vgpus])


def certain(actions: np.ndarray, choices: int) -> Decisions:
    """Deterministic decisions: each chosen action is the only allowed one, with probability 1.

    Shapes: actions (B,) or (B, K) -> probability, allowed (B, choices) or (B, K, choices).
    """
    allowed = actions[..., None] == np.arange(choices)
    return Decisions(actions, allowed.astype(np.float64), allowed)
