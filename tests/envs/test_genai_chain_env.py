"""The genai-chain env: turn order, masks, spaces, determinism, the system model and KPIs."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from edgeplace.algos.baselines.genai_chain import RandomPolicy
from edgeplace.envs.base import ALL_AGENTS, EPISODE_INDEX_OPTION, KPI_INFO_KEY, MaskedActionError
from edgeplace.envs.genai_chain import AGENT_IDS, ChainKPI, GenAIChainEnv, GenAIChainParams, ItemFeature
from edgeplace.envs.genai_chain.system_model import sigmoid_utility
from edgeplace.obs_keys import ObsKey
from edgeplace.policy import act
from tests.conftest import genai_edge_dir

SYNTHETIC = {"topology": "synthetic:genai-small"}


def play(env: GenAIChainEnv, policy, seed: int, options=None):
    """One episode; returns the (agent, action, reward) trace and the final infos."""
    obs, _ = env.reset(seed=seed, options=options)
    trace = []
    while True:
        actions = act(policy, obs)
        obs, rewards, terminated, truncated, infos = env.step(actions)
        ((agent, action),) = actions.items()
        trace.append((agent, action, rewards[agent], infos[agent]))
        if terminated[ALL_AGENTS]:
            return trace, infos


def test_agents_take_turns_and_episode_reports_kpis():
    env = GenAIChainEnv(SYNTHETIC)
    obs, _ = env.reset(seed=3)
    assert list(obs) == ["stage_1"]
    assert env.observation_spaces["stage_1"].contains(obs["stage_1"])
    trace, infos = play(env, RandomPolicy(seed=0), seed=3)
    assert [agent for agent, *_ in trace] == list(AGENT_IDS) * 8
    kpis = infos["stage_5"][KPI_INFO_KEY]
    assert set(kpis) == set(ChainKPI)
    assert 0.0 <= kpis[ChainKPI.SLA_SATISFACTION] <= 1.0
    assert kpis[ChainKPI.UTILITY] == pytest.approx(sum(info["utility"] for *_, info in trace))
    assert set(infos) == set(AGENT_IDS)


def test_action_decodes_to_its_instance_node():
    env = GenAIChainEnv(SYNTHETIC)
    obs, _ = env.reset(seed=1)
    allowed = np.flatnonzero(obs["stage_1"][ObsKey.ACTION_MASK])
    action = int(allowed[-1])
    _, _, _, _, infos = env.step({"stage_1": action})
    assert infos["stage_1"]["node"] == obs["stage_1"][ObsKey.ITEM_NODE][action]


def test_masked_action_raises_and_leaves_state_unchanged():
    env = GenAIChainEnv(SYNTHETIC)
    obs, _ = env.reset(seed=0)
    masked = int(np.flatnonzero(obs["stage_1"][ObsKey.ACTION_MASK] == 0)[0])
    load_before = env.load.copy()
    with pytest.raises(MaskedActionError, match="masked out"):
        env.step({"stage_1": masked})
    np.testing.assert_array_equal(env.load, load_before)
    assert env.acting_agent == "stage_1"
    with pytest.raises(ValueError, match="stage_1"):
        env.step({"stage_2": 0})


def test_same_seed_same_episode_and_policies_see_same_stream():
    env = GenAIChainEnv(SYNTHETIC)
    first, _ = play(env, RandomPolicy(seed=5), seed=11)
    again, _ = play(GenAIChainEnv(SYNTHETIC), RandomPolicy(seed=5), seed=11)
    assert first == again
    other, _ = play(env, RandomPolicy(seed=5), seed=12)
    assert first != other


def test_test_split_replays_rows_by_episode_index():
    env = GenAIChainEnv({**SYNTHETIC, "split": "test"})
    env.reset(seed=0, options={EPISODE_INDEX_OPTION: 3})
    np.testing.assert_array_equal(env._rows, (8 * 3 + np.arange(8)) % len(env.requests))


def test_stage_reward_matches_the_system_model_by_hand():
    env = GenAIChainEnv(SYNTHETIC)
    obs, _ = env.reset(seed=2)
    p, request = GenAIChainParams(), env.progress.request
    action = int(np.flatnonzero(obs["stage_1"][ObsKey.ACTION_MASK])[0])
    node = int(env.workload.instance_node[action])
    t = int(request.types[0]) - 1
    quality = env.workload.instance_quality[action]
    capacity = env.workload.substrate.capacity[node, 0]
    hops = env.workload.substrate.paths.hops[request.access_node, node]
    comm = p.input_size_mb * (0.5 + request.size_scale) / p.bandwidth_mb_s + hops * p.hop_delay_s
    profiled = (
        (p.profile_base_s[t] + p.profile_slope_s[t] * request.size_scale)
        * (0.6 + 0.8 * quality)
        * np.sqrt(35.0 / capacity)
    )
    compute = profiled * (1.0 + env.noise.delta[node])  # load is 0 at the first decision
    u_lat = 1.0 / (1.0 + np.exp(p.kappa_per_s * (comm + compute - p.stage_deadline_s[t])))
    expected = request.omega * quality + (1 - request.omega) * u_lat
    _, rewards, _, _, infos = env.step({"stage_1": action})
    assert rewards["stage_1"] == pytest.approx(expected)  # no overload on an empty node
    assert infos["stage_1"]["latency_s"] == pytest.approx(comm + compute)
    assert env.load[node] == p.demand[t]
    # The observation's estimate used telemetry in place of the (unseen) delta.
    est = obs["stage_1"][ObsKey.ITEMS][action]
    assert est[ItemFeature.EST_COMM_S] == pytest.approx(comm, rel=1e-5)


def test_padding_and_size_limits():
    env = GenAIChainEnv({**SYNTHETIC, "max_nodes": 64})
    obs, _ = env.reset(seed=0)
    assert obs["stage_1"][ObsKey.NODES].shape == (64, 13)
    assert obs["stage_1"][ObsKey.NODE_MASK].sum() == env.workload.substrate.num_nodes
    with pytest.raises(ValueError, match="max_nodes"):
        GenAIChainEnv({**SYNTHETIC, "max_nodes": 8})
    with pytest.raises(ValueError, match="unknown keys"):
        GenAIChainEnv({**SYNTHETIC, "nodes": 3})


def test_sigmoid_utility_is_stable_far_from_the_deadline():
    assert sigmoid_utility(0.1, 100.0, 20.0) == pytest.approx(0.0)
    assert sigmoid_utility(0.1, -100.0, 20.0) == pytest.approx(1.0)
    assert sigmoid_utility(0.1, 0.1, 20.0) == pytest.approx(0.5)


def test_terminal_observations_cover_every_agent():
    env = GenAIChainEnv(SYNTHETIC)
    env.reset(seed=0)
    policy = RandomPolicy(seed=0)
    obs = {"stage_1": env._last_obs}
    for _ in range(39):
        obs, *_ = env.step(act(policy, obs))
    final, _, terminated, _, _ = env.step(act(policy, obs))
    assert terminated[ALL_AGENTS] and set(final) == set(AGENT_IDS)


def test_loads_genai_edge_server1_and_runs_zero_shot_padding():
    env = GenAIChainEnv({"topology": f"genai-edge:{genai_edge_dir(1)}", "split": "test"})
    assert env.workload.substrate.num_nodes == 25 and env.workload.num_instances == 227
    assert env.observer.max_nodes == 32
    trace, infos = play(env, RandomPolicy(seed=0), seed=0)
    assert len(trace) == 40 and KPI_INFO_KEY in infos["stage_1"]


def test_params_are_validated():
    with pytest.raises(ValueError, match="load_decay"):
        dataclasses.replace(GenAIChainParams(), load_decay=0.0)


def test_metappo_migration_moves_overloading_stages_to_the_best_nearby_instance():
    env = GenAIChainEnv({"topology": "synthetic:genai-small", "load_aware_migration": True})
    env.reset(seed=0)
    model, request = env.observer.model, env.progress.request
    stage_type = int(request.types[0])
    instance = int(np.flatnonzero(model.instance_type == stage_type)[0])
    node = model.instance_node[instance]
    load = np.zeros(model.capacity.size)
    assert model.migration(request, 0, instance, load) == (instance, 0.0)  # light load: stays
    load[node] = model.capacity[node]  # would exceed 0.6
    expected, best = instance, -1.0
    for m in np.flatnonzero(model.instance_type == stage_type):
        host = model.instance_node[m]
        if host != node and model.hops[node, host] <= 2 and model.instance_quality[m] > best:
            expected, best = int(m), model.instance_quality[m]
    target, extra_s = model.migration(request, 0, instance, load)
    assert target == expected
    if target != instance:
        hops = model.hops[node, model.instance_node[target]]
        assert extra_s == pytest.approx(request.input_mb[0] / 50.0 + hops * 0.005)
    load[:] = model.capacity  # every node busy: nowhere to go
    assert model.migration(request, 0, instance, load) == (instance, 0.0)


def test_env_step_is_the_shared_stage_step():
    """``ChainProgress.place_stage`` (Serve's stage step) on copies of the env's state gives the env's
    own step: its reward, the load it leaves and the progress of the request."""
    env = GenAIChainEnv(SYNTHETIC)
    obs, _ = env.reset(seed=4)
    policy = RandomPolicy(seed=1)
    for agent in AGENT_IDS:
        (action,) = act(policy, obs).values()
        progress, load = dataclasses.replace(env.progress), env.load.copy()
        outcome = progress.place_stage(env.observer.model, int(action), env.noise.delta, load)
        obs, rewards, *_ = env.step({agent: action})
        assert rewards[agent] == outcome.reward
        if agent != AGENT_IDS[-1]:  # the last stage ends the request: the env decays the load
            np.testing.assert_array_equal(env.load, load)
            assert env.progress == progress
    assert progress.stage == len(AGENT_IDS) and progress.elapsed_s > 0.0
