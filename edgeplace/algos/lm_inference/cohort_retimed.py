"""``reward_mode="cohort_retimed"`` (spec d, "Delayed success labels"): the learner moves each cohort's
delayed Eq. 20 label onto the decisions of the slot it arrived in.

The env's default training reward for the scheduler and the deployers is windowed over resolutions
(:class:`~edgeplace.envs.lm_inference.rewards.WindowedReward`). In ``cohort_retimed`` mode the learner
connector :class:`CohortRetimedRewards`, first in the pipeline, overwrites each slot-level agent's
reward of slot t with Eq. 20 of the requests arriving in slot t, which the env reports once the episode
has ended (:attr:`LmInfo.COHORT_REWARDS` in those agents' final infos). The planner's rewards stay.
The mode therefore needs complete episodes (RLlib's ``batch_mode="complete_episodes"``), which
:func:`with_reward_mode` sets and :func:`check_reward_mode` demands.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
from ray.rllib.algorithms.algorithm_config import AlgorithmConfig
from ray.rllib.connectors.connector_v2 import ConnectorV2
from ray.rllib.core.rl_module.multi_rl_module import MultiRLModule
from ray.rllib.env.multi_agent_episode import MultiAgentEpisode
from ray.rllib.utils.annotations import override

from edgeplace.algos.lm_inference.settings import RewardMode
from edgeplace.envs.lm_inference.env import LmInfo

#: The ``learner_config_dict`` key of the reward mode.
REWARD_MODE_KEY = "reward_mode"
COMPLETE_EPISODES = "complete_episodes"


def reward_mode(config: AlgorithmConfig) -> RewardMode:
    """The reward mode ``config`` asks for (``learner_config_dict``; default windowed).

    Raises:
        ValueError: an unknown mode, quoting it.
    """
    value = config.learner_config_dict.get(REWARD_MODE_KEY, RewardMode.WINDOWED)
    try:
        return RewardMode(value)
    except ValueError:
        raise ValueError(
            f"learner_config_dict[{REWARD_MODE_KEY!r}] = {value!r}: expected one of "
            f"{[mode.value for mode in RewardMode]}"
        ) from None


def with_reward_mode(config: AlgorithmConfig, mode: RewardMode | str) -> AlgorithmConfig:
    """``config`` (changed in place) learning in ``mode``; ``cohort_retimed`` also collects complete
    episodes."""
    mode = RewardMode(mode)
    config.learners(learner_config_dict={**config.learner_config_dict, REWARD_MODE_KEY: mode.value})
    if mode is RewardMode.COHORT_RETIMED:
        config.env_runners(batch_mode=COMPLETE_EPISODES)
    return config


def check_reward_mode(config: AlgorithmConfig) -> RewardMode:
    """``config``'s reward mode, checked to be collectable.

    Raises:
        ValueError: an unknown mode, or ``cohort_retimed`` on fragments of episodes (quoting the
            ``batch_mode``).
    """
    mode = reward_mode(config)
    if mode is RewardMode.COHORT_RETIMED and config.batch_mode != COMPLETE_EPISODES:
        raise ValueError(
            f"reward_mode {mode.value!r} needs batch_mode={COMPLETE_EPISODES!r}, got {config.batch_mode!r}"
        )
    return mode


class CohortRetimedRewards(ConnectorV2):
    """Learner connector: in every episode, each agent whose final info carries
    :attr:`LmInfo.COHORT_REWARDS` (the scheduler and the deployers) gets reward ``cohorts[t]`` for its
    decision of slot t (its agent step t: it acts once per slot from slot 0). Changes the episodes in
    place, before the batch is built from them; the batch passes through.

    Raises:
        ValueError: an episode that has not ended (its labels are not known yet).
    """

    @override(ConnectorV2)
    def __call__(
        self,
        *,
        rl_module: MultiRLModule,
        episodes: list[MultiAgentEpisode],
        batch: dict[str, Any],
        **kwargs: Any,
    ) -> dict[str, Any]:
        for episode in episodes:
            if not episode.is_done:
                raise ValueError(
                    f"reward_mode 'cohort_retimed': episode {episode.id_} has not ended, so its cohort "
                    f"labels are unknown (collect with batch_mode={COMPLETE_EPISODES!r})"
                )
            for agent_episode in episode.agent_episodes.values():
                info = agent_episode.get_infos(-1)
                if not isinstance(info, Mapping) or LmInfo.COHORT_REWARDS not in info:
                    continue
                first, steps = agent_episode.t_started, len(agent_episode)
                cohorts = np.asarray(info[LmInfo.COHORT_REWARDS])[first : first + steps]
                retimed = cohorts if agent_episode.is_numpy else cohorts.tolist()
                agent_episode.set_rewards(new_data=retimed, at_indices=slice(0, steps))
        return batch
