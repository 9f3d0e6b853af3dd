"""ModulePolicy's lean inference path: the same logits as RLlib's public ``forward_inference``, rows
routed to their agent's module, and deterministic even if a caller switches a module to train mode."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
import torch
from ray.rllib.core.columns import Columns
from ray.rllib.core.rl_module.multi_rl_module import MultiRLModule, MultiRLModuleSpec

from edgeplace.algos.module_policy import ModulePolicy
from edgeplace.envs.genai_chain import AGENT_IDS, GenAIChainEnv
from edgeplace.envs.genai_chain.observation import ChainProgress
from edgeplace.envs.genai_chain.system_model import RequestProfile
from edgeplace.models import placement_module_spec
from edgeplace.obs_keys import ObsKey

TOPOLOGY = "synthetic:genai-small"


def build_modules(env: GenAIChainEnv, module_ids: tuple[str, ...], **model_config) -> MultiRLModule:
    torch.manual_seed(0)
    space = env.observer.observation_space()
    specs = {}
    for module_id in module_ids:
        spec = placement_module_spec(model_config)
        spec.observation_space, spec.action_space = space, gym.spaces.Discrete(env.workload.num_instances)
        specs[module_id] = spec
    return MultiRLModuleSpec(rl_module_specs=specs).build()


def observations(env: GenAIChainEnv, count: int, seed: int = 0) -> list[dict[str, np.ndarray]]:
    """``count`` observations of random requests at random stages on random loads."""
    rng = np.random.default_rng(seed)
    observer, out = env.observer, []
    for _ in range(count):
        request = RequestProfile.build(
            rng.integers(1, 4, 5),
            rng.uniform(),
            rng.uniform(0, 2),
            int(rng.integers(observer.num_nodes)),
            env.config.params,
        )
        progress = ChainProgress(
            request, 0, 8, stage=int(rng.integers(5)), prev_node=int(rng.integers(observer.num_nodes))
        )
        load, telemetry = rng.uniform(0, 40, observer.num_nodes), rng.exponential(0.1, observer.num_nodes)
        out.append(observer.observe(progress, load, telemetry))
    return out


def stacked(rows: list[dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    return {key: np.stack([row[key] for row in rows]) for key in rows[0]}


@pytest.fixture(scope="module")
def env() -> GenAIChainEnv:
    return GenAIChainEnv({"topology": TOPOLOGY})


def test_batch_logits_equal_rllib_forward_inference(env):
    modules = build_modules(env, ("shared",))
    policy = ModulePolicy("p", modules, dict.fromkeys(AGENT_IDS, "shared"))
    batch = stacked(observations(env, 6))
    tensors = {key: torch.from_numpy(value) for key, value in batch.items()}
    with torch.no_grad():
        expected = modules["shared"].forward_inference({Columns.OBS: tensors})[Columns.ACTION_DIST_INPUTS]
    logits = policy.batch_logits("stage_3", batch)
    assert logits.shape == (6, env.workload.num_instances)
    np.testing.assert_array_equal(logits, expected.numpy())
    allowed = batch[ObsKey.ACTION_MASK] > 0
    assert allowed[np.arange(6), logits.argmax(axis=1)].all(), "the greedy action is an allowed one"


def test_logits_route_each_row_to_its_agents_module(env):
    modules = build_modules(env, ("early", "late"))
    agent_modules = {agent: "early" if stage < 2 else "late" for stage, agent in enumerate(AGENT_IDS)}
    policy = ModulePolicy("p", modules, agent_modules)
    rows = observations(env, 4, seed=1)
    agents = ["stage_1", "stage_5", "stage_2", "stage_4"]
    logits = policy.logits(agents, rows)
    for row, agent in enumerate(agents):  # a batch of one: other matmul kernels, last bits may differ
        alone = policy.batch_logits(agent, stacked([rows[row]]))[0]
        np.testing.assert_allclose(logits[row], alone, rtol=1e-5, atol=1e-6)
    as_early = policy.batch_logits("stage_1", stacked(rows))
    assert not np.allclose(as_early[1], logits[1]), "stage_5's row went through the other module"
    np.testing.assert_array_equal(policy.act_batch(agents, rows), logits.argmax(axis=1))


def test_a_module_switched_to_train_mode_is_put_back_in_eval(env):
    modules = build_modules(env, ("shared",), dropout=0.5)
    policy = ModulePolicy("p", modules, dict.fromkeys(AGENT_IDS, "shared"))
    batch = stacked(observations(env, 3, seed=2))
    in_eval = policy.batch_logits("stage_1", batch)
    modules["shared"].train()
    np.testing.assert_array_equal(policy.batch_logits("stage_1", batch), in_eval)
    assert not modules["shared"].training
