"""The lm-inference controllers by name (spec e, and the rule backend of MA from spec d).

=========  =====================  ============================  ==========================
name       planner                scheduler                     deployer
=========  =====================  ============================  ==========================
rf         (uniform)              random                        full activation, never changed
rr         (uniform)              random                        random redraw (q = 0.2)
rl         (uniform)              random                        drift-plus-penalty
al         (uniform)              round-robin                   drift-plus-penalty
ll         (uniform)              local                         drift-plus-penalty
mal        OPT                    JSQ                           drift-plus-penalty
ma-rule    OPT                    JSQ                           role-enacting
reference  (uniform)              JSQ                           role-enacting
=========  =====================  ============================  ==========================

``reference`` is the random-policy reference of spec g11 (the planner's ``baseline``) and plays the
agents that staged training does not train yet (spec d, "Training")

Each factory takes ``(cluster, params, seed)``; the random parts draw from independent streams of
``seed``: ``np.random.default_rng([seed, k])`` with k = 1 (scheduler), 2 (deployer), 3 (planner)
(k = 0 is the workload's, see :func:`edgeplace.envs.lm_inference.episode.run_episode`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from types import MappingProxyType

from edgeplace.algos.baselines.lm_inference.dpp import DppDeployer
from edgeplace.algos.baselines.lm_inference.fixed_deployers import FullActivationDeployer, RandomDeployer
from edgeplace.algos.baselines.lm_inference.jsq import JsqScheduler
from edgeplace.algos.baselines.lm_inference.opt_planner import OptPlanner
from edgeplace.algos.baselines.lm_inference.role_deployer import RoleDeployer
from edgeplace.algos.baselines.lm_inference.routing import (
    LocalScheduler,
    RandomScheduler,
    RoundRobinScheduler,
)
from edgeplace.envs.lm_inference.cluster import Cluster
from edgeplace.envs.lm_inference.hierarchy import Hierarchy
from edgeplace.envs.lm_inference.params import LmInferenceParams

HierarchyFactory = Callable[[Cluster, LmInferenceParams, int], Hierarchy]

HIERARCHIES: Mapping[str, HierarchyFactory] = MappingProxyType(
    {
        "rf": lambda c, p, seed: Hierarchy(
            "rf", None, RandomScheduler(c, [seed, 1]), FullActivationDeployer(c)
        ),
        "rr": lambda c, p, seed: Hierarchy(
            "rr", None, RandomScheduler(c, [seed, 1]), RandomDeployer(c, p, [seed, 2])
        ),
        "rl": lambda c, p, seed: Hierarchy("rl", None, RandomScheduler(c, [seed, 1]), DppDeployer(c, p)),
        "al": lambda c, p, seed: Hierarchy("al", None, RoundRobinScheduler(c), DppDeployer(c, p)),
        "ll": lambda c, p, seed: Hierarchy("ll", None, LocalScheduler(), DppDeployer(c, p)),
        "mal": lambda c, p, seed: Hierarchy(
            "mal", OptPlanner(c, p, [seed, 3]), JsqScheduler(c, p), DppDeployer(c, p)
        ),
        "ma-rule": lambda c, p, seed: Hierarchy(
            "ma-rule", OptPlanner(c, p, [seed, 3]), JsqScheduler(c, p), RoleDeployer(c, p)
        ),
        "reference": lambda c, p, seed: Hierarchy("reference", None, JsqScheduler(c, p), RoleDeployer(c, p)),
    }
)


def make_hierarchy(name: str, cluster: Cluster, params: LmInferenceParams, seed: int) -> Hierarchy:
    """The controller ``name`` (see the module table).

    Raises:
        ValueError: an unknown name, listing the known ones.
    """
    if name not in HIERARCHIES:
        raise ValueError(f"unknown lm-inference controller {name!r}; known: {list(HIERARCHIES)}")
    return HIERARCHIES[name](cluster, params, seed)
