"""The vectorised action check of a step's agents agrees with the per-agent check, action for action."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest

from edgeplace.envs.action_masks import discrete_mask, multi_discrete_mask
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
    masks = [{ObsKey.ACTION_MASK: discrete_mask([1, 0, 1])}] * 2
    assert table.allowed([0, 2], masks).tolist() == [[0], [2]]
    assert table.allowed([0, 1], masks) is None  # masked
    assert table.allowed([0, 1.5], masks) is None  # not an integer
    assert table.allowed([0, [1, 2]], masks) is None  # ragged
    assert JointActionTable.of([gym.spaces.Discrete(3), gym.spaces.MultiDiscrete([2, 2])]) is None


def test_multi_discrete_masks_of_other_sizes_agree_with_the_per_agent_check():
    spaces = {"a": gym.spaces.MultiDiscrete([3, 4]), "b": gym.spaces.MultiDiscrete([3, 2])}
    table = JointActionTable.of(list(spaces.values()))
    rng = np.random.default_rng(1)
    outcomes = set()
    for _ in range(300):
        observations = [
            {ObsKey.ACTION_MASK: multi_discrete_mask([rng.random(n) < 0.7 for n in space.nvec])}
            for space in spaces.values()
        ]
        actions = [rng.integers(0, space.nvec) for space in spaces.values()]
        allowed = table.allowed(actions, observations)
        assert (allowed is not None) == per_agent_allowed(list(spaces), actions, spaces, observations)
        outcomes.add(allowed is not None)
    assert outcomes == {True, False}


def test_a_mask_of_another_layout_is_refused_naming_the_field():
    space = gym.spaces.MultiDiscrete([3, 2])
    flat = discrete_mask(np.ones(5))  # the concatenated layout of old: not Gymnasium's
    with pytest.raises(ValueError, match="a: action_mask must be a tuple of 2 arrays of lengths \\[3, 2\\]"):
        check_action("a", [0, 0], space, flat)
    assert (
        JointActionTable.of([space, space]).allowed([[0, 0], [0, 0]], [{ObsKey.ACTION_MASK: flat}] * 2)
        is None
    )
    with pytest.raises(ValueError, match="b: action_mask must be an int8 array of lengths \\[3\\]"):
        check_action("b", 0, gym.spaces.Discrete(3), (discrete_mask(np.ones(3)),))
    with pytest.raises(ValueError, match="of shapes \\[\\(3,\\), \\(3,\\)\\]"):
        check_action("a", [0, 0], space, multi_discrete_mask([np.ones(3), np.ones(3)]))


@pytest.mark.parametrize("bad", [np.array([0, 99, 0]), np.array([0, 0]), np.array([0.5, 0, 0])])
def test_a_refused_joint_action_raises_the_per_agent_error_naming_the_agent(bad):
    env = DnnInferenceEnv({"agents_per_service": 1, "horizon": 3})
    observations, _ = env.reset(seed=0)
    actions = {agent: np.zeros(3, np.int64) for agent in observations}
    agent = list(observations)[-1]
    with pytest.raises(ValueError, match=agent):
        env.step({**actions, agent: bad})
