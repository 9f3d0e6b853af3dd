"""The AgentVNE RLModule (papers/agentvne.md, sections e and f): exploration actions the env accepts,
their log-probability, deterministic inference, gradients, pre-trained weights and the evaluation
policy."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from ray.rllib.core.columns import Columns

from edgeplace.algos.agentvne.module import AgentVNEModule, agentvne_module_spec
from edgeplace.algos.agentvne.policy import AgentVNEPolicy
from edgeplace.algos.agentvne.pretrain import PretrainConfig
from edgeplace.algos.agentvne.similarity_task import pretrain_agentvne
from edgeplace.envs.agent_vne import AGENT_ID, VNEKPI, AgentVNEEnv, StepInfo, VNEObsKey
from edgeplace.envs.base import ALL_AGENTS
from edgeplace.evaluation.runner import run_episodes
from edgeplace.models.agent_rows_distribution import AgentRowsDistribution
from edgeplace.models.item_scoring_head import MASKED_LOGIT
from edgeplace.models.similarity_config import SimilarityConfig

ENV = {"arrivals_per_episode": 12, "arrival_rate": 0.5}
SIZES = {"d_model": 16, "value_width": 16, "value_hidden": [16], "dropout": 0.0}
SIZES_CONFIG = SimilarityConfig.from_model_config(SIZES)


def build_module(**extra) -> AgentVNEModule:
    env = AgentVNEEnv(ENV)
    spec = agentvne_module_spec({"env_config": ENV, **SIZES, **extra})
    return AgentVNEModule(
        observation_space=env.observation_spaces[AGENT_ID],
        action_space=env.action_spaces[AGENT_ID],
        model_config=spec.model_config,
    )


def batch_of(observations: list[dict]) -> dict:
    return {
        Columns.OBS: {
            key: torch.as_tensor(np.stack([o[key] for o in observations])) for key in observations[0]
        }
    }


def collect(seed: int = 0, steps: int = 12) -> list[dict]:
    """Observations of an episode played by the module's own exploration."""
    env, module = AgentVNEEnv(ENV), build_module()
    obs, _ = env.reset(seed=seed)
    out = []
    for _ in range(steps):
        out.append(obs[AGENT_ID])
        action = module.forward_exploration(batch_of([obs[AGENT_ID]]))[Columns.ACTIONS][0].numpy()
        obs, _, _, truncated, _ = env.step({AGENT_ID: action})
        if truncated[ALL_AGENTS]:
            break
    return out


def test_exploration_actions_are_accepted_exactly_when_complete():
    torch.manual_seed(0)
    env, module = AgentVNEEnv(ENV), build_module()
    obs, _ = env.reset(seed=1)
    accepted = 0
    for _ in range(12):
        out = module.forward_exploration(batch_of([obs[AGENT_ID]]))
        action = out[Columns.ACTIONS][0].numpy()
        assert action.shape == (8,) and action.dtype == np.int64
        agents = int(obs[AGENT_ID][VNEObsKey.VN_MASK].sum())
        complete = bool((action[:agents] < env.unassigned).all())
        assert (action[agents:] == env.unassigned).all()
        obs, rewards, _, truncated, infos = env.step({AGENT_ID: action})
        assert infos[AGENT_ID][StepInfo.ACCEPTED] == complete  # the decoder's mappings re-validate
        accepted += complete
        if truncated[ALL_AGENTS]:
            break
    assert accepted > 0


def test_logp_is_the_distributions_logp_of_the_actions_and_matches_the_train_pass():
    torch.manual_seed(0)
    module = build_module()
    batch = batch_of(collect())
    out = module.forward_exploration(batch)
    dist = AgentRowsDistribution.from_logits(out[Columns.ACTION_DIST_INPUTS])
    torch.testing.assert_close(out[Columns.ACTION_LOGP], dist.logp(out[Columns.ACTIONS]))
    assert (out[Columns.ACTION_LOGP] < 0).all()
    train = module.forward_train(batch)[Columns.ACTION_DIST_INPUTS]
    new_logp = AgentRowsDistribution.from_logits(train).logp(out[Columns.ACTIONS])
    torch.testing.assert_close(new_logp, out[Columns.ACTION_LOGP])  # PPO's first ratio is 1


def test_dist_inputs_mask_infeasible_nodes_anchors_and_padding():
    module = build_module()
    observations = collect()
    logits = module.forward_exploration(batch_of(observations))[Columns.ACTION_DIST_INPUTS].numpy()
    for row, obs in enumerate(observations):
        active = (obs[VNEObsKey.VN_MASK] > 0) & (obs[VNEObsKey.ANCHOR_TARGET] < 0)
        allowed = (obs[VNEObsKey.HOST_MASK] > 0) & active[:, None]
        assert (logits[row][~allowed] == MASKED_LOGIT).all()
        probs = np.exp(np.where(allowed, logits[row], -np.inf)).sum(axis=1)
        np.testing.assert_allclose(probs[allowed.any(axis=1)], 1.0, rtol=1e-5)


def test_inference_is_deterministic_and_matches_the_evaluation_policy():
    module = build_module()
    observations = collect(seed=2)
    first = module.forward_inference(batch_of(observations))[Columns.ACTIONS]
    torch.manual_seed(123)
    again = module.forward_inference(batch_of(observations))[Columns.ACTIONS]
    torch.testing.assert_close(first, again)
    policy = AgentVNEPolicy(module.similarity, module.static)
    np.testing.assert_array_equal(
        policy.act_batch([AGENT_ID] * len(observations), observations), first.numpy()
    )


def test_gradients_reach_the_similarity_and_value_networks():
    module = build_module()
    batch = batch_of(collect())
    actions = module.forward_exploration(batch)[Columns.ACTIONS]
    out = module.forward_train(batch)
    loss = -AgentRowsDistribution.from_logits(out[Columns.ACTION_DIST_INPUTS]).logp(actions).sum()
    values = module.compute_values(batch)
    assert values.shape == (len(actions),)
    (loss + values.sum()).backward()
    for name, parameter in module.named_parameters():
        assert parameter.grad is not None and parameter.grad.abs().sum() > 0, name


def test_pretrained_weights_load_into_the_module_and_the_policy(tmp_path):
    result = pretrain_agentvne(ENV, tmp_path, PretrainConfig(epochs=1), SIZES_CONFIG, episodes=2, arrivals=5)
    module, fresh = build_module(), build_module()
    module.load_pretrained(str(result.best_path))
    assert not torch.equal(fresh.similarity.ntn.weight, module.similarity.ntn.weight)
    policy = AgentVNEPolicy.from_checkpoint(tmp_path)
    for name, tensor in policy.network.state_dict().items():
        torch.testing.assert_close(module.similarity.state_dict()[name], tensor)
    kpis = run_episodes(lambda: AgentVNEEnv(ENV), policy, seed=0, episodes=1, num_envs=1)
    assert 0.0 < kpis[0][VNEKPI.ACCEPTANCE_RATIO] <= 1.0
    with pytest.raises(ValueError, match="observations have"):
        env = AgentVNEEnv({**ENV, "max_nodes": 24})
        AgentVNEModule(
            observation_space=env.observation_spaces[AGENT_ID],
            action_space=env.action_spaces[AGENT_ID],
            model_config={"env_config": ENV},
        )


def test_ppo_starts_from_the_pretrained_network_warms_up_the_value_and_checkpoints(ray_session, tmp_path):
    from edgeplace.algos.agentvne.build import build_agentvne_config
    from edgeplace.algos.agentvne.settings import agentvne_train_config
    from edgeplace.algos.checkpoints import save_checkpoint
    from edgeplace.algos.registry import register_rllib_envs

    register_rllib_envs()
    pretrained = pretrain_agentvne(
        ENV, tmp_path / "pretrain", PretrainConfig(epochs=1), SIZES_CONFIG, episodes=2, arrivals=5
    )
    config = agentvne_train_config(
        env_config=ENV,
        train_batch_size=24,
        minibatch_size=12,
        num_epochs=1,
        num_envs_per_env_runner=2,
        model=SIZES,
        algo_options={
            "value_warmup_updates": 1,
            "arrival_rates": [0.25],
            "pretrained": str(pretrained.best_path),
        },
    )
    algo = build_agentvne_config(config).build_algo()
    try:
        module = algo.get_module("shared")
        learned = algo.learner_group._learner.module["shared"]
        expected_start = AgentVNEPolicy.from_checkpoint(tmp_path / "pretrain").network.state_dict()
        for copy in (module, learned):  # the learner loaded it, RLlib synced it to the sampler
            for name, tensor in expected_start.items():
                torch.testing.assert_close(copy.similarity.state_dict()[name], tensor)
        policy_before = [p.detach().clone() for p in module.similarity.parameters()]
        value_before = [p.detach().clone() for p in module.value_net.parameters()]
        result = algo.train()
        assert result["env_runners"]["num_episodes"] >= 1
        assert {copy.unwrapped.config.arrival_rate for copy in algo.env_runner.env.envs} == {0.25}
        assert all(
            torch.equal(a, b) for a, b in zip(policy_before, module.similarity.parameters(), strict=True)
        )
        assert not all(
            torch.equal(a, b) for a, b in zip(value_before, module.value_net.parameters(), strict=True)
        )
        algo.train()
        assert not all(
            torch.equal(a, b) for a, b in zip(policy_before, module.similarity.parameters(), strict=True)
        )
        metadata = {"agent_modules": {AGENT_ID: "shared"}, "env_config": ENV}
        save_checkpoint(algo, tmp_path / "run", 2, metadata, keep=1)
        observations = collect(seed=4)
        expected = module.forward_inference(batch_of(observations))[Columns.ACTIONS].numpy()
    finally:
        algo.stop()
    (tmp_path / "pretrain").rename(tmp_path / "moved")  # a fine-tuned checkpoint needs no pre-training file
    restored = AgentVNEPolicy.from_checkpoint(tmp_path / "run")
    np.testing.assert_array_equal(restored.act_batch([AGENT_ID] * len(observations), observations), expected)


def test_the_module_config_rejects_unknown_keys_but_reads_legacy_checkpoints():
    with pytest.raises(ValueError, match=r"unknown model_config keys \['d_modle'\]"):
        build_module(d_modle=8)
    env = AgentVNEEnv(ENV)
    legacy = {**agentvne_module_spec({"env_config": ENV, **SIZES}).model_config, "pretrained": "old/best.pt"}
    module = AgentVNEModule(
        observation_space=env.observation_spaces[AGENT_ID],
        action_space=env.action_spaces[AGENT_ID],
        model_config=legacy,  # as checkpoints written before the learner loaded the pre-training
    )
    assert module.vne_config.restarts >= 0
