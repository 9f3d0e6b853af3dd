"""ModulePolicy with the stateful LLM-MAPPO module on real metaverse-dag observations: masks whose parts
differ in width (place O, route 7) stack, greedy actions are allowed, and the GRU state is carried per
(stream, agent) and dropped by reset_streams."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from edgeplace.algos.module_policy import ModulePolicy
from edgeplace.envs.metaverse_dag import MetaverseDagEnv
from edgeplace.envs.metaverse_dag.observation import MvObsKey
from edgeplace.models.llm_mappo_module import llm_mappo_module_spec
from edgeplace.policy import RecurrentPolicy, act
from tests.algos.test_llm_mappo_training import TINY_MODEL


@pytest.fixture(scope="module")
def env_and_policy():
    env = MetaverseDagEnv({"horizon": 5})
    torch.manual_seed(0)
    spec = llm_mappo_module_spec({**TINY_MODEL, "prior_logits": False, "plan_input": False})
    spec.observation_space, spec.action_space = env.observation_spaces["ec_0"], env.action_spaces["ec_0"]
    policy = ModulePolicy("gru", {"shared": spec.build()}, dict.fromkeys(env.possible_agents, "shared"))
    return env, policy


def test_logits_stack_masks_of_parts_of_different_widths(env_and_policy):
    env, policy = env_and_policy
    observations, _ = env.reset(seed=0)
    agents = list(observations)
    space = env.action_spaces[agents[0]]
    logits = policy.logits(agents, [observations[a] for a in agents], streams=["probe"] * len(agents))
    assert logits.shape == (len(agents), int(space.nvec.sum()))
    actions = policy.act_batch_in_streams(["probe"] * len(agents), agents, [observations[a] for a in agents])
    assert actions.shape == (len(agents), len(space.nvec))
    for agent, action in zip(agents, actions, strict=True):
        mask = observations[agent][MvObsKey.ACTION_MASK]
        assert all(part[value] > 0 for part, value in zip(mask, action, strict=True)), agent


def test_the_state_is_carried_per_stream_and_reset(env_and_policy):
    env, policy = env_and_policy
    assert isinstance(policy, RecurrentPolicy)
    observations, _ = env.reset(seed=1)
    agents = list(observations)
    rows = [observations[a] for a in agents]
    first = policy.logits(agents, rows, streams=["a"] * len(agents))
    second = policy.logits(agents, rows, streams=["a"] * len(agents))  # same observation, carried state
    fresh = policy.logits(agents, rows, streams=["b"] * len(agents))
    assert not np.allclose(first, second) and np.array_equal(first, fresh)
    policy.reset_streams(["a"])
    assert np.array_equal(policy.logits(agents, rows, streams=["a"] * len(agents)), first)
    assert {"a", "b"} <= {stream for stream, _ in policy.states}
    assert set(act(policy, observations)) == set(agents)  # the dict form plays stream None
