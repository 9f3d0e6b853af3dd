import copy

import gymnasium as gym
import pytest
import torch
from ray.rllib.core.columns import Columns
from ray.rllib.core.rl_module.rl_module import RLModule, RLModuleSpec

from edgeplace.models import (
    MASKED_LOGIT,
    NodeAttentionEncoder,
    PlacementModuleConfig,
    PlacementPPOModule,
    placement_module_spec,
)
from edgeplace.obs_keys import ObsKey

BATCH = 8


def build_module(space: gym.spaces.Dict, inference_only: bool = False, **model_config) -> PlacementPPOModule:
    torch.manual_seed(0)
    spec = placement_module_spec(model_config)
    spec.observation_space = space
    spec.action_space = gym.spaces.Discrete(space[ObsKey.ACTION_MASK].shape[0])
    spec.inference_only = inference_only
    return spec.build()


def pad_nodes(obs: dict[str, torch.Tensor], num_nodes: int) -> dict[str, torch.Tensor]:
    """The same observations with more zero padding nodes."""
    padded = dict(obs)
    extra = num_nodes - obs[ObsKey.NODE_MASK].shape[1]
    padded[ObsKey.NODES] = torch.nn.functional.pad(obs[ObsKey.NODES], (0, 0, 0, extra))
    padded[ObsKey.NODE_MASK] = torch.nn.functional.pad(obs[ObsKey.NODE_MASK], (0, extra))
    return padded


@pytest.mark.parametrize(
    "model_config",
    [{}, {"share_encoder": False}, {"self_attention_layers": 1, "share_encoder": False}],
    ids=["shared", "separate", "self-attention"],
)
def test_forward_train_gives_every_parameter_a_finite_gradient(make_space, make_obs, model_config):
    module = build_module(make_space(), **model_config)
    batch = {Columns.OBS: make_obs(BATCH)}
    out = module.forward_train(batch)
    dist = module.get_train_action_dist_cls().from_logits(out[Columns.ACTION_DIST_INPUTS])
    actions = dist.sample()
    values = module.compute_values(batch, embeddings=out[Columns.EMBEDDINGS])
    loss = -dist.logp(actions).mean() - 0.01 * dist.entropy().mean() + values.pow(2).mean()
    loss.backward()
    for name, param in module.named_parameters():
        assert param.grad is not None, name
        assert torch.isfinite(param.grad).all(), name
        assert param.grad.abs().sum() > 0, name


def test_masked_items_get_zero_probability(make_space, make_obs):
    module = build_module(make_space())
    obs = make_obs(64, seed=1)
    logits = module.forward_inference({Columns.OBS: obs})[Columns.ACTION_DIST_INPUTS]
    forbidden = obs[ObsKey.ACTION_MASK] == 0
    probs = torch.softmax(logits, dim=-1)
    assert torch.isfinite(logits).all()
    assert (logits[forbidden] == MASKED_LOGIT).all()
    assert probs[forbidden].max() < 1e-30
    assert not forbidden.gather(1, logits.argmax(-1, keepdim=True)).any()
    dist = module.get_exploration_action_dist_cls().from_logits(logits)
    samples = dist.sample(sample_shape=(200,))  # (200, B)
    assert not forbidden.gather(1, samples.T).any()


def test_same_module_runs_on_other_node_counts(make_space, make_obs):
    module = build_module(make_space(num_nodes=32), self_attention_layers=1)
    for num_nodes in (128, 16):
        obs = make_obs(BATCH, num_nodes=num_nodes)
        out = module.forward_train({Columns.OBS: obs})
        assert out[Columns.ACTION_DIST_INPUTS].shape == obs[ObsKey.ACTION_MASK].shape
        assert torch.isfinite(out[Columns.EMBEDDINGS]).all()
    obs = make_obs(BATCH, num_nodes=16)
    small = module.forward_inference({Columns.OBS: obs})[Columns.ACTION_DIST_INPUTS]
    large = module.forward_inference({Columns.OBS: pad_nodes(obs, 128)})[Columns.ACTION_DIST_INPUTS]
    torch.testing.assert_close(small, large, rtol=1e-5, atol=1e-5)


def test_compute_values_has_shape_b_reuses_embeddings_and_leaves_the_batch_alone(make_space, make_obs):
    module = build_module(make_space(), share_encoder=False)
    batch = {Columns.OBS: make_obs(BATCH)}
    before = copy.deepcopy(batch)
    values = module.compute_values(batch)
    assert values.shape == (BATCH,)
    embeddings = module.forward_train(batch)[Columns.EMBEDDINGS]
    torch.testing.assert_close(module.compute_values(batch, embeddings=embeddings), values)
    assert batch.keys() == before.keys() and batch[Columns.OBS].keys() == before[Columns.OBS].keys()
    for key, tensor in before[Columns.OBS].items():
        assert torch.equal(batch[Columns.OBS][key], tensor), key


def test_item_node_may_arrive_as_float(make_space, make_obs):
    module = build_module(make_space())
    obs = make_obs(BATCH)
    as_float = dict(obs, **{ObsKey.ITEM_NODE: obs[ObsKey.ITEM_NODE].float()})
    expected = module.forward_inference({Columns.OBS: obs})[Columns.ACTION_DIST_INPUTS]
    actual = module.forward_inference({Columns.OBS: as_float})[Columns.ACTION_DIST_INPUTS]
    torch.testing.assert_close(actual, expected)


def test_share_encoder_false_builds_two_encoders(make_space):
    def count_encoders(module: PlacementPPOModule) -> int:
        return sum(isinstance(m, NodeAttentionEncoder) for m in module.modules())

    assert count_encoders(build_module(make_space())) == 1
    assert count_encoders(build_module(make_space(), share_encoder=False)) == 2


def test_inference_only_module_drops_the_critic_and_acts_identically(make_space, make_obs):
    learner = build_module(make_space(), share_encoder=False)
    runner = build_module(make_space(), inference_only=True, share_encoder=False)
    assert not hasattr(runner, "value_head") and not hasattr(runner, "critic_encoder")
    runner.set_state(learner.get_state(inference_only=True))
    batch = {Columns.OBS: make_obs(BATCH)}
    torch.testing.assert_close(
        runner.forward_inference(batch)[Columns.ACTION_DIST_INPUTS],
        learner.forward_inference(batch)[Columns.ACTION_DIST_INPUTS],
    )


def test_checkpoint_restores_the_trained_module(make_space, make_obs, tmp_path):
    module = build_module(make_space(), share_encoder=False, d_model=32)
    with torch.no_grad():
        for param in module.parameters():
            param.add_(0.1 * torch.randn_like(param))  # stand-in for training
    module.save_to_path(tmp_path)
    restored = RLModule.from_checkpoint(tmp_path)
    assert type(restored) is PlacementPPOModule
    assert restored.placement_config == module.placement_config
    batch = {Columns.OBS: make_obs(BATCH)}
    torch.testing.assert_close(
        restored.forward_inference(batch)[Columns.ACTION_DIST_INPUTS],
        module.forward_inference(batch)[Columns.ACTION_DIST_INPUTS],
    )
    torch.testing.assert_close(restored.compute_values(batch), module.compute_values(batch))


def test_config_takes_our_fields_and_ignores_rllib_keys():
    config = PlacementModuleConfig.from_model_config(
        {"d_model": 32, "item_hidden": [16, 8], "vf_share_layers": False}
    )
    assert config == PlacementModuleConfig(d_model=32, item_hidden=(16, 8))
    assert PlacementModuleConfig.from_model_config(None) == PlacementModuleConfig()
    assert PlacementModuleConfig.from_model_config(config.to_model_config()) == config
    with pytest.raises(ValueError, match=r"placement module: unknown model_config keys \['d_modle'\]"):
        PlacementModuleConfig.from_model_config({"d_modle": 32})


def test_the_rllib_keys_modules_accept_are_the_ones_rllib_merges_in():
    from ray.rllib.algorithms.ppo import PPOConfig

    from edgeplace.config_mapping import RLLIB_MODEL_CONFIG_KEYS

    assert set(PPOConfig()._model_config_auto_includes) == RLLIB_MODEL_CONFIG_KEYS


@pytest.mark.parametrize(
    "bad",
    [{"d_model": 30}, {"self_attention_layers": -1}, {"dropout": 1.0}, {"item_hidden": []}],
    ids=["heads", "layers", "dropout", "item-hidden"],
)
def test_config_rejects_bad_values_when_the_spec_is_made(bad):
    with pytest.raises(ValueError, match=next(iter(bad))):
        placement_module_spec(bad)


def test_spec_carries_the_validated_config():
    spec = placement_module_spec({"d_model": 32})
    assert isinstance(spec, RLModuleSpec) and spec.module_class is PlacementPPOModule
    assert spec.model_config["d_model"] == 32


def test_item_node_outside_the_padded_nodes_raises(make_space, make_obs):
    module = build_module(make_space())
    obs = make_obs(BATCH)
    obs[ObsKey.ITEM_NODE][0, 0] = obs[ObsKey.NODE_MASK].shape[1]  # one past the last node
    with pytest.raises(RuntimeError, match="index"):
        module.forward_inference({Columns.OBS: obs})
