"""The agent-vne embedding step that the env and Serve share: a state that holds another state's load
as background is that state to the embedder (free resources bit for bit, Eq.26 hops), and
:meth:`NetworkState.embed` on it does what the env's step does."""

from __future__ import annotations

import numpy as np
import pytest

from edgeplace.algos.baselines import make_baseline
from edgeplace.envs.agent_vne import AGENT_ID, AgentVNEEnv, StepInfo
from edgeplace.envs.agent_vne.network_state import NetworkState
from edgeplace.envs.base import ALL_AGENTS
from edgeplace.policy import act

SMALL = {"arrivals_per_episode": 30}


def held_copy(state: NetworkState) -> NetworkState:
    """A fresh state holding ``state``'s live workflows as background load."""
    return NetworkState.holding(
        state.static,
        state.node_free,
        state.link_free_mbps,
        state.flow_count,
        state.workflow_count,
        len(state.live),
    )


def test_embedding_on_a_held_state_is_the_envs_step():
    env = AgentVNEEnv(SMALL)
    policy = make_baseline("agent-vne", "random", seed=2, env_config=SMALL)
    obs, _ = env.reset(seed=9)  # a seed whose episode holds both outcomes
    outcomes = set()
    for _ in range(SMALL["arrivals_per_episode"] - 1):
        held = held_copy(env.state)
        np.testing.assert_array_equal(held.node_free, env.state.node_free)
        np.testing.assert_array_equal(held.link_free_mbps, env.state.link_free_mbps)
        assert held.weighted_hops() == env.state.weighted_hops()
        for key, value in env.observer.observe(held, env.current[1]).items():
            np.testing.assert_array_equal(value, obs[AGENT_ID][key], err_msg=key)
        request = env.current[1].request
        action = act(policy, obs)[AGENT_ID]
        workflow, reason = held.embed(0, request, action[: request.num_agents], departure=0)
        obs, rewards, _, truncated, infos = env.step({AGENT_ID: action})
        info = infos[AGENT_ID]
        assert (workflow is not None, reason) == (info[StepInfo.ACCEPTED], info[StepInfo.REASON])
        if workflow is not None:
            assert rewards[AGENT_ID] == pytest.approx(-held.weighted_hops(), rel=1e-12)
            assert held.workflow_weighted_hops(workflow) > 0.0
        outcomes.add(workflow is not None)
        if truncated[ALL_AGENTS]:
            break
    assert outcomes == {True, False}, "the episode must hold accepted and rejected workflows"


def test_rejected_embedding_names_the_reason_and_changes_nothing():
    env = AgentVNEEnv(SMALL)
    env.reset(seed=0)
    request = env.current[1].request
    tiny = int(np.argmin(env.static.capacity[:, 0]))
    crowded = np.where(request.is_anchor, request.anchor_target, tiny)  # everything on the smallest node
    state = env.state
    before = state.node_free.copy()
    workflow, reason = state.embed(0, request, crowded, departure=1)
    assert workflow is None and "node" in reason
    assert not state.live and state.weighted_hops() == 0.0
    np.testing.assert_array_equal(state.node_free, before)
