"""The two tiers' running RLlib Algorithms, and what passes between them: the greedy policy of a tier's
current modules (the other tier's frozen actor) and the KPIs of the episodes its envs finished."""

from __future__ import annotations

import copy
import pickle
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from ray.rllib.algorithms.algorithm import Algorithm

from edgeplace.algos.lm_inference.drl.build import agent_modules, lower_config, upper_config
from edgeplace.algos.lm_inference.drl.settings import DrlSettings
from edgeplace.algos.lm_inference.policy import LearnedPolicy
from edgeplace.envs.lm_inference.config import LmInferenceConfig
from edgeplace.envs.lm_inference.drl import Tier
from edgeplace.policy import Policy

REPLAY_FILE = "lower_replay_buffer.pkl"
"""The lower tier's replay buffer in a checkpoint (pickled RLlib buffer state; our own files only)."""


def set_frozen(algo: Algorithm, policy: Policy) -> None:
    """Give every tier env of ``algo`` (all its env runners') the frozen tier's ``policy``."""

    def apply(runner) -> None:
        for env in runner.env.envs:
            env.unwrapped.set_frozen(policy)

    algo.env_runner_group.foreach_env_runner(apply, local_env_runner=True)


def pop_finished(algo: Algorithm) -> list[dict[str, float]]:
    """The KPIs of the episodes ``algo``'s tier envs finished since the last call."""

    def collect(runner) -> list[dict[str, float]]:
        return [row for env in runner.env.envs for row in env.unwrapped.pop_finished()]

    per_runner = algo.env_runner_group.foreach_env_runner(collect, local_env_runner=True)
    return [row for rows in per_runner for row in rows]


@dataclass
class TierAlgorithms:
    """The upper tier's PPO and the lower tier's DQN of one run (same env config and seed)."""

    lm: LmInferenceConfig
    upper: Algorithm
    lower: Algorithm

    @classmethod
    def build(cls, lm: LmInferenceConfig, settings: DrlSettings, seed: int) -> TierAlgorithms:
        """Both algorithms, fresh (every env and module seeded by ``seed``)."""
        reporting = {"min_sample_timesteps_per_iteration": 0, "min_time_s_per_iteration": 0}
        upper = upper_config(lm, settings, seed).reporting(**reporting).build_algo()
        lower = lower_config(lm, settings, seed).reporting(**reporting).build_algo()
        return cls(lm, upper, lower)

    def algo(self, tier: Tier) -> Algorithm:
        """The algorithm of ``tier``."""
        return self.upper if tier is Tier.UPPER else self.lower

    def modules(self, tier: Tier) -> Mapping[str, str]:
        """Agent id -> module id of ``tier``."""
        return agent_modules(self.lm, tier)

    def greedy(self, tier: Tier) -> LearnedPolicy:
        """A greedy policy of ``tier``'s current modules (copies: later training does not change it)."""
        mapping = self.modules(tier)
        algo = self.algo(tier)
        modules = {mid: copy.deepcopy(algo.get_module(mid)) for mid in set(mapping.values())}
        return LearnedPolicy(f"drl-{tier}", modules, mapping)

    def save(self, directory: Path) -> None:
        """Both algorithms under ``directory/upper`` and ``directory/lower``, and the DQN replay buffer
        (which RLlib's new-stack checkpoints leave out) as ``directory/REPLAY_FILE``."""
        for tier in Tier:
            self.algo(tier).save_to_path(str(directory / tier.value))
        (directory / REPLAY_FILE).write_bytes(pickle.dumps(self.lower.local_replay_buffer.get_state()))

    def restore(self, directory: Path) -> None:
        """Both algorithms and the replay buffer from a :meth:`save` directory."""
        for tier in Tier:
            self.algo(tier).restore_from_path(str(directory / tier.value))
        self.lower.local_replay_buffer.set_state(pickle.loads((directory / REPLAY_FILE).read_bytes()))

    def stop(self) -> None:
        """Release both algorithms."""
        self.upper.stop()
        self.lower.stop()
