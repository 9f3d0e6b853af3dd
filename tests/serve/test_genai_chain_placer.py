"""The genai-chain placer: the top-k helper (allowed actions only, best first, softmax over the
allowed ones), and batched placement of several jobs in process."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import torch
from ray.rllib.core.rl_module.multi_rl_module import MultiRLModuleSpec

from edgeplace.algos.module_policy import ModulePolicy
from edgeplace.envs.genai_chain import AGENT_IDS, GenAIChainEnv
from edgeplace.models import placement_module_spec
from edgeplace.serve.genai_chain_placer import ChainPlacer
from edgeplace.serve.responses import top_k_actions
from edgeplace.serve.schemas import ChainNetworkState, ChainRequest
from tests.serve.bodies import NUM_NODES, TOPOLOGY


def test_top_k_lists_allowed_actions_best_first_with_their_probabilities():
    logits = np.array([[1.0, 5.0, 3.0, 2.0], [0.0, 0.0, 4.0, -1.0]], dtype=np.float32)
    allowed = np.array([[True, False, True, True], [False, False, True, False]])
    top, probabilities, valid = top_k_actions(logits, allowed, k=3)
    assert top[0].tolist() == [2, 3, 0] and valid[0].all()
    expected = np.exp([3.0, 2.0, 1.0]) / np.exp([3.0, 2.0, 1.0]).sum()
    np.testing.assert_allclose(probabilities[0], expected)
    assert top[1, 0] == 2 and valid[1].tolist() == [True, False, False]
    assert probabilities[1, 0] == 1.0 and (probabilities[1, 1:] == 0.0).all()
    top, _, valid = top_k_actions(logits, allowed, k=10)
    assert top.shape == (2, 4) and valid.sum() == 4


def fresh_placer(top_k: int = 3) -> ChainPlacer:
    """A placer over an untrained module (random weights, seed 0) on TOPOLOGY."""
    env = GenAIChainEnv({"topology": TOPOLOGY})
    torch.manual_seed(0)
    spec = placement_module_spec()
    spec.observation_space = env.observer.observation_space()
    spec.action_space = gym.spaces.Discrete(env.workload.num_instances)
    modules = MultiRLModuleSpec(rl_module_specs={"shared": spec}).build()
    policy = ModulePolicy("fresh", modules, dict.fromkeys(AGENT_IDS, "shared"))
    return ChainPlacer(policy, env.config, top_k)


def test_batched_placement_equals_one_by_one_and_leaves_the_jobs_unchanged():
    placer, rng = fresh_placer(), np.random.default_rng(0)
    load, telemetry = rng.uniform(0, 40, NUM_NODES), rng.exponential(0.1, NUM_NODES)
    requests = [
        ChainRequest(route=[1, 2, 1, 3, 1], omega=0.5, size_scale=0.5, access_node=3),
        ChainRequest(route=[3, 3, 2, 1, 2], omega=0.9, size_scale=1.5, access_node=0),
        ChainRequest(route=[2, 2, 2, 2, 2], omega=0.1, size_scale=0.0, access_node=24),
    ]
    state = placer.check_state(
        ChainNetworkState(load=load.tolist(), telemetry=telemetry.tolist(), request_index=2)
    )
    jobs = [placer.request_job(state, request, field="request") for request in requests]
    batched = placer.placements(jobs)
    assert batched.instance.shape == (3, 5) and batched.candidates.shape == (3, 5, 3)
    for row, job in enumerate(jobs):
        assert job.progress.stage == 0 and job.progress.elapsed_s == 0.0, "placing works on copies"
        alone = placer.placements([job])
        np.testing.assert_array_equal(alone.instance[0], batched.instance[row])
        np.testing.assert_allclose(alone.latency_s[0], batched.latency_s[row], rtol=1e-12)
    np.testing.assert_array_equal(load, jobs[0].load)
    types = placer.observer.model.instance_type
    np.testing.assert_array_equal(types[batched.instance], [request.route for request in requests])
    np.testing.assert_array_equal(batched.node, placer.observer.item_node[batched.instance])
    np.testing.assert_array_equal(batched.candidates[:, :, 0], batched.instance)  # greedy = most probable
