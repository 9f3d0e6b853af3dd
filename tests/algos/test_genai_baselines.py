"""The genai-chain heuristics: their definitions on hand-built observations, and the spec's sanity
values on the dataset (spec d, "Env sanity values")."""

from __future__ import annotations

import numpy as np
import pytest

from edgeplace.algos.baselines import baseline_names, make_baseline
from edgeplace.algos.baselines.genai_chain import GreedyPolicy, RandomPolicy, UtilityGreedyPolicy
from edgeplace.envs.action_masks import discrete_mask
from edgeplace.envs.genai_chain import GenAIChainEnv, ItemFeature, NodeFeature, RequestFeature
from edgeplace.envs.genai_chain.observation import CAPACITY_SCALE
from edgeplace.evaluation.runner import run_episodes
from edgeplace.obs_keys import ObsKey
from tests.conftest import genai_edge_dir


def observation(capacity, load_ratio, item_node, quality, mask, est_utility=None, omega=0.5):
    """A minimal observation with the fields the heuristics read."""
    n, m = len(capacity), len(item_node)
    nodes = np.zeros((n, 13), np.float32)
    nodes[:, NodeFeature.CAPACITY] = np.asarray(capacity) / CAPACITY_SCALE
    nodes[:, NodeFeature.LOAD_RATIO] = load_ratio
    items = np.zeros((m, 6), np.float32)
    items[:, ItemFeature.QUALITY] = quality
    items[:, ItemFeature.EST_LATENCY_UTILITY] = est_utility if est_utility is not None else 0.0
    request = np.zeros(34, np.float32)
    request[20] = 1.0  # required type 1
    request[RequestFeature.OMEGA] = omega
    return {
        ObsKey.REQUEST: request,
        ObsKey.NODES: nodes,
        ObsKey.NODE_MASK: np.ones(n, np.float32),
        ObsKey.ITEMS: items,
        ObsKey.ITEM_NODE: np.asarray(item_node, np.int64),
        ObsKey.ACTION_MASK: discrete_mask(mask),
    }


def test_greedy_takes_most_free_node_then_its_best_instance():
    # free capacity: node0 40*(1-0.5)=20, node1 30, node2 50 (but its only instance is masked)
    obs = observation(
        capacity=[40, 30, 50],
        load_ratio=[0.5, 0.0, 0.0],
        item_node=[0, 1, 1, 2],
        quality=[0.9, 0.2, 0.6, 1.0],
        mask=[1, 1, 1, 0],
    )
    assert GreedyPolicy().act_batch(["stage_1"], [obs]).tolist() == [2]


def test_greedy_breaks_ties_by_lowest_node_index():
    obs = observation(capacity=[30, 30], load_ratio=[0, 0], item_node=[1, 0], quality=[0.9, 0.1], mask=[1, 1])
    assert GreedyPolicy().act_batch(["stage_1"], [obs]).tolist() == [1]


def test_random_is_uniform_over_host_nodes_then_instances():
    # node 0 hosts one allowed instance, node 1 hosts three: each node should get half of the picks
    obs = observation(capacity=[30, 30], load_ratio=[0, 0], item_node=[0, 1, 1, 1, 0], quality=[0.5] * 5,
                      mask=[1, 1, 1, 1, 0])  # fmt: skip
    picks = RandomPolicy(seed=0).act_batch(["stage_1"] * 4000, [obs] * 4000)
    assert set(picks.tolist()) == {0, 1, 2, 3}
    assert np.mean(picks == 0) == pytest.approx(0.5, abs=0.03)
    assert np.mean(picks == 1) == pytest.approx(1 / 6, abs=0.03)


def test_utility_greedy_weighs_quality_latency_and_overload():
    obs = observation(capacity=[10, 40], load_ratio=[0.9, 0.0], item_node=[0, 1], quality=[0.9, 0.8],
                      mask=[1, 1], est_utility=[1.0, 1.0])  # fmt: skip
    # node 0 would be overloaded by the type-1 demand (4 units on 10 capacity at 90% load)
    assert UtilityGreedyPolicy().act_batch(["stage_1"], [obs]).tolist() == [1]


def test_baseline_registry_names_and_errors():
    assert baseline_names("genai-chain") == ["greedy", "random", "utility-greedy"]
    with pytest.raises(KeyError, match="known"):
        make_baseline("genai-chain", "oracle")


# Spec d sanity values (utility, SLA) on the test split; the spec allows +-3% for RNG differences.
SANITY = {
    1: {"random": (26.5, 0.94), "greedy": (29.4, 0.92), "utility-greedy": (34.7, 0.97)},
    4: {"random": (26.2, 0.93), "greedy": (29.9, 0.90), "utility-greedy": (34.4, 0.97)},
}


@pytest.mark.parametrize("server", [1, 4])
def test_heuristics_reproduce_the_spec_sanity_values(server):
    config = {"topology": f"genai-edge:{genai_edge_dir(server)}", "split": "test"}
    for name, (utility, sla) in SANITY[server].items():
        rows = []
        for seed in (0, 1):
            policy = make_baseline("genai-chain", name, seed=seed)
            rows += run_episodes(lambda: GenAIChainEnv(config), policy, seed=seed, episodes=200, num_envs=32)
        assert np.mean([r["utility"] for r in rows]) == pytest.approx(utility, rel=0.03), name
        assert np.mean([r["sla_satisfaction"] for r in rows]) == pytest.approx(sla, abs=0.03), name
