"""``HISPER``: HASAC with autoregressive heads and hybrid-reward twin critics as an RLlib Algorithm
(spec: papers/hisper.md, section f; HASAC and the ablations are presets, see ``settings.py``).

Built on :class:`~edgeplace.algos.hisper.joint_algorithm.JointAlgorithm` (collector, device, evaluation,
results, checkpoint plumbing) with a :class:`~edgeplace.algos.hisper.replay.JointReplayBuffer` of joint
transitions and the :class:`~edgeplace.algos.hisper.learner.HISPERLearner`.

One ``training_step`` (= one ``train()`` iteration): on the first call, ``prefill_steps`` uniform-random
transitions (not counted in ``num_env_steps_sampled_lifetime``; reported as ``env_runners/prefill_steps``)
and ``critic_warmup_updates`` critic-only updates on them (counted in the learner's updates); then
``steps_per_iteration`` env steps with sampled actions, ``updates_per_iteration`` updates on batches of
``train_batch_size_per_learner``, and, when due, the fixed-seed evaluation.

Checkpoints (``save_to_path`` / ``restore_from_path``) hold the learner (networks, optimisers,
generators), the replay buffer (unless ``checkpoint_replay`` is off: then a resume prefills again),
the collector's episode positions, counters and the metrics. A resume restarts each collector env at
its current episode if it has not stepped yet, else at its next one; with ``steps_per_iteration`` a
multiple of ``envs x horizon`` (the spec's 2,000 = 20 x 100) iterations end on episode boundaries and
a resumed run continues exactly as an uninterrupted one.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

import numpy as np
from ray.rllib.algorithms.algorithm import Algorithm
from ray.rllib.utils.annotations import override
from ray.rllib.utils.checkpoints import Checkpointable
from ray.rllib.utils.metrics import ENV_RUNNER_RESULTS

from edgeplace.algos.hisper.collector import FinishedEpisode
from edgeplace.algos.hisper.config import HISPERConfig
from edgeplace.algos.hisper.joint_algorithm import JointAlgorithm, JointMetric
from edgeplace.algos.hisper.learner import HISPERLearner
from edgeplace.algos.hisper.replay import Column, JointReplayBuffer

REPLAY_COMPONENT = "replay_buffer"
PREFILL_STEPS = "prefill_steps"
REPLAY_SIZE = "replay_size"
PREFILL_S = "prefill_s"


class HISPER(JointAlgorithm):
    """The HISPER/HASAC Algorithm (built from :class:`HISPERConfig`)."""

    @classmethod
    @override(Algorithm)
    def get_default_config(cls) -> HISPERConfig:
        return HISPERConfig()

    @override(JointAlgorithm)
    def build_learner(self, seeds: list[int]) -> None:
        self.settings = settings = self.config.get_hisper_settings()
        self.learner = HISPERLearner(
            self.layout, self.masks, settings, self.config.gamma, seeds[0], self.device
        )
        g, a, k = self.layout.state_dim, len(self.agents), len(self.layout.sizes)
        columns = {
            "state": Column((g,), "float32"),
            "actions": Column((a, k), "int16"),
            "rewards": Column((self.layout.reward_parts,), "float32"),
            "next_state": Column((g,), "float32"),
            "terminated": Column((), "bool"),
        }
        self.replay = JointReplayBuffer(settings.buffer_size, columns, seed=seeds[1])
        self.prefill_rng = np.random.default_rng(seeds[2])
        self.prefilled = False

    @override(Algorithm)
    def training_step(self) -> None:
        s = self.settings
        timers: dict[str, float] = {}
        if not self.prefilled:
            start = time.perf_counter()
            self.prefill()
            timers[PREFILL_S] = time.perf_counter() - start
        start = time.perf_counter()
        finished: list[FinishedEpisode] = []
        for _ in range(s.steps_per_iteration // self.collector.num_envs):
            rows, done = self.collector.step(self.learner.act(self.collector.states))
            self.replay.add(rows)
            finished += done
        sampled = time.perf_counter()
        stats = [
            self.learner.update(self.replay.sample(self.config.train_batch_size_per_learner))
            for _ in range(s.updates_per_iteration)
        ]
        learned = time.perf_counter()
        self.env_steps += s.steps_per_iteration
        evaluation = self.evaluate_if_due()
        timers[JointMetric.SAMPLE_S.value] = sampled - start
        timers[JointMetric.LEARN_S.value] = learned - sampled
        timers[JointMetric.EVALUATE_S.value] = time.perf_counter() - learned
        self.metrics.log_value((ENV_RUNNER_RESULTS, REPLAY_SIZE), len(self.replay), reduce="item")
        self.log_iteration(s.steps_per_iteration, finished, stats, evaluation, timers)

    def prefill(self) -> None:
        """Fill the buffer with ``prefill_steps`` transitions of uniform-random allowed joint actions
        (rounded up to whole rounds of the collector's envs), then warm the critic up on them."""
        envs = self.collector.num_envs
        rounds = -(-self.settings.prefill_steps // envs)
        for _ in range(rounds):
            rows, _ = self.collector.step(self.collector.random_actions(self.prefill_rng))
            self.replay.add(rows)
        batch_size = self.config.train_batch_size_per_learner
        for _ in range(self.settings.critic_warmup_updates):
            self.learner.update(self.replay.sample(batch_size), actors=False)
        self.prefilled = True
        self.metrics.log_value((ENV_RUNNER_RESULTS, PREFILL_STEPS), rounds * envs, reduce="lifetime_sum")

    # --- Checkpointable ------------------------------------------------------------------------
    @override(JointAlgorithm)
    def extra_state(self) -> dict[str, Any]:
        return {
            "prefill_rng": self.prefill_rng.bit_generator.state,
            "prefilled": self.prefilled and self.settings.checkpoint_replay,
        }

    @override(JointAlgorithm)
    def set_extra_state(self, state: Mapping[str, Any]) -> None:
        self.prefill_rng.bit_generator.state = state["prefill_rng"]
        self.prefilled = bool(state["prefilled"])

    @override(JointAlgorithm)
    def get_checkpointable_components(self) -> list[tuple[str, Checkpointable]]:
        components = super().get_checkpointable_components()
        if self.settings.checkpoint_replay:
            components.append((REPLAY_COMPONENT, self.replay))
        return components
