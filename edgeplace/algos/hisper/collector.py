"""Seeded, vectorised collection of joint transitions from simultaneous-agent envs (through their
:func:`~edgeplace.algos.hisper.joint_view.joint_view`), and the fixed-seed evaluation.

The collector keeps E env copies in lockstep; the caller acts for all of them at once from their
global states (one batched forward for E envs x A agents) and gets back E time-aligned joint
transitions. Env i plays episodes 0, 1, ... of its own seed (derived from the collector's seed and i);
episodes end in truncation, after which the env starts its next episode.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from edgeplace.algos.hisper.joint_view import JointView, joint_view
from edgeplace.envs.base import ALL_AGENTS, EPISODE_INDEX_OPTION, KPI_INFO_KEY
from edgeplace.envs.simultaneous import SimultaneousEnv

#: Act on global states (E, G) -> joint actions (E, A, K).
ActFn = Callable[[np.ndarray], np.ndarray]


@dataclass
class FinishedEpisode:
    """Team return (sum of the reward parts over the steps) and the env's KPIs of one finished episode."""

    episode_return: float
    kpis: dict[str, float] = field(default_factory=dict)


def env_seeds(seed: int, num_envs: int) -> list[int]:
    """The env seeds of a collector: stable, distinct per env index."""
    return [int(np.random.SeedSequence([seed, i]).generate_state(1)[0]) for i in range(num_envs)]


def step_joint(
    env: SimultaneousEnv, view: JointView, actions: np.ndarray
) -> tuple[dict, np.ndarray, bool, bool, dict]:
    """Step ``env`` with one row of joint actions (A, K) in agent order; return the observations,
    the reward parts (P,), terminated, truncated and the first agent's infos."""
    observations, rewards, terminated, truncated, infos = env.step(view.env_actions(actions))
    parts = view.reward(rewards, infos)
    info = infos.get(view.agents[0], {})
    return observations, parts, bool(terminated[ALL_AGENTS]), bool(truncated[ALL_AGENTS]), info


class JointCollector:
    """E envs in lockstep yielding joint transitions.

    Args:
        envs: The env copies (same config).
        seed: Collector seed; env i uses ``env_seeds(seed, E)[i]``.

    Shapes:
        ``states`` (E, G); ``step(actions (E, A, K))`` -> rows ``state`` (E, G), ``actions`` (E, A, K)
        int16, ``rewards`` (E, P) (the view's reward parts), ``next_state`` (E, G), ``terminated`` (E,)
    """

    def __init__(self, envs: Sequence[SimultaneousEnv], seed: int) -> None:
        if not envs:
            raise ValueError("a collector needs at least one env")
        self.envs = list(envs)
        self.view = joint_view(self.envs[0])
        self.seeds = env_seeds(seed, len(self.envs))
        self.next_episode = [0] * len(self.envs)
        self.returns = np.zeros(len(self.envs))
        self.last_episode_end = np.zeros(len(self.envs), dtype=bool)
        """Which envs ended an episode (terminated or truncated) in the last ``step``."""
        self.states = np.stack([self._start(i) for i in range(len(self.envs))])

    @property
    def num_envs(self) -> int:
        return len(self.envs)

    def _start(self, i: int) -> np.ndarray:
        env, episode = self.envs[i], self.next_episode[i]
        observations, _ = env.reset(seed=self.seeds[i], options={EPISODE_INDEX_OPTION: episode})
        self.next_episode[i] = episode + 1
        self.returns[i] = 0.0
        return self.view.global_state(observations)

    def random_actions(self, rng: np.random.Generator) -> np.ndarray:
        """Uniform random joint actions among the allowed ones at ``states``. Shapes: -> (E, A, K)."""
        return self.view.random_actions(rng, self.states)

    def step(self, actions: np.ndarray) -> tuple[dict[str, np.ndarray], list[FinishedEpisode]]:
        """Step every env with its joint action; finished episodes restart at their next index."""
        actions = np.asarray(actions)
        expected = (self.num_envs, len(self.view.agents), len(self.view.sizes))
        if actions.shape != expected:
            raise ValueError(f"actions must be (E, A, K) = {expected}, got {actions.shape}")
        rewards = np.zeros((self.num_envs, len(self.view.reward_parts)), dtype=np.float32)
        next_states = np.empty_like(self.states)
        terminated = np.zeros(self.num_envs, dtype=bool)
        self.last_episode_end = np.zeros(self.num_envs, dtype=bool)
        finished: list[FinishedEpisode] = []
        following = np.empty_like(self.states)
        for i, env in enumerate(self.envs):
            observations, rewards[i], terminated[i], truncated, info = step_joint(env, self.view, actions[i])
            next_states[i] = following[i] = self.view.global_state(observations)
            self.returns[i] += float(rewards[i].sum())
            if terminated[i] or truncated:
                self.last_episode_end[i] = True
                finished.append(FinishedEpisode(float(self.returns[i]), dict(info[KPI_INFO_KEY])))
                following[i] = self._start(i)
        rows = {
            "state": self.states,
            "actions": actions.astype(np.int16),
            "rewards": rewards,
            "next_state": next_states,
            "terminated": terminated,
        }
        self.states = following
        return rows, finished

    def get_state(self) -> dict[str, Any]:
        """The episode each env resumes with: the current one if it has not stepped yet (iterations
        that end on episode boundaries resume exactly), else the next one."""
        resume = [
            env.episode_index if env.t == 0 else e
            for env, e in zip(self.envs, self.next_episode, strict=True)
        ]
        return {"seeds": list(self.seeds), "next_episode": resume}

    def set_state(self, state: dict[str, Any]) -> None:
        """Restart every env at the saved episode index (episodes cut mid-way are not replayed)."""
        if list(state["seeds"]) != self.seeds:
            raise ValueError("collector state was saved with other env seeds (another seed or env count)")
        self.next_episode = [int(e) for e in state["next_episode"]]
        self.states = np.stack([self._start(i) for i in range(self.num_envs)])


def uniform_actions(env: SimultaneousEnv, rng: np.random.Generator, num_envs: int) -> np.ndarray:
    """Uniform random joint actions over each agent's native MultiDiscrete sub-action ranges, masks
    ignored (for envs whose masks are only those ranges, as dnn-inference's). Shapes: -> (E, A, K) int64."""
    high = np.stack([env.action_spaces[agent].nvec for agent in env.possible_agents])  # (A, K)
    return rng.integers(0, high, size=(num_envs, *high.shape))


def evaluate(envs: Sequence[SimultaneousEnv], seeds: Sequence[int], act: ActFn) -> list[FinishedEpisode]:
    """Play one episode on each env seed (``reset(seed=s)``) in lockstep with ``act``; one batched
    call per slot for all envs. ``len(envs)`` must be ``len(seeds)``."""
    if len(envs) != len(seeds):
        raise ValueError(f"evaluate needs one env per seed, got {len(envs)} envs for {len(seeds)} seeds")
    view = joint_view(envs[0])
    states = np.stack(
        [view.global_state(env.reset(seed=int(s))[0]) for env, s in zip(envs, seeds, strict=True)]
    )
    returns = np.zeros(len(envs))
    results: list[FinishedEpisode | None] = [None] * len(envs)
    while any(r is None for r in results):
        actions = act(states)
        for i, env in enumerate(envs):
            if results[i] is not None:
                continue
            observations, parts, terminated, truncated, info = step_joint(env, view, actions[i])
            returns[i] += float(parts.sum())
            states[i] = view.global_state(observations)
            if terminated or truncated:
                results[i] = FinishedEpisode(float(returns[i]), dict(info[KPI_INFO_KEY]))
    return [r for r in results if r is not None]
