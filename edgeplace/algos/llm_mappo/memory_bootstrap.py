"""``edgeplace planners build-memory metaverse-dag``: the ``memory`` planner's bootstrap (papers/llm-mappo.md,
section d, "Storage"): windows of greedy, random and noisy-greedy rollouts, each planned with w ~ Dir(2 x 1)
and psi, phi ~ U(.2, .8), recorded as traces; then the scorer is fitted on them (80/20), the traces are
re-embedded and the planner is saved for ``planner_options: {memory_dir: OUT}``."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from rich.console import Console

from edgeplace.algos.baselines.metaverse_dag import GreedyPolicy, RandomFromMaskPolicy
from edgeplace.atomic_io import write_text_atomic
from edgeplace.envs.base import ALL_AGENTS
from edgeplace.envs.metaverse_dag import MetaverseDagConfig, MetaverseDagEnv
from edgeplace.planners.soft_plans.memory import MemoryPlanner
from edgeplace.policy import Observation, act
from edgeplace.progress import episode_progress

WINDOWS = {"small": 2_000, "paper": 20_000}
"""Bootstrap windows per preset."""
NOISE = 0.2
"""Share of the noisy-greedy agents' steps taken at random from the mask."""
FIT_REPORT = "fit_report.json"


class NoisyGreedyPolicy:
    """Greedy, except that each agent's action is drawn uniformly from its mask with probability .2."""

    name = "noisy-greedy"

    def __init__(self, env_config: Mapping[str, Any], seed: int) -> None:
        self.greedy = GreedyPolicy(env_config)
        self.random = RandomFromMaskPolicy(seed)
        self.rng = np.random.default_rng(seed)

    def act_batch(self, agent_ids: Sequence[str], observations: Sequence[Observation]) -> np.ndarray:
        """Shapes: B observations -> (B, S + E) int64."""
        greedy = self.greedy.act_batch(agent_ids, observations)
        noisy = self.rng.random(len(agent_ids)) < NOISE
        return np.where(noisy[:, None], self.random.act_batch(agent_ids, observations), greedy)


def build_memory(
    out: Path,
    *,
    windows: int | None = None,
    env_config: Mapping[str, Any] | None = None,
    seed: int = 0,
    epochs: int = 20,
    console: Console | None = None,
) -> Path:
    """Roll out until ``windows`` traces are recorded (default: the preset's 2 k / 20 k), fit the scorer
    ``epochs`` epochs, save the planner to ``out`` (atomically) and its fit report beside it."""
    config = dict(env_config or {})
    stray = sorted({"planner", "planner_options"} & set(config))
    if stray:
        raise ValueError(f"build-memory: env_config sets {stray}; the bootstrap chooses its own planner")
    preset = MetaverseDagConfig.from_env_config(config).preset
    target = WINDOWS[preset] if windows is None else windows
    if target < 2:
        raise ValueError(f"build-memory: --windows must be >= 2, got {target}")
    options = {"bootstrap": True, "capacity": max(target, 2), "refit": False}
    env = MetaverseDagEnv({**config, "planner": "memory", "planner_options": options})
    planner: MemoryPlanner = env.planning.planner
    policies = [GreedyPolicy(config), RandomFromMaskPolicy(seed), NoisyGreedyPolicy(config, seed)]
    per_episode = env.net.num_regions * max(
        1, round(env.cfg.horizon * env.cfg.step_s / env.cfg.plan_period_s)
    )
    episodes = -(-target // per_episode)
    with episode_progress(episodes, "bootstrap rollouts") as advance:
        for episode in range(episodes):
            _play(env, policies[episode % len(policies)], seed * 1_000_003 + episode)
            advance()
    report = planner.refit(epochs)
    planner.save(out)
    summary = {
        "windows": len(planner.memory),
        "episodes": episodes,
        "epochs": epochs,
        "train_loss": report.train_loss,
        "val_loss": report.val_loss,
        "val_mse_by_util": report.val_mse,
    }
    write_text_atomic(out / FIT_REPORT, json.dumps(summary, indent=2))
    if console is not None:
        console.print(f"{summary['windows']} traces from {episodes} episodes; held-out MSE {report.val_mse}")
    return out


def play_rollouts(
    env: MetaverseDagEnv, windows: int, env_config: Mapping[str, Any], seed: int, description: str
) -> int:
    """Play greedy, random and noisy-greedy episodes in turn until ``env``'s planner has closed about
    ``windows`` plan windows; returns the episodes played."""
    policies = [GreedyPolicy(env_config), RandomFromMaskPolicy(seed), NoisyGreedyPolicy(env_config, seed)]
    windows_per_agent = max(1, round(env.cfg.horizon * env.cfg.step_s / env.cfg.plan_period_s))
    episodes = -(-windows // (env.net.num_regions * windows_per_agent))
    with episode_progress(episodes, description) as advance:
        for episode in range(episodes):
            _play(env, policies[episode % len(policies)], seed * 1_000_003 + episode)
            advance()
    return episodes


def _play(env: MetaverseDagEnv, policy: Any, seed: int) -> None:
    observations, _ = env.reset(seed=seed)
    while True:
        observations, _, _, truncated, _ = env.step(act(policy, observations))
        if truncated[ALL_AGENTS]:
            return
