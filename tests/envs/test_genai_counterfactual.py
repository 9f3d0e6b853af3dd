"""The counterfactual successor observation of VAMAPPO's CAF (spec e4)."""

import numpy as np
import pytest

from edgeplace.envs.genai_chain import AGENT_IDS, GenAIChainEnv, NodeFeature, RequestFeature
from edgeplace.envs.genai_chain.counterfactual import CounterfactualSuccessor
from edgeplace.obs_keys import ObsKey

#: No compute noise: the telemetry an agent sees is the slowdown it gets, so estimates are exact.
NOISELESS = {"normal_noise_mean": 0.0, "p_normal_to_spike": 0.0}


def _batch(obs):
    return {key: value[None] for key, value in obs.items()}


def _play_pairs(seed: int, decisions: int):
    """(a's obs, a's action, b's obs) for consecutive stages of one request."""
    env = GenAIChainEnv({"topology": "synthetic:genai-small", "params": NOISELESS})
    observations, _ = env.reset(seed=seed)
    rng = np.random.default_rng(seed)
    pairs = []
    for _ in range(decisions):
        ((agent, obs),) = observations.items()
        action = int(rng.choice(np.flatnonzero(obs[ObsKey.ACTION_MASK])))
        observations, *_ = env.step({agent: action})
        successor = AGENT_IDS.index(agent) + 1
        if successor < len(AGENT_IDS) and AGENT_IDS[successor] in observations:
            pairs.append((obs, action, observations[AGENT_IDS[successor]]))
    return env, pairs


def test_one_hot_mean_action_rebuilds_the_actual_successor_observation():
    env, pairs = _play_pairs(seed=3, decisions=20)
    builder = CounterfactualSuccessor(env.workload.substrate.paths.hops, env.config.params)
    assert len(pairs) >= 12
    for obs_a, action, obs_b in pairs:
        probs = np.zeros((1, obs_a[ObsKey.ACTION_MASK].size))
        probs[0, action] = 1.0
        rebuilt = builder(_batch(obs_a), probs, _batch(obs_b))
        for key in obs_b:
            np.testing.assert_allclose(rebuilt[key][0], obs_b[key], rtol=1e-5, atol=1e-6, err_msg=key)


def test_spread_mean_action_gives_expected_predecessor_fields():
    env, pairs = _play_pairs(seed=5, decisions=3)
    obs_a, _, obs_b = pairs[0]
    hops = env.workload.substrate.paths.hops
    builder = CounterfactualSuccessor(hops, env.config.params)
    allowed = np.flatnonzero(obs_a[ObsKey.ACTION_MASK])[:2]
    probs = np.zeros((1, obs_a[ObsKey.ACTION_MASK].size))
    probs[0, allowed] = 0.5
    rebuilt = builder(_batch(obs_a), probs, _batch(obs_b))
    hosts = obs_a[ObsKey.ITEM_NODE][allowed]
    p = np.zeros(obs_b[ObsKey.NODES].shape[0])
    np.add.at(p, hosts, 0.5)
    nodes = rebuilt[ObsKey.NODES][0]
    np.testing.assert_allclose(nodes[:, NodeFeature.IS_PREDECESSOR], p)
    n = hops.shape[0]
    np.testing.assert_allclose(nodes[:n, NodeFeature.HOPS_FROM_PREDECESSOR], (p[:n] @ hops) / 10, rtol=1e-6)
    quality = obs_a[ObsKey.ITEMS][allowed, 0].mean()
    assert rebuilt[ObsKey.REQUEST][0, RequestFeature.PRED_QUALITY] == pytest.approx(quality, rel=1e-6)
    # inputs are not modified
    assert not np.shares_memory(rebuilt[ObsKey.NODES], obs_b[ObsKey.NODES])
