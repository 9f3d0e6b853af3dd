"""What the LLM-MAPPO paper reports (papers/llm-mappo.md, section g) for the report's "paper" columns,
and the methods the reproduction compares, in the paper's order."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any


@dataclass(frozen=True)
class Method:
    """A compared method: the algorithm that trains it and what its runs set on top of the budget's."""

    algo: str
    label: str
    env: Mapping[str, Any] = field(default_factory=dict)
    algo_options: Mapping[str, Any] = field(default_factory=dict)
    value_based: bool = False
    """Trained by a DQN learner: it takes the budget's ``dqn_options``, not its PPO ``train_options``."""


#: Method id -> how it trains (spec f). The ablations are configurations of llm-mappo.
METHODS: Mapping[str, Method] = MappingProxyType(
    {
        "llm-mappo": Method("llm-mappo", "LLM-MAPPO"),
        "rsppo": Method("rsppo", "RSPPO-like"),
        "gnn-drl": Method("gnn-drl", "GNN-DRL"),
        "mu-ddrl": Method("mu-ddrl", "μ-DDRL-like"),
        "cromadqn": Method("cromadqn", "CROMADQN-like", value_based=True),
        "wo-shaping": Method("llm-mappo", "w/o reward shaping", env={"shaping": False}),
        "wo-toporag": Method("llm-mappo", "w/o TopoRAG", env={"planner_options": {"use_traces": False}}),
        "mappo": Method("mappo", "w/o LLM (MAPPO)"),
    }
)
#: Table 4's ordering (best first) and Fig. 9's (full first).
TABLE4_ORDER = ("llm-mappo", "rsppo", "gnn-drl", "mu-ddrl", "cromadqn")
ABLATION_ORDER = ("llm-mappo", "wo-shaping", "wo-toporag", "mappo")
HEURISTICS = ("greedy", "random")
#: The protocol's 5 evaluation seeds (the same request streams for every method).
EVAL_SEEDS = (0, 1, 2, 3, 4)

#: Table 4: mean / p95 / p99 latency ms, SLA violations, median episodes to converge.
TABLE4: Mapping[str, tuple[float, float, float, float, float]] = MappingProxyType(
    {
        "llm-mappo": (44.3, 62.1, 71.5, 0.065, 820),
        "rsppo": (53.4, 78.3, 93.8, 0.103, 1075),
        "gnn-drl": (59.7, 89.5, 108.2, 0.238, 1650),
        "mu-ddrl": (71.5, 112.4, 138.7, 0.310, 650),
        "cromadqn": (92.8, 151.3, 184.9, 0.390, 680),
    }
)
#: Fig. 9 relative to the full method: latency, violations, convergence episodes.
FIG9: Mapping[str, str] = MappingProxyType(
    {
        "llm-mappo": "15.2 ms, 3.2 %, 820 episodes",
        "wo-shaping": "+50 % latency, ×2 violations",
        "wo-toporag": "+87 % latency, ×2.7 violations, > ×2 episodes",
        "mappo": "+200 % latency, ×5.8 violations, ×3.9 episodes",
    }
)
#: Table 3 (planner MSE by utilisation bucket): PFA + TopoRAG and the best row without TopoRAG.
TABLE3_PAPER = "PFA+TopoRAG .087 / .108 / .142; best without TopoRAG .198 / .225 / .278"
#: Versus RSPPO (spec g, Table 4 target).
LATENCY_CUT, VIOLATION_RATIO, EPISODE_CUT = 0.15, 0.7, 0.20
