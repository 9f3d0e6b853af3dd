"""VAMAPPO's critic parts: MC-dropout uncertainty, critic dropout, and the flat-MLP ablation module."""

import gymnasium as gym
import pytest
import torch
from ray.rllib.core.columns import Columns

from edgeplace.models import MASKED_LOGIT, placement_module_spec
from edgeplace.models.flat_placement_module import FlatPlacementPPOModule
from edgeplace.models.mc_dropout import MCDropoutUncertainty
from edgeplace.obs_keys import ObsKey

BATCH = 8


def build(space, **model_config):
    torch.manual_seed(0)
    spec = placement_module_spec(model_config)
    spec.observation_space = space
    spec.action_space = gym.spaces.Discrete(space[ObsKey.ACTION_MASK].shape[0])
    return spec.build()


def test_mc_dropout_is_stochastic_even_in_eval_mode_and_non_negative():
    head = MCDropoutUncertainty(6).eval()
    z = torch.randn(BATCH, 6)
    samples = head.sample(z, passes=16)  # (T, B)
    assert samples.shape == (16, BATCH)
    assert (samples >= 0).all()
    assert (samples.var(dim=0) > 0).all()


def test_mc_dropout_kl_is_keep_probability_weighted_squared_weights():
    head = MCDropoutUncertainty(2, widths=(3,), dropouts=(0.4,))
    expected = 0.5 * head.hidden[0].weight.pow(2).sum() + 0.6 / 2 * head.output.weight.pow(2).sum()
    torch.testing.assert_close(head.kl_penalty(), expected)


def test_mc_dropout_rejects_mismatched_rates():
    with pytest.raises(ValueError, match="one dropout rate per hidden layer"):
        MCDropoutUncertainty(4, widths=(8, 4), dropouts=(0.1,))


@pytest.mark.parametrize("encoder", ["attention", "flat-mlp"])
def test_critic_dropout_is_only_on_in_training_and_the_actor_is_deterministic(make_space, make_obs, encoder):
    module = build(make_space(), encoder=encoder, value_dropout=0.5, uncertainty=True, share_encoder=False)
    batch = {Columns.OBS: make_obs(BATCH)}
    module.train()
    train_values = [module.compute_values(batch) for _ in range(2)]
    assert not torch.equal(*train_values)  # dropout in critic training passes
    module.eval()
    torch.testing.assert_close(module.compute_values(batch), module.compute_values(batch))
    module.train()  # the actor has no dropout: its logits are exact in every mode (PPO ratios)
    logits = module.forward_train(batch)[Columns.ACTION_DIST_INPUTS]
    torch.testing.assert_close(logits, module.forward_inference(batch)[Columns.ACTION_DIST_INPUTS])
    z = module.critic_embeddings(batch)
    assert (module.uncertainty_samples(z, 4).var(dim=0) > 0).all()
    assert module.uncertainty_kl() > 0


def test_modules_without_the_branch_say_so(make_space, make_obs):
    module = build(make_space())
    assert not module.has_uncertainty
    with pytest.raises(ValueError, match="without the uncertainty branch"):
        module.uncertainty(torch.zeros(1, 3 * 64))


def test_flat_module_masks_forbidden_items_and_trains_every_parameter(make_space, make_obs):
    module = build(make_space(), encoder="flat-mlp", flat_hidden=[32, 16], value_hidden=[8])
    assert isinstance(module, FlatPlacementPPOModule)
    obs = make_obs(BATCH)
    out = module.forward_train({Columns.OBS: obs})
    logits = out[Columns.ACTION_DIST_INPUTS]
    assert (logits[obs[ObsKey.ACTION_MASK] < 0.5] == MASKED_LOGIT).all()
    assert out[Columns.EMBEDDINGS].shape == (BATCH, 16)
    loss = logits.logsumexp(dim=1).sum() + module.compute_values({}, out[Columns.EMBEDDINGS]).sum()
    loss.backward()
    assert all(p.grad is not None and torch.isfinite(p.grad).all() for p in module.parameters())


def test_unknown_encoder_is_rejected():
    with pytest.raises(ValueError, match="encoder must be one of"):
        placement_module_spec({"encoder": "gnn"})


def test_mc_dropout_output_stays_out_of_the_subnormal_range():
    head = MCDropoutUncertainty(2, widths=(4,), dropouts=(0.0,))
    torch.nn.init.constant_(head.output.bias, -1e4)  # a pre-activation far below zero
    z = torch.randn(3, 2, requires_grad=True)
    f = head(z)
    assert (f >= torch.finfo(torch.float32).tiny).all()
    f.sum().backward()
    assert (head.output.bias.grad == 0).all()  # clamped: no subnormal gradient
