"""Baseline policies (all implement :class:`edgeplace.policy.Policy`), looked up through the scenario
registry: each scenario's spec lists its baselines as factories ``(seed, env_config) -> Policy``; a
baseline that needs the static network (paths, capacities) builds it from ``env_config`` the same way
the env does."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from edgeplace.policy import Policy
from edgeplace.scenarios import get_scenario


def baseline_names(scenario_id: str) -> list[str]:
    """Names of the baselines of a scenario."""
    return get_scenario(scenario_id).baseline_names()


def make_baseline(
    scenario_id: str, name: str, *, seed: int = 0, env_config: Mapping[str, Any] | None = None
) -> Policy:
    """Baseline ``name`` of a scenario for envs built from ``env_config``; the error names the
    scenario's baselines."""
    return get_scenario(scenario_id).make_baseline(name, seed=seed, env_config=env_config)
