"""The toy env: two agents place one job each on one of four nodes, every step, for ``horizon`` steps.

A node's load decays by half each step and grows by the demands placed on it; a node already at its
capacity is masked out (the decay keeps the total load below the total capacity, so some node is
always open). A job may still overload its node, alone or with the other agent's job: that costs the
overload in reward and counts in the KPIs.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from enum import StrEnum
from typing import Any

import gymnasium as gym
import numpy as np

from edgeplace.envs.action_masks import discrete_mask, mask_space
from edgeplace.envs.simultaneous import SimultaneousEnv
from edgeplace.obs_keys import ObsKey

AGENTS = ("agent_0", "agent_1")
#: Capacity of each node, job units.
CAPACITY = np.array([2.0, 2.0, 3.0, 3.0])
LOAD_DECAY = 0.5
DEMANDS = np.array([1.0, 2.0])  # a job's demand is drawn from these
FEATURES = "features"  # (2 + 2N,) float32: own demand, other's demand, load / capacity, capacity


class ToyKPI(StrEnum):
    OVERLOAD_RATE = "overload_rate"  # share of placements that left their node over capacity
    UTILISATION = "utilisation"  # mean load / capacity after each step


#: The toy's one topology (it takes no other).
TOPOLOGY = "toy:4-nodes"


@dataclass(frozen=True)
class ToyConfig:
    """The env config: ``horizon`` steps per episode, on the one toy topology."""

    horizon: int = 6
    topology: str = TOPOLOGY

    def __post_init__(self) -> None:
        if self.topology != TOPOLOGY:
            raise ValueError(f"toy env_config: topology must be {TOPOLOGY!r}, got {self.topology!r}")
        if self.horizon < 1:
            raise ValueError(f"toy env_config: horizon must be >= 1, got {self.horizon}")

    @classmethod
    def from_env_config(cls, env_config: Mapping[str, Any] | None) -> ToyConfig:
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(env_config or {}) - known)
        if unknown:
            raise ValueError(f"toy env_config: unknown keys {unknown}; known: {sorted(known)}")
        return cls(**dict(env_config or {}))


def observe(loads: np.ndarray, demands: np.ndarray) -> dict[str, dict[str, np.ndarray]]:
    """Every agent's observation of node ``loads`` (N,) and this step's ``demands`` (2,)."""
    out = {}
    for i, agent in enumerate(AGENTS):
        features = np.concatenate([[demands[i], demands[1 - i]], loads / CAPACITY, CAPACITY])
        mask = discrete_mask(loads < CAPACITY)
        out[agent] = {FEATURES: features.astype(np.float32), ObsKey.ACTION_MASK: mask}
    return out


def place(loads: np.ndarray, demands: np.ndarray, nodes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The loads after placing job i on ``nodes[i]``, and each job's overload (its node's excess).

    Shapes: loads (N,), demands (2,), nodes (2,) -> loads (N,), overload (2,).
    """
    after = loads + np.bincount(nodes, weights=demands, minlength=loads.size)
    return after, np.maximum(after - CAPACITY, 0.0)[nodes]


class ToyEnv(SimultaneousEnv):
    """Two agents, four nodes, Discrete(4) actions with an action mask."""

    def __init__(self, config: Mapping[str, Any] | None = None) -> None:
        self.config = ToyConfig.from_env_config(config)
        self.possible_agents = list(AGENTS)
        n = CAPACITY.size
        space = gym.spaces.Dict(
            {
                FEATURES: gym.spaces.Box(0.0, np.inf, (2 + 2 * n,), np.float32),
                ObsKey.ACTION_MASK: mask_space(gym.spaces.Discrete(n)),
            }
        )
        self.observation_spaces = dict.fromkeys(AGENTS, space)
        self.action_spaces = {agent: gym.spaces.Discrete(n) for agent in AGENTS}
        super().__init__(self.config.horizon)
        self.loads = np.zeros(n)
        self.demands = np.zeros(len(AGENTS))
        self._overloads: list[float] = []
        self._utilisation: list[float] = []

    def _begin_episode(self) -> None:
        self.loads = np.zeros(CAPACITY.size)
        self.demands = self.rng.choice(DEMANDS, size=len(AGENTS))
        self._overloads, self._utilisation = [], []

    def _observe(self) -> dict[str, dict[str, np.ndarray]]:
        return observe(self.loads, self.demands)

    def _apply(self, actions: Sequence[Any]) -> tuple[dict[str, float], dict[str, dict]]:
        nodes = np.asarray(actions, dtype=np.int64)
        after, overload = place(self.loads, self.demands, nodes)
        self._overloads.extend((overload > 0).tolist())
        self._utilisation.append(float((after / CAPACITY).mean()))
        self.loads = LOAD_DECAY * after
        self.demands = self.rng.choice(DEMANDS, size=len(AGENTS))
        rewards = {
            agent: -float(overload[i]) - 0.1 * float(after[nodes[i]]) for i, agent in enumerate(AGENTS)
        }
        return rewards, {agent: {} for agent in AGENTS}

    def _episode_kpis(self) -> dict[str, float]:
        return {
            ToyKPI.OVERLOAD_RATE: float(np.mean(self._overloads)),
            ToyKPI.UTILISATION: float(np.mean(self._utilisation)),
        }
