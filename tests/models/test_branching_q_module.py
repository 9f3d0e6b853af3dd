"""BranchingQModule on metaverse-dag-shaped observations (small sizes): the dueling combination over the
allowed actions, masked and padded values at -inf, epsilon-greedy never picking a masked action, the
flat action-distribution inputs in the MultiDiscrete order (so ModulePolicy acts greedily per branch),
and every parameter trained through forward_train."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from ray.rllib.algorithms.dqn.default_dqn_rl_module import QF_NEXT_PREDS, QF_PREDS, QF_TARGET_NEXT_PREDS
from ray.rllib.core.columns import Columns

from edgeplace.algos.module_policy import argmax_actions
from edgeplace.envs.metaverse_dag.observation import action_space, observation_space
from edgeplace.models.branching_q_config import BranchingQConfig
from edgeplace.models.branching_q_module import (
    BranchingQModule,
    branching_q_module_spec,
    dueling_q,
    epsilon_greedy,
)
from edgeplace.models.llm_mappo_config import DagObsKey

SLOTS, OPTIONS, EDGES, LINKS, PATTERNS = 6, 5, 4, 3, 7
BRANCHES, WIDTH = SLOTS + EDGES, max(OPTIONS, PATTERNS)
TINY = {
    "node_width": 8,
    "slot_width": 8,
    "trunk_hidden": [16, 8],
    "value_hidden": 8,
    "pointer_width": 8,
    "route_width": 8,
}


def make_module(epsilon: float = 0.0) -> BranchingQModule:
    torch.manual_seed(0)
    spec = branching_q_module_spec(TINY)
    spec.model_config = {**spec.model_config, "epsilon": epsilon, "double_q": True, "num_atoms": 1}
    spec.observation_space = observation_space(SLOTS, OPTIONS, EDGES, LINKS)
    spec.action_space = action_space(SLOTS, OPTIONS, EDGES)
    module = spec.build()
    module.make_target_networks()
    return module


def random_obs(batch: int, seed: int) -> dict:
    """A batch of observations with random features and random masks (every branch keeps >= 1 allowed
    action; the last slot and edge are padding: one allowed value)."""
    rng = np.random.default_rng(seed)
    space = observation_space(SLOTS, OPTIONS, EDGES, LINKS)
    obs = {
        key: torch.from_numpy(rng.normal(size=(batch, *sub.shape)).astype(np.float32))
        for key, sub in space.spaces.items()
        if key != DagObsKey.ACTION_MASK
    }
    parts = []
    for branch in range(BRANCHES):
        width = OPTIONS if branch < SLOTS else PATTERNS
        allowed = rng.random((batch, width)) < 0.5
        allowed[np.arange(batch), rng.integers(width, size=batch)] = True
        if branch in (SLOTS - 1, BRANCHES - 1):
            allowed[:] = False
            allowed[:, 0] = True
        parts.append(torch.from_numpy(allowed.astype(np.int8)))
    obs[DagObsKey.ACTION_MASK] = tuple(parts)
    return obs


def test_dueling_q_subtracts_the_mean_advantage_over_the_allowed_actions():
    value = torch.tensor([1.0, -2.0])
    advantages = torch.tensor([[[1.0, 2.0, 6.0]], [[0.0, 4.0, -3.0]]])  # (N=2, B=1, W=3)
    allowed = torch.tensor([[[True, False, True]], [[False, True, False]]])
    q = dueling_q(value, advantages, allowed)
    assert q[0, 0, 0] == pytest.approx(1.0 + 1.0 - 3.5) and q[0, 0, 2] == pytest.approx(1.0 + 6.0 - 3.5)
    assert q[1, 0, 1] == pytest.approx(-2.0)  # one allowed action: Q = V
    assert torch.isneginf(q[~allowed]).all() and torch.isfinite(q[allowed]).all()


def test_q_values_are_masked_padded_and_flattened_in_the_action_order():
    module = make_module()
    obs = random_obs(5, seed=1)
    q = module.compute_q_values({Columns.OBS: obs})[QF_PREDS]
    assert q.shape == (5, BRANCHES, WIDTH)
    allowed = module.allowed(obs[DagObsKey.ACTION_MASK])
    assert torch.equal(torch.isfinite(q), allowed)
    assert torch.isneginf(q[:, SLOTS:, PATTERNS:]).all() and torch.isneginf(q[:, :SLOTS, OPTIONS:]).all()
    out = module._forward_inference({Columns.OBS: obs})
    flat = out[Columns.ACTION_DIST_INPUTS]
    assert flat.shape == (5, SLOTS * OPTIONS + EDGES * PATTERNS)
    assert torch.equal(flat[:, : SLOTS * OPTIONS].view(5, SLOTS, OPTIONS), q[:, :SLOTS, :OPTIONS])
    greedy = argmax_actions(module.action_space, flat.detach().numpy())  # what ModulePolicy does
    assert np.array_equal(greedy, out[Columns.ACTIONS].numpy())
    # padded branches (one allowed value) have Q = V(s) there
    assert torch.allclose(q[:, SLOTS - 1, 0], q[:, BRANCHES - 1, 0])


@pytest.mark.parametrize("epsilon", [1.0, 0.5])
def test_epsilon_greedy_never_picks_a_masked_action(epsilon):
    module = make_module(epsilon)
    obs = random_obs(64, seed=2)
    allowed = module.allowed(obs[DagObsKey.ACTION_MASK])
    torch.manual_seed(3)
    for t in range(5):
        actions = module._forward_exploration({Columns.OBS: obs}, t=t)[Columns.ACTIONS]
        assert actions.shape == (64, BRANCHES)
        assert allowed.gather(-1, actions.unsqueeze(-1)).all()
    # at epsilon 1 every allowed action of a branch is drawn (uniformly): all show up in 2,000 draws
    q = torch.zeros(2000, 1, 4).masked_fill(torch.tensor([False, True, False, True]), float("-inf"))
    counts = torch.bincount(epsilon_greedy(q, 1.0).view(-1), minlength=4)
    assert counts[1] == counts[3] == 0 and min(counts[0], counts[2]) > 900


def test_forward_train_reaches_every_parameter():
    module = make_module()
    obs, next_obs = random_obs(8, seed=4), random_obs(8, seed=5)
    out = module._forward_train({Columns.OBS: obs, Columns.NEXT_OBS: next_obs})
    for key in (QF_PREDS, QF_NEXT_PREDS, QF_TARGET_NEXT_PREDS):
        assert out[key].shape == (8, BRANCHES, WIDTH)
    taken = out[QF_PREDS].argmax(-1, keepdim=True)
    out[QF_PREDS].gather(-1, taken).sum().backward()
    missing = [name for name, p in module.named_parameters() if p.requires_grad and p.grad is None]
    assert not missing
    assert not any(p.requires_grad for p in module._target_q_net.parameters())


def test_config_rejects_unknown_keys_and_distributional_q():
    with pytest.raises(ValueError, match="unknown model_config keys"):
        BranchingQConfig.from_model_config({"hiden": [8]})
    with pytest.raises(ValueError, match="num_atoms"):
        BranchingQConfig.from_model_config({"num_atoms": 51})
    with pytest.raises(ValueError, match="node_width must be even"):
        BranchingQConfig(node_width=7)


def test_a_flat_mask_gives_the_same_q_values_as_the_env_layout():
    """The replay stores compact observations (a flat mask); evaluation hands over the env's tuple."""
    from edgeplace.algos.cromadqn.compact_obs import compact_observation, compact_space

    module = make_module()
    obs = random_obs(4, seed=6)
    flat = dict(obs, **{DagObsKey.ACTION_MASK: torch.cat(obs[DagObsKey.ACTION_MASK], dim=1)})
    q_tuple = module.compute_q_values({Columns.OBS: obs})[QF_PREDS]
    assert torch.equal(module.compute_q_values({Columns.OBS: flat})[QF_PREDS], q_tuple)
    row = {
        key: (tuple(p[0].numpy() for p in v) if isinstance(v, tuple) else v[0].numpy())
        for key, v in obs.items()
    }
    compact = compact_observation(row)
    assert compact_space(module.observation_space).contains(compact)
    np.testing.assert_array_equal(compact[DagObsKey.ACTION_MASK], flat[DagObsKey.ACTION_MASK][0].numpy())
