"""LlmMappoModule on metaverse-dag-shaped observations (small sizes): shapes with and without the GRU,
masked actions never sampled, the log-prior bias (0 without a planner, toward the prior with trust),
the GRU state carried step by step, every parameter trained, and GroupedCategorical against RLlib's
TorchMultiCategorical."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from ray.rllib.core.columns import Columns
from ray.rllib.core.distribution.torch.torch_distribution import TorchMultiCategorical

from edgeplace.envs.metaverse_dag.observation import MvObsKey, RegionCol, action_space, observation_space
from edgeplace.models.grouped_categorical import GroupedCategorical
from edgeplace.models.llm_mappo_config import DagObsKey, LlmMappoModelConfig
from edgeplace.models.llm_mappo_module import LlmMappoModule, llm_mappo_module_spec

SLOTS, OPTIONS, EDGES, LINKS, PATTERNS = 6, 5, 4, 3, 7
TINY = {
    "node_width": 8,
    "slot_width": 8,
    "plan_width": 4,
    "gru_size": 8,
    "actor_hidden": [16, 8],
    "pointer_width": 8,
    "route_width": 8,
    "critic_hidden": [8],
    "max_seq_len": 4,
}


def make_module(**model: object) -> LlmMappoModule:
    torch.manual_seed(0)
    spec = llm_mappo_module_spec({**TINY, **model})
    spec.observation_space = observation_space(SLOTS, OPTIONS, EDGES, LINKS)
    spec.action_space = action_space(SLOTS, OPTIONS, EDGES)
    return spec.build()


def make_obs(rows: int, seed: int = 0, *, kappa: float = 0.0, prior: bool = False) -> dict:
    """A batch (rows, ...) of observations: real nodes first, random masks (each part allows >= 1)."""
    rng = np.random.default_rng(seed)
    real_nodes = rng.integers(2, OPTIONS + 1, rows)
    node = rng.normal(size=(rows, OPTIONS, 14)) * (np.arange(OPTIONS) < real_nodes[:, None])[..., None]
    place = rng.random((rows, SLOTS, OPTIONS)) < 0.6
    favourite = rng.integers(0, OPTIONS, (rows, SLOTS))  # allowed; the prior's mode when there is one
    place[np.arange(rows)[:, None], np.arange(SLOTS), favourite] = True
    route = rng.random((rows, EDGES, PATTERNS)) < 0.6
    route[..., 0] = True
    region = rng.normal(size=(rows, 19))
    region[:, RegionCol.KAPPA] = kappa
    state = np.zeros((rows, 16 * 19 + 6 + 16))
    state[:, :-16] = rng.normal(size=(rows, 16 * 19 + 6))
    state[np.arange(rows), -16 + rng.integers(0, 4, rows)] = 1.0
    pi = np.zeros((rows, SLOTS, OPTIONS))
    rng = np.random.default_rng(seed + 1000)  # the planner's draws leave the rest of the batch alike
    if prior:
        pi = np.where(place, 0.02, 0.0)
        pi[np.arange(rows)[:, None], np.arange(SLOTS), favourite] += 0.9
        pi /= pi.sum(-1, keepdims=True)
    obs = {
        MvObsKey.NODE_FEATS: node,
        MvObsKey.SLOT_FEATS: rng.normal(size=(rows, SLOTS, 12)),
        MvObsKey.EDGE_FEATS: rng.normal(size=(rows, EDGES, 5)),
        MvObsKey.REGION: region,
        MvObsKey.PLAN_Z: rng.normal(size=(rows, 64)) if prior else np.zeros((rows, 64)),
        MvObsKey.PLAN_PRIOR: pi,
        MvObsKey.STATE: state,
    }
    tensors = {key: torch.as_tensor(value, dtype=torch.float32) for key, value in obs.items()}
    parts = [*place.transpose(1, 0, 2), *route.transpose(1, 0, 2)]
    tensors[MvObsKey.ACTION_MASK] = tuple(torch.as_tensor(part, dtype=torch.int8) for part in parts)
    return tensors


def with_time(obs: dict, steps: int = 1) -> dict:
    """(B * steps, ...) -> (B, steps, ...)."""

    def reshape(t: torch.Tensor) -> torch.Tensor:
        return t.reshape(-1, steps, *t.shape[1:])

    return {k: tuple(map(reshape, v)) if isinstance(v, tuple) else reshape(v) for k, v in obs.items()}


def allowed(obs: dict) -> torch.Tensor:
    """Shapes: -> (..., S * O + E * 7) bool, in the logits' order."""
    return torch.cat([part > 0 for part in obs[MvObsKey.ACTION_MASK]], dim=-1)


def test_the_module_reads_the_envs_keys():
    assert {key.value for key in DagObsKey} <= {key.value for key in MvObsKey}


def test_shapes_without_and_with_the_gru():
    mlp = make_module(use_gru=False)
    obs = make_obs(5)
    out = mlp.forward_train({Columns.OBS: obs})
    assert out[Columns.ACTION_DIST_INPUTS].shape == (5, SLOTS * OPTIONS + EDGES * PATTERNS)
    assert mlp.compute_values({Columns.OBS: obs}).shape == (5,) and not mlp.is_stateful()
    gru = make_module()
    state = {"h": torch.zeros(2, TINY["gru_size"])}
    out = gru.forward_train({Columns.OBS: with_time(make_obs(6), 3), Columns.STATE_IN: state})
    assert out[Columns.ACTION_DIST_INPUTS].shape == (2, 3, SLOTS * OPTIONS + EDGES * PATTERNS)
    assert out[Columns.STATE_OUT]["h"].shape == (2, TINY["gru_size"]) and gru.is_stateful()
    assert gru.compute_values({Columns.OBS: with_time(make_obs(6), 3)}).shape == (2, 3)
    assert gru.model_config["max_seq_len"] == 4


def test_masked_actions_are_never_sampled_and_have_no_mass():
    module = make_module(use_gru=False)
    obs = make_obs(64, seed=1)
    logits = module.forward_exploration({Columns.OBS: obs})[Columns.ACTION_DIST_INPUTS]
    dist = module.get_exploration_action_dist_cls().from_logits(logits)
    ok = allowed(obs)
    place_ok = ok[:, : SLOTS * OPTIONS].reshape(64, SLOTS, OPTIONS)
    route_ok = ok[:, SLOTS * OPTIONS :].reshape(64, EDGES, PATTERNS)
    for _ in range(20):
        actions = dist.sample()
        assert place_ok.gather(-1, actions[:, :SLOTS, None]).all()
        assert route_ok.gather(-1, actions[:, SLOTS:, None]).all()
    assert (dist.log_probs[0].exp()[~place_ok] == 0).all()


def test_without_a_planner_the_prior_adds_exactly_nothing():
    module = make_module(use_gru=False)
    plain = make_module(use_gru=False, prior_logits=False)
    obs = make_obs(8)  # planner none: prior rows of zeros, kappa 0
    logits = module.forward_inference({Columns.OBS: obs})[Columns.ACTION_DIST_INPUTS]
    assert torch.isfinite(logits).all()
    torch.testing.assert_close(
        logits, plain.forward_inference({Columns.OBS: obs})[Columns.ACTION_DIST_INPUTS]
    )
    with_prior_no_trust = {**obs, MvObsKey.PLAN_PRIOR: make_obs(8, prior=True)[MvObsKey.PLAN_PRIOR]}
    assert (with_prior_no_trust[MvObsKey.PLAN_PRIOR].sum(-1) > 0).all()
    torch.testing.assert_close(
        module.forward_inference({Columns.OBS: with_prior_no_trust})[Columns.ACTION_DIST_INPUTS], logits
    )


def test_trust_moves_the_greedy_placement_to_the_prior():
    module = make_module(use_gru=False)
    s_o = SLOTS * OPTIONS

    def agreement(kappa: float) -> float:
        obs = make_obs(32, seed=2, prior=True, kappa=kappa)
        logits = module.forward_inference({Columns.OBS: obs})[Columns.ACTION_DIST_INPUTS][:, :s_o]
        greedy = logits.reshape(32, SLOTS, OPTIONS).argmax(-1)
        return (greedy == obs[MvObsKey.PLAN_PRIOR].argmax(-1)).float().mean().item()

    assert agreement(0.9) == 1.0 > agreement(0.0)


def test_beta_starts_at_one():
    module = make_module()
    torch.testing.assert_close(module.beta(torch.eye(16)), torch.ones(16))


def test_the_gru_carries_its_state_step_by_step():
    module = make_module()
    obs = with_time(make_obs(6, seed=3), 3)  # B=2, T=3
    h0 = {"h": torch.randn(2, TINY["gru_size"])}
    whole = module.forward_inference({Columns.OBS: obs, Columns.STATE_IN: h0})
    state, steps = h0, []
    for t in range(3):
        step_obs = {
            k: tuple(p[:, t : t + 1] for p in v) if isinstance(v, tuple) else v[:, t : t + 1]
            for k, v in obs.items()
        }
        out = module.forward_inference({Columns.OBS: step_obs, Columns.STATE_IN: state})
        steps.append(out[Columns.ACTION_DIST_INPUTS])
        state = out[Columns.STATE_OUT]
    torch.testing.assert_close(torch.cat(steps, dim=1), whole[Columns.ACTION_DIST_INPUTS])
    torch.testing.assert_close(state["h"], whole[Columns.STATE_OUT]["h"])
    reset = module.forward_inference({Columns.OBS: obs, Columns.STATE_IN: {"h": torch.zeros(2, 8)}})
    assert not torch.allclose(reset[Columns.ACTION_DIST_INPUTS], whole[Columns.ACTION_DIST_INPUTS])


def test_every_parameter_gets_a_gradient():
    module = make_module()
    obs = with_time(make_obs(6, seed=4, prior=True, kappa=0.5), 3)
    out = module.forward_train({Columns.OBS: obs, Columns.STATE_IN: {"h": torch.zeros(2, 8)}})
    dist = module.get_train_action_dist_cls().from_logits(out[Columns.ACTION_DIST_INPUTS])
    loss = dist.entropy().mean() + module.compute_values({Columns.OBS: obs}).pow(2).mean()
    loss.backward()
    missing = [name for name, p in module.named_parameters() if p.grad is None or not p.grad.abs().sum() > 0]
    assert not missing, missing


def test_bad_model_config_values_fail_when_configured():
    with pytest.raises(ValueError, match="unknown model_config keys"):
        llm_mappo_module_spec({"gru_width": 8})
    with pytest.raises(ValueError, match="node_width must be even"):
        LlmMappoModelConfig(node_width=7)


def test_grouped_categorical_equals_rllib_multi_categorical():
    torch.manual_seed(0)
    groups, nvec = ((3, 4), (2, 7)), [4] * 3 + [7] * 2
    logits = torch.randn(5, 26)
    logits[0, 1] = -1e9
    mine = GroupedCategorical.from_logits(logits, groups=groups)
    other = GroupedCategorical.from_logits(torch.randn(5, 26), groups=groups)
    ref = TorchMultiCategorical.from_logits(logits, input_lens=nvec)
    ref_other = TorchMultiCategorical.from_logits(other.logits, input_lens=nvec)
    actions = mine.sample()
    assert actions.shape == (5, 5)
    torch.testing.assert_close(mine.logp(actions), ref.logp(actions))
    torch.testing.assert_close(mine.entropy(), ref.entropy())
    torch.testing.assert_close(mine.kl(other), ref.kl(ref_other))
    torch.testing.assert_close(mine.to_deterministic().sample(), ref.to_deterministic().sample())
