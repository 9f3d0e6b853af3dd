"""Baseline policies by scenario and name (all implement :class:`edgeplace.policy.Policy`).

Each scenario registers factories ``(seed, env_config) -> Policy``; a baseline that needs the static
network (paths, capacities) builds it from ``env_config`` the same way the env does.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from edgeplace.algos.baselines.genai_chain import GreedyPolicy, RandomPolicy, UtilityGreedyPolicy
from edgeplace.policy import Policy

EnvConfig = Mapping[str, Any]
BaselineFactory = Callable[[int, EnvConfig], Policy]

_BASELINES: dict[str, dict[str, BaselineFactory]] = {
    "genai-chain": {
        "random": lambda seed, env_config: RandomPolicy(seed),
        "greedy": lambda seed, env_config: GreedyPolicy(),
        "utility-greedy": lambda seed, env_config: UtilityGreedyPolicy(),
    },
}


def register_baselines(scenario_id: str, factories: Mapping[str, BaselineFactory]) -> None:
    """Add a scenario's baselines; re-registering a name is an error, not an override."""
    table = _BASELINES.setdefault(scenario_id, {})
    clashes = sorted(set(table) & set(factories))
    if clashes:
        raise ValueError(f"baselines {clashes} of {scenario_id!r} are already registered")
    table.update(factories)


def baseline_names(scenario_id: str) -> list[str]:
    """Names of the baselines available for a scenario."""
    return sorted(_BASELINES.get(scenario_id, {}))


def make_baseline(
    scenario_id: str, name: str, *, seed: int = 0, env_config: EnvConfig | None = None
) -> Policy:
    """Build baseline ``name`` of a scenario for envs built from ``env_config``; the error names the
    scenario's baselines."""
    table = _BASELINES.get(scenario_id, {})
    if name not in table:
        raise KeyError(f"no baseline {name!r} for scenario {scenario_id!r}; known: {sorted(table)}")
    return table[name](seed, env_config or {})


import edgeplace.algos.baselines.agent_vne  # noqa: E402, F401  (registers the agent-vne baselines)
import edgeplace.algos.baselines.dnn_inference  # noqa: E402, F401  (registers the dnn-inference baselines)
