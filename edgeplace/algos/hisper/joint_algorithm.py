"""The RLlib Algorithm scaffolding shared by HISPER/HASAC and HAPPO on any simultaneous-agent env (its
:func:`~edgeplace.algos.hisper.joint_view.joint_view` gives the global state, actor inputs, action
structure, masks and reward parts).

RLlib's default set-up samples per-module data through EnvRunners and updates each module
independently; these algorithms need time-aligned joint transitions and sequential multi-agent
updates, so the Algorithm owns its pieces:

- a :class:`~edgeplace.algos.hisper.collector.JointCollector` (``num_envs_per_env_runner`` envs in
  lockstep, one batched forward for all envs x agents per slot);
- a learner in this process, on the device RLlib's own local learner would use
  (``ray.rllib.utils.framework.get_device`` with ``num_gpus_per_learner``: a GPU when > 0, the CPU
  otherwise); it is saved as the checkpoint component :data:`LEARNER_COMPONENT`;
- the fixed-seed evaluation (one argmax episode on each env seed ``eval_seed_base + i``), after the
  first iteration and then every ``eval_interval_steps``.

Nothing else runs: no EnvRunner, Learner or aggregator actors, so a trial reserves one bundle, the
main process with the learner's GPU share (:meth:`JointAlgorithm.default_resource_request`).

Subclasses set ``self.settings`` (with ``steps_per_iteration``, ``eval_interval_steps``,
``eval_seed_base``, ``eval_episodes``), build ``self.learner`` in :meth:`build_learner` and implement
``training_step``; extra checkpoint state goes through :meth:`extra_state` / :meth:`set_extra_state`.

Results (``algo.train()``): ``env_runners/episode_return_mean`` and ``env_runners/kpi_<name>``
(scenario-level KPIs) over the last ``metrics_num_episodes_for_smoothing`` training episodes (the
return is the team return, the sum of the reward parts over the episode's steps);
``env_runners/num_env_steps_sampled_lifetime`` (joint transitions) and
``num_agent_steps_sampled_lifetime`` (per agent: the same count); the evaluation's means under
``evaluation/env_runners/...``, per-agent KPIs included (present in the iterations that evaluated: the
first one, so every run has an evaluation from its first result on, then every ``eval_interval_steps``);
per-agent actor stats and the critic's under ``learners/<module>/...``; wall times under
``timers/<name>_s``.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import Any

import numpy as np
from ray.rllib.algorithms.algorithm import Algorithm
from ray.rllib.algorithms.algorithm_config import AlgorithmConfig
from ray.rllib.env.env_context import EnvContext
from ray.rllib.utils.annotations import override
from ray.rllib.utils.checkpoints import Checkpointable
from ray.rllib.utils.framework import get_device
from ray.rllib.utils.metrics import (
    ENV_RUNNER_RESULTS,
    EPISODE_RETURN_MEAN,
    EVALUATION_RESULTS,
    LEARNER_RESULTS,
    NUM_AGENT_STEPS_SAMPLED_LIFETIME,
    NUM_ENV_STEPS_SAMPLED_LIFETIME,
    NUM_EPISODES_LIFETIME,
    TIMERS,
)
from ray.tune import PlacementGroupFactory

from edgeplace.algos.hisper.collector import FinishedEpisode, JointCollector, evaluate
from edgeplace.algos.hisper.joint_view import JointStateLayout
from edgeplace.algos.kpi_callback import KPI_METRIC_PREFIX
from edgeplace.envs.simultaneous import SimultaneousEnv

LEARNER_COMPONENT = "joint_learner"
CRITIC_MODULE = "critic"


class JointMetric(StrEnum):
    """Metric names of the joint algorithms (besides RLlib's standard ones)."""

    SAMPLE_S = "sample_s"  # acting + env stepping of the iteration's collection
    LEARN_S = "learn_s"
    EVALUATE_S = "evaluate_s"
    UPDATES_LIFETIME = "num_updates_lifetime"
    EVAL_ENV_STEPS = "env_steps_at_evaluation"


class JointAlgorithm(Algorithm):
    """Base of the joint-transition algorithms (see the module docstring)."""

    settings: Any
    learner: Any

    @override(Algorithm)
    def setup(self, config: Any) -> None:
        # Not RLlib's set-up: no EnvRunnerGroup or LearnerGroup (see the module docstring).
        self.callbacks = []
        self.env_runner_group = self.eval_env_runner_group = None
        self.offline_data = None
        self.spaces = self.env_to_module_connector = self.module_to_env_connector = None
        self._aggregator_actor_manager = None
        self._set_up_metrics()  # RLlib's Prometheus timers of step()
        streams = np.random.SeedSequence(int(self.config.seed or 0)).generate_state(4)
        envs = [self._make_env(i) for i in range(self.config.num_envs_per_env_runner)]
        self.collector = JointCollector(envs, seed=int(streams[0]))
        view = self.collector.view
        self.agents = tuple(view.agents)
        self.layout = JointStateLayout.from_view(view)
        self.masks = view.structural_masks
        self.device = get_device(self.config, self.config.num_gpus_per_learner)
        self.env_steps = 0
        self._eval_envs: list[SimultaneousEnv] | None = None
        self.build_learner([int(seed) for seed in streams[1:]])
        self.next_eval_step = 0  # the first iteration evaluates (then every eval_interval_steps)

    @classmethod
    @override(Algorithm)
    def default_resource_request(cls, config: AlgorithmConfig | dict) -> PlacementGroupFactory:
        """One bundle, the main process, which hosts the collector, the evaluation and the learner: as
        for RLlib's local learner, ``max(num_cpus_per_learner, num_cpus_for_main_process)`` CPUs
        (``num_cpus_per_learner="auto"``: 1 without a GPU, 0 with one) and ``num_gpus_per_learner``."""
        config = cls.get_default_config().update_from_dict(config)
        config.validate()
        learner_cpus = config.num_cpus_per_learner
        if learner_cpus == "auto":
            learner_cpus = 0 if config.num_gpus_per_learner else 1
        cpus = max(learner_cpus, config.num_cpus_for_main_process)
        return PlacementGroupFactory([{"CPU": cpus, "GPU": config.num_gpus_per_learner}])

    def build_learner(self, seeds: list[int]) -> None:
        """Set ``self.settings`` and ``self.learner`` (and any other state), drawing on three seeds."""
        raise NotImplementedError

    def _make_env(self, index: int) -> SimultaneousEnv:
        env = self.env_creator(EnvContext(dict(self.config.env_config), worker_index=0, vector_index=index))
        if not isinstance(env, SimultaneousEnv):
            raise TypeError(
                f"{type(self).__name__} trains simultaneous-agent envs (every agent acts every step), "
                f"got {type(env).__name__}"
            )
        return env

    # --- evaluation ----------------------------------------------------------------------------
    def evaluate_fixed_seeds(self) -> list[FinishedEpisode]:
        """One deterministic (argmax) episode on each env seed ``eval_seed_base + i``, i < eval_episodes."""
        s = self.settings
        if self._eval_envs is None:
            self._eval_envs = [self._make_env(i) for i in range(s.eval_episodes)]
        seeds = [s.eval_seed_base + i for i in range(s.eval_episodes)]
        return evaluate(self._eval_envs, seeds, lambda states: self.learner.act(states, explore=False))

    def evaluate_if_due(self) -> list[FinishedEpisode] | None:
        """Evaluate when ``env_steps`` has reached the next evaluation point."""
        interval = self.settings.eval_interval_steps
        if not interval or self.env_steps < self.next_eval_step:
            return None
        while self.next_eval_step <= self.env_steps:
            self.next_eval_step += interval
        return self.evaluate_fixed_seeds()

    # --- metrics -------------------------------------------------------------------------------
    def log_iteration(
        self,
        steps: int,
        finished: list[FinishedEpisode],
        stats: list[dict[str, float]],
        evaluation: list[FinishedEpisode] | None,
        timers: Mapping[str, float],
    ) -> None:
        """Log one iteration's counters, training episodes, learner stats, evaluation and timers."""
        m = self.metrics
        m.log_value((ENV_RUNNER_RESULTS, NUM_ENV_STEPS_SAMPLED_LIFETIME), steps, reduce="lifetime_sum")
        for agent in self.agents:
            key = (ENV_RUNNER_RESULTS, NUM_AGENT_STEPS_SAMPLED_LIFETIME, agent)
            m.log_value(key, steps, reduce="lifetime_sum")
        m.log_value((ENV_RUNNER_RESULTS, NUM_EPISODES_LIFETIME), len(finished), reduce="lifetime_sum")
        window = self.config.metrics_num_episodes_for_smoothing
        for episode in finished:
            m.log_value((ENV_RUNNER_RESULTS, EPISODE_RETURN_MEAN), episode.episode_return, window=window)
            for name, value in episode.kpis.items():
                if "/" not in name:  # scenario-level KPIs; per-agent ones come with the evaluation
                    m.log_value((ENV_RUNNER_RESULTS, KPI_METRIC_PREFIX + name), float(value), window=window)
        if evaluation:
            key = (EVALUATION_RESULTS, ENV_RUNNER_RESULTS)
            mean_return = float(np.mean([e.episode_return for e in evaluation]))
            m.log_value((*key, EPISODE_RETURN_MEAN), mean_return, reduce="item")
            for name in evaluation[0].kpis:
                mean = float(np.mean([e.kpis[name] for e in evaluation]))
                m.log_value((*key, KPI_METRIC_PREFIX + name), mean, reduce="item")
            m.log_value((*key, JointMetric.EVAL_ENV_STEPS.value), self.env_steps, reduce="item")
        updates_key = (LEARNER_RESULTS, CRITIC_MODULE, JointMetric.UPDATES_LIFETIME.value)
        m.log_value(updates_key, len(stats), reduce="lifetime_sum")
        for name in stats[0] if stats else ():
            module, _, stat = name.rpartition("/")
            mean = float(np.mean([row[name] for row in stats]))
            m.log_value((LEARNER_RESULTS, module or CRITIC_MODULE, stat), mean, reduce="item")
        for name, seconds in timers.items():
            m.log_value((TIMERS, name), seconds, reduce="item")

    # --- RLlib hooks that assume EnvRunners -----------------------------------------------------
    @override(Algorithm)
    def restore_env_runners(self, env_runner_group: Any) -> list[int]:
        return []

    # --- Checkpointable ------------------------------------------------------------------------
    def extra_state(self) -> dict[str, Any]:
        """A subclass's own checkpoint state (besides the learner and the collector)."""
        return {}

    def set_extra_state(self, state: Mapping[str, Any]) -> None:
        """Restore :meth:`extra_state`."""

    @override(Algorithm)
    def get_state(self, components: Any = None, *, not_components: Any = None, **kwargs: Any) -> dict:
        state: dict[str, Any] = {}
        for name, component in self.get_checkpointable_components():
            if self._check_component(name, components, not_components):
                state[name] = component.get_state()
        state.update(
            {
                "collector": self.collector.get_state(),
                "env_steps": self.env_steps,
                "next_eval_step": self.next_eval_step,
                "extra": self.extra_state(),
                "metrics_logger": self.metrics.get_state(),
                "training_iteration": self.training_iteration,
            }
        )
        return state

    @override(Algorithm)
    def set_state(self, state: dict[str, Any]) -> None:
        for name, component in self.get_checkpointable_components():
            if name in state:
                component.set_state(state[name])
        if "collector" in state:
            self.collector.set_state(state["collector"])
            self.env_steps = int(state["env_steps"])
            self.next_eval_step = int(state["next_eval_step"])
            self.set_extra_state(state["extra"])
        if "metrics_logger" in state:
            self.metrics.set_state(state["metrics_logger"])
        if "training_iteration" in state:
            self._iteration = state["training_iteration"]

    @override(Algorithm)
    def get_checkpointable_components(self) -> list[tuple[str, Checkpointable]]:
        return [(LEARNER_COMPONENT, self.learner)]

    @override(Algorithm)
    def restore_from_path(self, path: Any, *args: Any, **kwargs: Any) -> None:
        Checkpointable.restore_from_path(self, path, *args, **kwargs)
