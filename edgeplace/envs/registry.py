"""The scenario registry: one entry per scenario family, looked up by its id everywhere (CLI, RLlib
env registration, evaluation, Serve)."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from ray.rllib.env.multi_agent_env import MultiAgentEnv


@dataclass(frozen=True)
class Scenario:
    """A scenario family.

    Attributes:
        scenario_id: the id used on the command line and as RLlib's env name.
        make_env: builds an env from an RLlib ``env_config`` mapping.
        kpis: names of the KPIs the env reports at episode end, in report order.
        primary_kpis: the subset a comparison table leads with.
        description: one line for ``edgeplace scenarios``.
        has_splits: the env takes ``split`` (train/test request streams) in its config.
        agents_config: maps a number of agents (``--agents``) to env config entries; None when the
            topology and workload fix the agents.
    """

    scenario_id: str
    make_env: Callable[[Mapping[str, Any] | None], MultiAgentEnv]
    kpis: tuple[str, ...]
    primary_kpis: tuple[str, ...]
    description: str
    has_splits: bool = False
    agents_config: Callable[[int], dict[str, Any]] | None = None

    def env_config(
        self,
        *,
        topology: str | None = None,
        split: str | None = None,
        max_nodes: int | None = None,
        agents: int | None = None,
    ) -> dict[str, Any]:
        """The env config of a command-line run: only the given settings (the env's defaults fill the
        rest); ``split`` only for scenarios with train/test splits.

        Raises:
            ValueError: ``agents`` for a scenario whose agents are not configurable, or a count it
                cannot have.
        """
        config: dict[str, Any] = {}
        if agents is not None:
            if self.agents_config is None:
                raise ValueError(f"--agents: {self.scenario_id} has no agent count option")
            config.update(self.agents_config(agents))
        if topology is not None:
            config["topology"] = topology
        if max_nodes is not None:
            config["max_nodes"] = max_nodes
        if split is not None and self.has_splits:
            config["split"] = split
        return config


_SCENARIOS: dict[str, Scenario] = {}


def register_scenario(scenario: Scenario) -> Scenario:
    """Add a scenario; a second scenario with the same id is an error, not an override."""
    if scenario.scenario_id in _SCENARIOS:
        raise ValueError(f"scenario {scenario.scenario_id!r} is already registered")
    _SCENARIOS[scenario.scenario_id] = scenario
    return scenario


def get_scenario(scenario_id: str) -> Scenario:
    """The registered scenario ``scenario_id``; the error lists the known ids."""
    _register_builtin()
    try:
        return _SCENARIOS[scenario_id]
    except KeyError:
        raise KeyError(f"unknown scenario {scenario_id!r}; known: {sorted(_SCENARIOS)}") from None


def scenarios() -> list[Scenario]:
    """All registered scenarios, sorted by id."""
    _register_builtin()
    return [_SCENARIOS[key] for key in sorted(_SCENARIOS)]


#: Packages of the built-in scenarios; each exposes ``SCENARIO`` (a :class:`Scenario`).
BUILTIN_SCENARIO_PACKAGES = (
    "edgeplace.envs.genai_chain",
    "edgeplace.envs.dnn_inference",
    "edgeplace.envs.agent_vne",
)


def _register_builtin() -> None:
    for package in BUILTIN_SCENARIO_PACKAGES:
        scenario = importlib.import_module(package).SCENARIO
        if scenario.scenario_id not in _SCENARIOS:
            register_scenario(scenario)
