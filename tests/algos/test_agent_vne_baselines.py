"""agent-vne baselines (papers/agentvne.md, section g): their rules on hand-built cases, and valid
episodes on the default substrate."""

from __future__ import annotations

import numpy as np
import pytest

from edgeplace.algos.baselines import baseline_names, make_baseline
from edgeplace.algos.baselines.agent_vne import GAPolicy, GreedyGRCPolicy, GreedyPolicy, NodeRankBFSPolicy
from edgeplace.envs.agent_vne import VNEKPI, AgentVNEEnv, VNEObsKey
from edgeplace.envs.agent_vne.feasibility import check_mapping
from edgeplace.evaluation.runner import run_episodes
from edgeplace.scenarios import get_scenario
from tests.algos.test_agent_vne_decoder import free_state, line_network, make_request

SMALL = {"arrivals_per_episode": 25, "arrival_rate": 0.4}


def ga_observation(static, request):
    """The two observation fields the GA reads besides the residuals: host mask and n_e."""
    return {
        VNEObsKey.HOST_MASK: request.allowed.astype(np.float32),
        VNEObsKey.LINK_WORKFLOWS: np.zeros(static.num_edges, dtype=np.float32),
    }


def test_registered_names():
    assert baseline_names("agent-vne") == [
        "agentvne", "ga", "gal-vne", "greedy", "greedy-grc", "noderank-bfs", "random",
    ]  # fmt: skip
    assert sorted(get_scenario("agent-vne").trained_baselines) == ["agentvne", "gal-vne"]


def test_greedy_takes_the_node_with_most_free_resources_after_tentative_allocations():
    static = line_network(3, capacity=4.0)
    node_free, link_free = free_state(static)
    node_free[:] = [[1.0, 1.0, 1.0], [3.0, 3.0, 3.0], [2.5, 2.5, 2.5]]
    request = make_request(static, [1.0, 2.0], [(0, 1)])
    hosts = GreedyPolicy(static).embed(request, {}, node_free, link_free)
    # a1 (larger demand) first -> node 1 (3 free), leaving 1; then a0 -> node 2 (2.5 free)
    assert hosts.tolist() == [2, 1]


def test_greedy_grc_and_noderank_bfs_prefer_the_well_connected_node():
    # line 0-1-2: the middle node has twice the incident bandwidth
    static = line_network(3, capacity=4.0)
    node_free, link_free = free_state(static)
    request = make_request(static, [1.0, 1.0], [(0, 1)])
    assert GreedyGRCPolicy(static).embed(request, {}, node_free, link_free).tolist() == [1, 1]
    obs = {VNEObsKey.HOST_MASK: np.ones((2, 3), dtype=np.float32)}
    assert NodeRankBFSPolicy(static).embed(request, obs, node_free, link_free).tolist() == [1, 1]


def test_ga_finds_the_co_location_and_is_seeded():
    static = line_network(4, capacity=4.0)
    node_free, link_free = free_state(static)
    node_free[0] = [0.5, 0.5, 0.5]  # nothing fits on node 0
    request = make_request(static, [1.0, 1.0, 1.0], [(0, 1), (1, 2)])
    obs = ga_observation(static, request)
    hosts = GAPolicy(static, seed=0, generations=20).embed(request, obs, node_free, link_free)
    assert len(set(hosts.tolist())) == 1 and hosts[0] != 0  # every link co-located: fitness 0
    assert check_mapping(static, request, hosts, node_free, link_free) is None
    again = GAPolicy(static, seed=0, generations=20).embed(request, obs, node_free, link_free)
    np.testing.assert_array_equal(hosts, again)


def test_ga_rejects_when_no_individual_is_feasible():
    static = line_network(2, capacity=1.0)
    request = make_request(static, [1.0, 1.0, 1.0], [(0, 1), (1, 2)])
    policy = GAPolicy(static, seed=0, generations=5)
    assert policy.embed(request, ga_observation(static, request), *free_state(static)) is None
    with pytest.raises(ValueError, match="elites"):
        GAPolicy(static, elites=0)


@pytest.mark.parametrize("name", ["greedy", "greedy-grc", "noderank-bfs", "random", "ga"])
def test_baselines_play_valid_episodes(name):
    policy = make_baseline("agent-vne", name, seed=0, env_config=SMALL)
    if name == "ga":
        policy.generations = 5
    env = AgentVNEEnv(SMALL)
    obs, _ = env.reset(seed=5)
    for _ in range(25):
        action = policy.act_batch(list(obs), list(obs.values()))
        assert action.shape == (1, 8) and action.dtype == np.int64
        proposed = bool((action[0] < env.unassigned).any())
        obs, _, _, truncated, infos = env.step({"embedder": action[0]})
        assert infos["embedder"]["accepted"] == proposed  # every proposed mapping is feasible
        if truncated["__all__"]:
            break
    kpis = run_episodes(lambda: AgentVNEEnv(SMALL), policy, seed=0, episodes=2, num_envs=2)
    for record in kpis:
        assert 0.0 < record[VNEKPI.ACCEPTANCE_RATIO] <= 1.0
        assert record[VNEKPI.WEIGHTED_HOPS] >= 0.0
