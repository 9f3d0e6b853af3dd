import pytest
import torch
import torch.nn.functional as F

from edgeplace.models.autoregressive_head import ActionMode, AutoregressiveHead
from edgeplace.models.hybrid_critic import (
    HybridCritic,
    joint_action_encoding,
    make_target,
    polyak_update,
    sub_action_encoding,
)

B, S, AGENTS = 5, 7, 2
SIZES = (3, 2, 4)
ACTION_DIM = AGENTS * sum(SIZES)


def make_critic(seed: int = 0, **kwargs) -> HybridCritic:
    torch.manual_seed(seed)
    return HybridCritic(S, AGENTS, SIZES, hidden=kwargs.pop("hidden", (16, 8)), **kwargs)


def random_inputs(seed: int = 1) -> tuple[torch.Tensor, torch.Tensor]:
    gen = torch.Generator().manual_seed(seed)
    actions = torch.stack([torch.randint(0, size, (B, AGENTS), generator=gen) for size in SIZES], dim=-1)
    return torch.randn(B, S, generator=gen), joint_action_encoding(actions, SIZES)


def test_hard_joint_encoding_hand_computed():
    actions = torch.tensor([[[2, 1, 0], [0, 0, 3]]])  # (1, 2 agents, 3)
    expected = torch.tensor([[0, 0, 1, 0, 1, 1, 0, 0, 0] + [1, 0, 0, 1, 0, 0, 0, 0, 1]], dtype=torch.float)
    assert torch.equal(joint_action_encoding(actions, SIZES), expected)


def test_hard_joint_encoding_is_the_one_hot_concatenation():
    gen = torch.Generator().manual_seed(0)
    actions = torch.stack([torch.randint(0, size, (B, AGENTS), generator=gen) for size in SIZES], dim=-1)
    expected = torch.cat(
        [F.one_hot(actions[:, n, k], size).float() for n in range(AGENTS) for k, size in enumerate(SIZES)],
        dim=-1,
    )
    assert torch.equal(joint_action_encoding(actions, SIZES), expected)


def test_sub_action_encoding_pads_each_head_to_the_critic_size():
    parts = [torch.tensor([[0.2, 0.8, 0.0]]), torch.tensor([[1.0]]), torch.tensor([[0.0, 0.5, 0.5]])]
    expected = torch.tensor([[0.2, 0.8, 0.0, 1.0, 0.0, 0.0, 0.5, 0.5, 0.0]])
    assert torch.equal(sub_action_encoding(parts, SIZES), expected)
    with pytest.raises(ValueError, match=r"parts\[1\]"):
        sub_action_encoding([parts[0], torch.zeros(1, 3), parts[2]], SIZES)


def test_soft_encoding_of_straight_through_actions_equals_the_hard_encoding_and_passes_gradients():
    torch.manual_seed(0)
    heads = [AutoregressiveHead(4, (3, 1, 4), hidden=6), AutoregressiveHead(4, SIZES, hidden=6)]
    outs = [head(torch.randn(B, 4), mode=ActionMode.GUMBEL) for head in heads]
    soft = torch.stack([sub_action_encoding(out.one_hots, SIZES) for out in outs], dim=1)  # (B, 2, 9)
    hard = torch.stack([out.actions for out in outs], dim=1)  # (B, 2, 3)
    encoding = joint_action_encoding(soft, SIZES)
    assert torch.equal(encoding, joint_action_encoding(hard, SIZES))
    encoding.sum().backward()  # gradients of the straight-through path reach the actors
    assert all(param.grad is not None for head in heads for param in head.parameters())


def test_joint_encoding_rejects_bad_actions():
    with pytest.raises(ValueError, match="out of range"):
        joint_action_encoding(torch.tensor([[[3, 0, 0]]]), SIZES)
    with pytest.raises(ValueError, match="actions must be"):
        joint_action_encoding(torch.zeros(1, 2, 2, dtype=torch.int64), SIZES)
    with pytest.raises(ValueError, match="soft actions"):
        joint_action_encoding(torch.zeros(1, 2, 8), SIZES)


@pytest.mark.parametrize(("reward_parts", "embed"), [(3, 4), (1, 4), (3, None)])
def test_twin_outputs_and_their_minimum(reward_parts, embed):
    critic = make_critic(reward_parts=reward_parts, action_embed_dim=embed)
    state, action = random_inputs()
    q = critic(state, action)
    assert q.shape == (2, B, reward_parts)
    assert torch.equal(critic.min_q(state, action), torch.minimum(q[0], q[1]))


def test_twins_differ_at_init_and_every_parameter_gets_a_gradient():
    critic = make_critic(action_embed_dim=4)
    state, action = random_inputs()
    q = critic(state, action)
    assert not torch.allclose(q[0], q[1])
    ((q - torch.ones(B, 3)) ** 2).sum(-1).mean(-1).sum().backward()
    assert all(param.grad is not None and param.grad.abs().sum() > 0 for param in critic.parameters())


def test_frozen_critic_still_passes_gradients_to_the_actions():
    critic = make_critic().requires_grad_(False)
    state, action = random_inputs()
    action.requires_grad_(True)
    critic.min_q(state, action).sum().backward()
    assert action.grad is not None and action.grad.abs().sum() > 0
    assert all(param.grad is None for param in critic.parameters())


def test_critic_rejects_bad_shapes():
    critic = make_critic()
    state, action = random_inputs()
    with pytest.raises(ValueError, match="state"):
        critic(state[:, :-1], action)
    with pytest.raises(ValueError, match="joint_action"):
        critic(state, action[:, :-1])
    with pytest.raises(ValueError, match="reward_parts"):
        HybridCritic(S, AGENTS, SIZES, reward_parts=0)


def test_target_is_a_frozen_deep_copy():
    critic = make_critic()
    target = make_target(critic)
    assert all(not param.requires_grad for param in target.parameters())
    assert all(param.requires_grad for param in critic.parameters())
    state, action = random_inputs()
    assert torch.equal(target(state, action), critic(state, action))
    with torch.no_grad():
        next(critic.parameters()).add_(1.0)
    assert not torch.equal(target(state, action), critic(state, action))


def test_polyak_update_moves_the_target_by_tau():
    source, target = make_critic(seed=0), make_target(make_critic(seed=1))
    before = [param.clone() for param in target.parameters()]
    polyak_update(target, source, tau=0.0)
    assert all(torch.equal(t, b) for t, b in zip(target.parameters(), before, strict=True))
    polyak_update(target, source, tau=0.25)
    for t, b, s in zip(target.parameters(), before, source.parameters(), strict=True):
        torch.testing.assert_close(t, 0.75 * b + 0.25 * s)
    polyak_update(target, source, tau=1.0)
    assert all(torch.equal(t, s) for t, s in zip(target.parameters(), source.parameters(), strict=True))
    assert all(not param.requires_grad for param in target.parameters())


def test_polyak_update_rejects_bad_tau_and_other_architectures():
    source = make_critic()
    with pytest.raises(ValueError, match="tau"):
        polyak_update(make_target(source), source, tau=1.5)
    with pytest.raises(ValueError, match="same parameters"):
        polyak_update(make_target(make_critic(hidden=(16,))), source, tau=0.5)
