"""Baseline policies by scenario and name (all implement :class:`edgeplace.policy.Policy`)."""

from __future__ import annotations

from collections.abc import Callable

from edgeplace.algos.baselines.genai_chain import GreedyPolicy, RandomPolicy, UtilityGreedyPolicy
from edgeplace.policy import Policy

_BASELINES: dict[str, dict[str, Callable[[int], Policy]]] = {
    "genai-chain": {
        "random": RandomPolicy,
        "greedy": lambda seed: GreedyPolicy(),
        "utility-greedy": lambda seed: UtilityGreedyPolicy(),
    },
}


def baseline_names(scenario_id: str) -> list[str]:
    """Names of the baselines available for a scenario."""
    return sorted(_BASELINES.get(scenario_id, {}))


def make_baseline(scenario_id: str, name: str, *, seed: int = 0) -> Policy:
    """Build baseline ``name`` of a scenario; the error names the scenario's baselines."""
    table = _BASELINES.get(scenario_id, {})
    if name not in table:
        raise KeyError(f"no baseline {name!r} for scenario {scenario_id!r}; known: {sorted(table)}")
    return table[name](seed)
