"""Run policies on a scenario over identical episodes and collect per-episode KPIs.

Episode e of seed s is reset with its own seed derived from (s, e) and the option
``episode_index=e``, so it is the same request stream and noise for every policy, whatever order or
batching runs it. Many env copies step in lockstep so a trained module makes one batched forward
pass per agent turn. Turn-based envs (one agent per observation dict) and simultaneous ones (every
agent in every dict, episodes ending in truncation) run alike: each env's agents enter the batch as
one contiguous run in the env's dict order, and action rows ((K,) sub-actions) pass through as they
are.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from ray.rllib.env.multi_agent_env import MultiAgentEnv

from edgeplace.envs.base import ALL_AGENTS, EPISODE_INDEX_OPTION, KPI_INFO_KEY, ScenarioEnv
from edgeplace.evaluation.design import EPISODE, REQUEST_SET, SEED
from edgeplace.evaluation.statistics import POLICY
from edgeplace.policy import Policy, act_in_streams, reset_streams
from edgeplace.scenarios import get_scenario

#: Episodes per seed where the env draws every episode's requests afresh (see `episodes_per_seed`).
DEFAULT_EPISODES = 200


#: Reads per-episode columns beside the KPIs from an episode's final infos (by agent).
InfoColumns = Callable[[Mapping[str, Mapping[str, Any]]], Mapping[str, float]]


def episode_seed(seed: int, episode: int) -> int:
    """The env seed of episode ``episode`` under evaluation seed ``seed`` (stable across runs)."""
    return int(np.random.SeedSequence([seed, episode]).generate_state(1)[0])


@dataclass
class _Slot:
    """One env copy and the episode it is playing."""

    env: MultiAgentEnv
    episode: int = -1
    observations: Mapping[str, Any] | None = None


def run_episodes(
    env_factory: Callable[[], MultiAgentEnv],
    policy: Policy,
    *,
    seed: int,
    episodes: int,
    num_envs: int = 16,
    on_episode: Callable[[], None] | None = None,
    info_columns: InfoColumns | None = None,
) -> list[dict[str, float]]:
    """Play episodes 0..episodes-1 of ``seed`` with ``policy``; return their KPI dicts in episode order
    (with ``info_columns``: and the columns it reads from each episode's final infos)."""
    slots = [_Slot(env_factory()) for _ in range(min(num_envs, episodes))]
    results: dict[int, dict[str, float]] = {}
    next_episode = 0

    def start(slot: _Slot) -> None:
        nonlocal next_episode
        slot.episode, next_episode = next_episode, next_episode + 1
        reset_streams(policy, [id(slot)])  # a recurrent policy forgets the slot's last episode
        slot.observations, _ = slot.env.reset(
            seed=episode_seed(seed, slot.episode), options={EPISODE_INDEX_OPTION: slot.episode}
        )

    for slot in slots:
        start(slot)
    active = list(slots)
    while active:
        keys = [(slot, agent) for slot in active for agent in slot.observations]
        actions = act_in_streams(
            policy,
            [id(slot) for slot, _ in keys],
            [agent for _, agent in keys],
            [slot.observations[agent] for slot, agent in keys],
        )
        per_slot: dict[int, dict[str, Any]] = {}
        for (slot, agent), action in zip(keys, actions, strict=True):  # action: scalar or (K,) sub-actions
            per_slot.setdefault(id(slot), {})[agent] = action
        still_active = []
        for slot in active:
            observations, _, terminated, truncated, infos = slot.env.step(per_slot[id(slot)])
            if not (terminated[ALL_AGENTS] or truncated[ALL_AGENTS]):
                slot.observations = observations
                still_active.append(slot)
                continue
            extra = info_columns(infos) if info_columns else {}
            results[slot.episode] = {**next(iter(infos.values()))[KPI_INFO_KEY], **extra}
            if on_episode:
                on_episode()
            if next_episode < episodes:
                start(slot)
                still_active.append(slot)
        active = still_active
    return [results[e] for e in range(episodes)]


def request_sets(env: MultiAgentEnv) -> int | None:
    """How many distinct request sets ``env``'s episodes replay (None: every episode is new)."""
    return env.request_sets if isinstance(env, ScenarioEnv) else None


def distinct_request_sets(scenario_id: str, env_config: Mapping[str, Any]) -> int | None:
    """How many distinct request sets the scenario's episodes replay under ``env_config``, or None."""
    return request_sets(get_scenario(scenario_id).make_env(env_config))


def episodes_per_seed(scenario_id: str, env_config: Mapping[str, Any]) -> int:
    """One episode per distinct request set where the env replays a finite set (more would replay sets
    under new noise: correlated episodes), else :data:`DEFAULT_EPISODES`."""
    return distinct_request_sets(scenario_id, env_config) or DEFAULT_EPISODES


def evaluate_policies(
    scenario_id: str,
    env_config: Mapping[str, Any],
    policies: Sequence[Policy],
    *,
    seeds: Sequence[int],
    episodes: int,
    num_envs: int = 16,
    on_episode: Callable[[], None] | None = None,
    info_columns: InfoColumns | None = None,
) -> pd.DataFrame:
    """Every policy on the same (seed, episode) streams. Returns one row per (policy, seed, episode)
    with the scenario's KPI columns, the columns ``info_columns`` reads from the episode's final infos,
    and a ``REQUEST_SET`` column where the env replays a finite set of request sets (the cluster of
    each episode; see :mod:`edgeplace.evaluation.design`)."""
    scenario = get_scenario(scenario_id)
    probe = scenario.make_env(env_config)
    sets = (
        {}
        if request_sets(probe) is None
        else {e: {REQUEST_SET: probe.request_set(e)} for e in range(episodes)}
    )
    rows = []
    for policy in policies:
        for seed in seeds:
            kpis = run_episodes(
                lambda: scenario.make_env(env_config),
                policy,
                seed=seed,
                episodes=episodes,
                num_envs=num_envs,
                on_episode=on_episode,
                info_columns=info_columns,
            )
            rows.extend(
                {POLICY: policy.name, SEED: seed, EPISODE: e, **sets.get(e, {}), **record}
                for e, record in enumerate(kpis)
            )
    return pd.DataFrame(rows)
