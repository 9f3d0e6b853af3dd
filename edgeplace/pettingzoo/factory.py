"""The PettingZoo form of a scenario, chosen by its env's base."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ray.rllib.env.multi_agent_env import MultiAgentEnv

from edgeplace.envs.multi_rate import MultiRateEnv
from edgeplace.envs.simultaneous import SimultaneousEnv
from edgeplace.envs.turn_based import TurnBasedEnv
from edgeplace.pettingzoo.aec import ScenarioAECEnv
from edgeplace.pettingzoo.parallel import ScenarioParallelEnv
from edgeplace.scenarios import ScenarioSpec, get_scenario


def wrap_env(env: MultiAgentEnv, name: str | None = None) -> ScenarioAECEnv | ScenarioParallelEnv:
    """``env`` as a PettingZoo env: a ``ParallelEnv`` for a simultaneous env, an ``AECEnv`` for a
    turn-based or multi-rate one.

    Raises:
        TypeError: an env built on none of edgeplace's env bases (they give the turn structure).
    """
    if isinstance(env, SimultaneousEnv):
        return ScenarioParallelEnv(env, name)
    if isinstance(env, TurnBasedEnv | MultiRateEnv):
        return ScenarioAECEnv(env, name)
    raise TypeError(
        f"{type(env).__name__} is built on none of edgeplace's env bases (TurnBasedEnv, SimultaneousEnv, "
        "MultiRateEnv), which give a PettingZoo env its turn structure"
    )


def pettingzoo_env(
    scenario: str | ScenarioSpec, env_config: Mapping[str, Any] | None = None
) -> ScenarioAECEnv | ScenarioParallelEnv:
    """The PettingZoo env of a registered scenario (by id or spec), built from ``env_config`` (its
    defaults fill the rest), named after the scenario."""
    spec = get_scenario(scenario) if isinstance(scenario, str) else scenario
    return wrap_env(spec.make_env(env_config), spec.scenario_id)
