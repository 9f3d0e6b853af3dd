"""``HAPPO``: heterogeneous-agent PPO (spec: papers/hisper.md, section g) as an RLlib Algorithm.

On-policy, no replay: each ``training_step`` collects ``steps_per_iteration`` env steps with sampled
actions (dnn-inference: 20 envs x 100 slots), computes GAE on the team reward with the centralised
V(s), runs the agents' sequential PPO epochs with the correction factor M (:class:`HAPPOLearner`),
then the critic's, and evaluates on the fixed seeds when due. Collector, device, results and
checkpoints are those of :class:`~edgeplace.algos.hisper.joint_algorithm.JointAlgorithm`.
"""

from __future__ import annotations

import time

import numpy as np
from ray.rllib.algorithms.algorithm import Algorithm
from ray.rllib.utils.annotations import override

from edgeplace.algos.hisper.happo_config import HAPPOConfig
from edgeplace.algos.hisper.happo_learner import HAPPOLearner, Rollout
from edgeplace.algos.hisper.joint_algorithm import JointAlgorithm, JointMetric


class HAPPO(JointAlgorithm):
    """The HAPPO Algorithm (built from :class:`HAPPOConfig`)."""

    @classmethod
    @override(Algorithm)
    def get_default_config(cls) -> HAPPOConfig:
        return HAPPOConfig()

    @override(JointAlgorithm)
    def build_learner(self, seeds: list[int]) -> None:
        self.settings = settings = self.config.get_happo_settings()
        self.learner = HAPPOLearner(
            self.layout, self.masks, settings, self.config.gamma, seeds[0], self.device
        )

    @override(Algorithm)
    def training_step(self) -> None:
        start = time.perf_counter()
        rollout, finished = self.collect(self.settings.steps_per_iteration // self.collector.num_envs)
        sampled = time.perf_counter()
        stats = [self.learner.update(rollout)]
        learned = time.perf_counter()
        self.env_steps += self.settings.steps_per_iteration
        evaluation = self.evaluate_if_due()
        timers = {
            JointMetric.SAMPLE_S.value: sampled - start,
            JointMetric.LEARN_S.value: learned - sampled,
            JointMetric.EVALUATE_S.value: time.perf_counter() - learned,
        }
        self.log_iteration(self.settings.steps_per_iteration, finished, stats, evaluation, timers)

    def collect(self, rounds: int) -> tuple[Rollout, list]:
        """``rounds`` lockstep rounds of sampled actions. Returns the rollout and finished episodes."""
        e, a, g = self.collector.num_envs, len(self.agents), self.layout.state_dim
        rollout = Rollout(
            state=np.zeros((rounds, e, g), np.float32),
            actions=np.zeros((rounds, e, a, len(self.layout.sizes)), np.int64),
            log_pi=np.zeros((rounds, e, a), np.float32),
            rewards=np.zeros((rounds, e), np.float32),
            next_state=np.zeros((rounds, e, g), np.float32),
            terminated=np.zeros((rounds, e), bool),
            episode_end=np.zeros((rounds, e), bool),
        )
        finished = []
        for t in range(rounds):
            actions, log_pi = self.learner.act_with_log_prob(self.collector.states)
            rows, done = self.collector.step(actions)
            rollout.state[t], rollout.actions[t], rollout.log_pi[t] = rows["state"], actions, log_pi
            rollout.rewards[t] = rows["rewards"].sum(-1)
            rollout.next_state[t], rollout.terminated[t] = rows["next_state"], rows["terminated"]
            rollout.episode_end[t] = self.collector.last_episode_end
            finished += done
        return rollout, finished
