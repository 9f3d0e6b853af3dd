"""The vectorised action check of a step's agents agrees with the per-agent check, action for action."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest

from edgeplace.envs.base import MaskedActionError, check_action
from edgeplace.envs.dnn_inference import DnnInferenceEnv
from edgeplace.envs.joint_actions import JointActionTable
from edgeplace.obs_keys import ObsKey


def per_agent_allowed(agents, actions, spaces, observations) -> bool:
    try:
        for agent, action, observation in zip(agents, actions, observations, strict=True):
            check_action(agent, action, spaces[agent], observation.get(ObsKey.ACTION_MASK))
    except (MaskedActionError, ValueError):
        return False
    return True


def test_dnn_inference_joint_actions_agree_with_the_per_agent_check():
    env = DnnInferenceEnv({"agents_per_service": 2, "horizon": 3})
    observations, _ = env.reset(seed=0)
    agents = list(observations)
    table = JointActionTable.of([env.action_spaces[a] for a in agents])
    high = table.high
    rng = np.random.default_rng(0)
    outcomes = set()
    for _ in range(300):
        actions = [row for row in rng.integers(-1, high + 2)]  # some rows leave their range
        allowed = table.allowed(actions, [observations[a] for a in agents])
        expected = per_agent_allowed(agents, actions, env.action_spaces, [observations[a] for a in agents])
        assert (allowed is not None) == expected
        outcomes.add(expected)
    assert outcomes == {True, False}


def test_discrete_masks_and_malformed_actions_fall_back():
    spaces = [gym.spaces.Discrete(3), gym.spaces.Discrete(3)]
    table = JointActionTable.of(spaces)
    masks = [{ObsKey.ACTION_MASK: np.array([1, 0, 1], np.float32)}] * 2
    assert table.allowed([0, 2], masks).tolist() == [[0], [2]]
    assert table.allowed([0, 1], masks) is None  # masked
    assert table.allowed([0, 1.5], masks) is None  # not an integer
    assert table.allowed([0, [1, 2]], masks) is None  # ragged
    assert JointActionTable.of([gym.spaces.Discrete(3), gym.spaces.MultiDiscrete([2, 2])]) is None


@pytest.mark.parametrize("bad", [np.array([0, 99, 0]), np.array([0, 0]), np.array([0.5, 0, 0])])
def test_a_refused_joint_action_raises_the_per_agent_error_naming_the_agent(bad):
    env = DnnInferenceEnv({"agents_per_service": 1, "horizon": 3})
    observations, _ = env.reset(seed=0)
    actions = {agent: np.zeros(3, np.int64) for agent in observations}
    agent = list(observations)[-1]
    with pytest.raises(ValueError, match=agent):
        env.step({**actions, agent: bad})
