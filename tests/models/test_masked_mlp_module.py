"""The masked-MLP actor-critic on the lm-inference agents' observations: masked logits for Discrete and
MultiDiscrete actions, values, and a gradient for every parameter."""

from __future__ import annotations

import gymnasium as gym
import pytest
import torch
from ray.rllib.core.columns import Columns

from edgeplace.algos.baselines.lm_inference.reference import make_env
from edgeplace.algos.lm_inference.learned import module_model_config
from edgeplace.algos.lm_inference.policy import stack
from edgeplace.envs.base import ALL_AGENTS
from edgeplace.envs.lm_inference.agents import PLANNER, SCHEDULER
from edgeplace.models.item_scoring_head import MASKED_LOGIT
from edgeplace.models.masked_mlp_module import MaskedMlpConfig, MaskedMlpModule
from edgeplace.obs_keys import ObsKey
from edgeplace.policy import act
from tests.envs.lm_inference.conftest import MaskedRandom

CONFIG = {"epochs": 2, "epoch_slots": 4, "warmup_epochs": 1, "drain_slots": 1}


def observations_of(agent: str, count: int) -> list[dict]:
    """``count`` observations of ``agent`` from an episode of masked random actions."""
    env, policy, seen = make_env(CONFIG), MaskedRandom(0), []
    observations, _ = env.reset(seed=0)
    while len(seen) < count:
        seen += [observations[agent]] if agent in observations else []
        observations, _, _, truncated, _ = env.step(act(policy, observations))
        if truncated[ALL_AGENTS]:
            observations, _ = env.reset()
    return seen


def tensors(batch: dict) -> dict:
    return {
        k: tuple(map(torch.from_numpy, v)) if isinstance(v, tuple) else torch.from_numpy(v)
        for k, v in batch.items()
    }


@pytest.mark.parametrize(
    ("agent", "module_id"), [(PLANNER, PLANNER), (SCHEDULER, SCHEDULER), ("deployer_VM7", "deployer_2gpu")]
)
def test_forward_train_masks_logits_and_every_parameter_gets_a_gradient(agent, module_id):
    env = make_env(CONFIG)
    torch.manual_seed(0)
    module = MaskedMlpModule(
        observation_space=env.observation_spaces[agent],
        action_space=env.action_spaces[agent],
        model_config=module_model_config(module_id, {"hidden": [32, 32]}),
    )
    rows = observations_of(agent, 4)
    batch = tensors(stack(rows))
    out = module.forward_train({Columns.OBS: batch})
    logits = out[Columns.ACTION_DIST_INPUTS]
    space = env.action_spaces[agent]
    width = space.n if isinstance(space, gym.spaces.Discrete) else int(space.nvec.sum())
    assert logits.shape == (4, width)
    mask = batch[ObsKey.ACTION_MASK]
    allowed = (mask if isinstance(mask, torch.Tensor) else torch.cat(mask, dim=1)) > 0
    assert (logits[~allowed] == MASKED_LOGIT).all() and (logits[allowed] > MASKED_LOGIT / 2).all()
    values = module.compute_values({Columns.OBS: batch})
    assert values.shape == (4,)
    dist = module.get_train_action_dist_cls().from_logits(logits)
    actions = dist.sample()
    parts, chosen = (mask if isinstance(mask, tuple) else (mask,)), actions.reshape(4, -1)
    assert all(parts[k][b, chosen[b, k]] > 0 for b in range(4) for k in range(len(parts))), "sampled: allowed"
    (-dist.logp(actions).mean() + values.square().mean() - dist.entropy().mean()).backward()
    for name, parameter in module.named_parameters():
        assert parameter.grad is not None and torch.isfinite(parameter.grad).all(), name


def test_a_bad_model_config_names_the_key():
    with pytest.raises(ValueError, match=r"unknown model_config keys \['width'\]"):
        MaskedMlpConfig.from_model_config({"actor_inputs": ["a"], "critic_inputs": ["a"], "width": 3})
    with pytest.raises(ValueError, match=r"missing \['critic_inputs'\]"):
        MaskedMlpConfig.from_model_config({"actor_inputs": ["a"]})
    with pytest.raises(ValueError, match="widths must be >= 1"):
        MaskedMlpConfig(("a",), ("a",), hidden=(0,))
