import math

import pytest
import torch
import torch.nn.functional as F

from edgeplace.models.autoregressive_head import (
    ActionMode,
    AutoregressiveHead,
    SubActionHead,
    grouped_evaluate,
    grouped_forward,
)
from edgeplace.models.factorised_head import FactorisedHead
from edgeplace.models.item_scoring_head import MASKED_LOGIT

B, D, HIDDEN = 6, 8, 10
SIZES = (5, 3, 4)
HEAD_CLASSES = [AutoregressiveHead, FactorisedHead]


def make_head(cls: type[SubActionHead], sizes: tuple[int, ...] = SIZES, seed: int = 0) -> SubActionHead:
    torch.manual_seed(seed)
    return cls(D, sizes, HIDDEN) if cls is AutoregressiveHead else cls(D, sizes)


def make_state(batch: int = B, seed: int = 1) -> torch.Tensor:
    return torch.randn(batch, D, generator=torch.Generator().manual_seed(seed))


def sharpen(head: SubActionHead, scale: float = 300.0) -> SubActionHead:
    """Scale the logit layers up so that the policy is far from uniform (the init is near-uniform)."""
    layers = head.heads if isinstance(head, AutoregressiveHead) else [head.logits]
    with torch.no_grad():
        for layer in layers:
            layer.weight.mul_(scale)
    return head


def reference_log_prob(head: AutoregressiveHead, state: torch.Tensor, actions: torch.Tensor) -> torch.Tensor:
    """HISPER f written plainly: nn.LSTMCell on x_k = [z, p_{k-1}, e_{k-1}] zero-padded to P."""
    pad = max(head.sizes)
    h = c = torch.zeros(state.shape[0], HIDDEN)
    probs = one_hot = torch.zeros(state.shape[0], pad)
    total = torch.zeros(state.shape[0])
    for k, size in enumerate(head.sizes):
        h, c = head.cell(torch.cat([state, probs, one_hot], dim=-1), (h, c))
        log_probs = torch.log_softmax(head.heads[k](h), dim=-1)
        total = total + log_probs.gather(-1, actions[:, k : k + 1]).squeeze(-1)
        probs = F.pad(log_probs.exp(), (0, pad - size))
        one_hot = F.pad(F.one_hot(actions[:, k], size).float(), (0, pad - size))
    return total


@pytest.mark.parametrize("cls", HEAD_CLASSES)
@pytest.mark.parametrize("mode", list(ActionMode))
def test_output_shapes(cls, mode):
    out = make_head(cls)(make_state(), mode=mode)
    assert out.actions.shape == (B, len(SIZES)) and out.actions.dtype == torch.int64
    assert out.log_pi.shape == (B,) and out.entropy().shape == (B,)
    for parts in (out.one_hots, out.probs, out.log_probs):
        assert [tuple(part.shape) for part in parts] == [(B, size) for size in SIZES]
    for k, size in enumerate(SIZES):
        assert ((out.actions[:, k] >= 0) & (out.actions[:, k] < size)).all()


@pytest.mark.parametrize("cls", HEAD_CLASSES)
@pytest.mark.parametrize("mode", list(ActionMode))
def test_log_pi_equals_teacher_forced_log_prob_of_the_chosen_actions(cls, mode):
    head, state = sharpen(make_head(cls)), make_state()
    out = head(state, mode=mode)
    torch.testing.assert_close(out.log_pi, head.log_prob(state, out.actions))
    per_head = [lp.gather(-1, out.actions[:, k : k + 1]).squeeze(-1) for k, lp in enumerate(out.log_probs)]
    torch.testing.assert_close(out.log_pi, torch.stack(per_head).sum(0))


def test_teacher_forced_log_prob_matches_a_plain_lstm_cell_unroll():
    head, state = sharpen(make_head(AutoregressiveHead)), make_state()
    torch.nn.init.normal_(head.cell.bias_ih)  # non-zero biases, so their sum is exercised too
    actions = head(state).actions
    torch.testing.assert_close(head.log_prob(state, actions), reference_log_prob(head, state, actions))


def test_hand_computed_factorised_probabilities_and_entropy():
    head = FactorisedHead(1, (2, 3))
    with torch.no_grad():
        head.logits.weight.zero_()
        head.logits.bias.copy_(torch.tensor([0.0, math.log(3.0), 0.0, 0.0, math.log(2.0)]))
    state, actions = torch.zeros(1, 1), torch.tensor([[1, 2]])
    out = head.evaluate(state, actions)
    torch.testing.assert_close(out.probs[0], torch.tensor([[0.25, 0.75]]))
    torch.testing.assert_close(out.probs[1], torch.tensor([[0.25, 0.25, 0.5]]))
    torch.testing.assert_close(out.log_pi, torch.tensor([math.log(0.75 * 0.5)]))
    expected_entropy = -(0.25 * math.log(0.25) + 0.75 * math.log(0.75)) + 1.5 * math.log(2.0)
    torch.testing.assert_close(out.entropy(), torch.tensor([expected_entropy]))


def test_samples_follow_the_head_distribution():
    head = FactorisedHead(1, (2, 3))
    with torch.no_grad():
        head.logits.weight.zero_()
        head.logits.bias.copy_(torch.tensor([0.0, math.log(3.0), 0.0, 0.0, math.log(2.0)]))
    state = torch.zeros(20_000, 1)
    out = head(state, generator=torch.Generator().manual_seed(0))
    torch.testing.assert_close(
        torch.bincount(out.actions[:, 0], minlength=2) / 20_000,
        torch.tensor([0.25, 0.75]),
        atol=0.015,
        rtol=0,
    )
    torch.testing.assert_close(
        torch.bincount(out.actions[:, 1], minlength=3) / 20_000,
        torch.tensor([0.25, 0.25, 0.5]),
        atol=0.015,
        rtol=0,
    )


@pytest.mark.parametrize("cls", HEAD_CLASSES)
def test_same_generator_seed_same_samples(cls):
    head, state = make_head(cls), make_state(batch=64)
    first = head(state, generator=torch.Generator().manual_seed(3)).actions
    second = head(state, generator=torch.Generator().manual_seed(3)).actions
    other = head(state, generator=torch.Generator().manual_seed(4)).actions
    assert torch.equal(first, second) and not torch.equal(first, other)


@pytest.mark.parametrize("cls", HEAD_CLASSES)
def test_argmax_is_deterministic_and_greedy_given_its_own_choices(cls):
    head, state = sharpen(make_head(cls)), make_state(batch=32)
    torch.manual_seed(0)
    first = head(state, mode=ActionMode.ARGMAX)
    torch.manual_seed(1)
    second = head(state, mode=ActionMode.ARGMAX)
    assert torch.equal(first.actions, second.actions)
    forced = head.evaluate(state, first.actions)
    for k in range(len(SIZES)):
        assert torch.equal(forced.probs[k].argmax(-1), first.actions[:, k])


def test_autoregressive_head_conditions_on_earlier_choices():
    head, state = sharpen(make_head(AutoregressiveHead)), make_state()
    actions = torch.zeros(B, 3, dtype=torch.int64)
    changed = actions.clone()
    changed[:, 0] = 1
    first, second = head.evaluate(state, actions), head.evaluate(state, changed)
    torch.testing.assert_close(first.probs[0], second.probs[0])
    assert not torch.allclose(first.probs[1], second.probs[1])
    assert not torch.allclose(first.probs[2], second.probs[2])


def test_factorised_head_ignores_earlier_choices_and_its_log_prob_factorises():
    head, state = sharpen(make_head(FactorisedHead)), make_state()
    actions = torch.zeros(B, 3, dtype=torch.int64)
    changed = actions.clone()
    changed[:, 0] = 1
    first, second = head.evaluate(state, actions), head.evaluate(state, changed)
    for k in (1, 2):
        torch.testing.assert_close(first.probs[k], second.probs[k])
    logits = head.logits(state).split(SIZES, dim=-1)
    expected = sum(
        torch.log_softmax(part, -1).gather(-1, changed[:, k : k + 1]).squeeze(-1)
        for k, part in enumerate(logits)
    )
    torch.testing.assert_close(head.log_prob(state, changed), expected)


@pytest.mark.parametrize("cls", HEAD_CLASSES)
def test_gumbel_actions_are_one_hot_forward_and_carry_gradients(cls):
    head, state = make_head(cls), make_state()
    out = head(state, mode=ActionMode.GUMBEL)
    for k, one_hot in enumerate(out.one_hots):
        assert torch.equal(one_hot, F.one_hot(out.actions[:, k], SIZES[k]).float())
        assert one_hot.requires_grad
    # A loss on the last sub-action only: through the straight-through feedback it reaches every layer
    # of the autoregressive head, while the factorised head's earlier logits get no gradient from it.
    weights = torch.randn(B, SIZES[-1], generator=torch.Generator().manual_seed(5))
    (out.one_hots[-1] * weights).sum().backward()
    grads = {name: param.grad for name, param in head.named_parameters()}
    if cls is AutoregressiveHead:
        assert all(grad is not None and grad.abs().sum() > 0 for grad in grads.values())
    else:
        weight_grad = grads["logits.weight"]
        assert weight_grad[-SIZES[-1] :].abs().sum() > 0
        assert (weight_grad[: -SIZES[-1]] == 0).all()


def test_sampled_one_hots_carry_no_gradient():
    out = make_head(AutoregressiveHead)(make_state(), mode=ActionMode.SAMPLE)
    assert not any(one_hot.requires_grad for one_hot in out.one_hots)
    assert out.log_pi.requires_grad


@pytest.mark.parametrize("cls", HEAD_CLASSES)
@pytest.mark.parametrize("mode", list(ActionMode))
def test_masked_slots_are_never_chosen(cls, mode):
    head, batch = make_head(cls), 2_000
    state = make_state(batch=batch)
    gen = torch.Generator().manual_seed(7)
    server_mask = torch.arange(SIZES[2]) < 3  # (n_3,) a topology with 3 of 4 padded servers
    config_mask = torch.rand(batch, SIZES[0], generator=gen) < 0.5
    config_mask[:, 0] = True
    masks = [config_mask, None, server_mask]
    out = head(state, masks, mode=mode, generator=gen)
    assert config_mask.gather(1, out.actions[:, :1]).all()
    assert (out.actions[:, 2] < 3).all()
    assert (out.probs[0][~config_mask] == 0).all() and (out.probs[2][:, 3] == 0).all()
    assert (out.log_probs[2][:, 3] < MASKED_LOGIT / 2).all()
    assert torch.isfinite(out.log_pi).all() and torch.isfinite(out.entropy()).all()
    (out.log_pi.sum() - out.entropy().sum() + sum(one_hot.sum() for one_hot in out.one_hots)).backward()
    assert all(torch.isfinite(param.grad).all() for param in head.parameters())


@pytest.mark.parametrize("cls", HEAD_CLASSES)
def test_grouped_heads_match_one_call_per_head(cls):
    heads = [make_head(cls, seed=seed) for seed in range(3)]
    state = torch.randn(3, B, D, generator=torch.Generator().manual_seed(2))
    grouped = grouped_forward(heads, state, mode=ActionMode.ARGMAX)
    assert grouped.actions.shape == (3, B, len(SIZES)) and grouped.log_pi.shape == (3, B)
    forced = grouped_evaluate(heads, state, grouped.actions)
    for g, head in enumerate(heads):
        single = head(state[g], mode=ActionMode.ARGMAX)
        assert torch.equal(grouped.actions[g], single.actions)
        torch.testing.assert_close(grouped.log_pi[g], single.log_pi)
        torch.testing.assert_close(forced.log_pi[g], head.log_prob(state[g], single.actions))
    grouped.log_pi.sum().backward()
    assert all(param.grad is not None for head in heads for param in head.parameters())


def test_grouping_rejects_heads_of_other_sizes_or_class():
    state = torch.randn(2, B, D)
    with pytest.raises(ValueError, match=r"heads\[1\]"):
        grouped_forward([make_head(AutoregressiveHead), make_head(AutoregressiveHead, (5, 2, 4))], state)
    with pytest.raises(ValueError, match=r"heads\[1\]"):
        grouped_forward([make_head(AutoregressiveHead), make_head(FactorisedHead)], state)
    with pytest.raises(ValueError, match="G=2"):
        grouped_forward([make_head(AutoregressiveHead)] * 2, torch.randn(3, B, D))


@pytest.mark.parametrize("cls", HEAD_CLASSES)
def test_bad_input_raises_naming_the_field(cls):
    head, state = make_head(cls), make_state()
    with pytest.raises(ValueError, match="state"):
        head(torch.randn(B, D + 1))
    with pytest.raises(ValueError, match="actions out of range"):
        head.log_prob(state, torch.full((B, 3), 4, dtype=torch.int64))
    with pytest.raises(ValueError, match="actions must be int64"):
        head.log_prob(state, torch.zeros(B, 2, dtype=torch.int64))
    with pytest.raises(ValueError, match=r"masks\[1\] forbids every slot"):
        head(state, [None, torch.zeros(SIZES[1], dtype=torch.bool), None])
    with pytest.raises(ValueError, match=r"masks\[2\] must be bool"):
        head(state, [None, None, torch.ones(B, SIZES[2])])
    with pytest.raises(ValueError, match="temperature"):
        head(state, mode=ActionMode.GUMBEL, temperature=0.0)
    with pytest.raises(ValueError, match="sizes"):
        cls(D, ())
