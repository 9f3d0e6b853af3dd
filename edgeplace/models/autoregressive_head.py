"""Policy heads over a tuple of categorical sub-actions: the shared interface and the autoregressive
LSTM head (HISPER f). The factorised counterpart lives in ``factorised_head.py``.

An action is a tuple of K sub-actions with native sizes ``sizes = (n_1, ..., n_K)`` (HISPER: (16, 4, 16)
for OD, (16, 3, 16) for MOT: configuration, model, server). Every head offers the same paths, so an
algorithm switches heads by config:

- ``forward(state, masks, mode=...)``: ``ActionMode.SAMPLE`` (acting, targets), ``ActionMode.ARGMAX``
  (evaluation) or ``ActionMode.GUMBEL`` (straight-through Gumbel-Softmax, differentiable actions for
  SAC's actor loss);
- ``evaluate(state, actions, masks)`` / ``log_prob(...)``: teacher-forced, for actions from a buffer.

Several agents in one call: HISPER has one actor per agent (no parameter sharing), and its sequential
actor update takes one Adam step per agent, so agents keep separate modules, parameters and optimiser
states. ``grouped_forward`` / ``grouped_evaluate`` run G such heads (same class and sizes) in one pass by
stacking their weights along a leading group dimension and using ``torch.bmm``. Stacking copies the
weights on every call (under 1 MB per agent at paper sizes, small next to a batch of 1000) and is
differentiable, so each agent's gradient still reaches its own parameters. Stacking agents along the
batch dimension would need shared weights, which HISPER does not have; ``torch.vmap`` over
``functional_call`` gives the same result with more machinery. On 2 CPU cores, grouping four heads is
about even at B = 1000 (compute-bound) and about 1.5-2x faster at acting sizes (B = 20), where the
per-op overhead of K steps x G heads dominates; on a GPU it cuts kernel launches by G (not measured).
"""

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from edgeplace.models.item_scoring_head import MASKED_LOGIT

POLICY_INIT_GAIN = 0.01
"""Orthogonal gain of the logit layers, so the initial policy is near-uniform (HARL's default)."""


class ActionMode(StrEnum):
    """How a head picks each sub-action."""

    SAMPLE = "sample"
    """A categorical sample (Gumbel-max); the one-hot fed to later steps is hard."""
    ARGMAX = "argmax"
    """The most likely sub-action at each step, given the head's own earlier choices (deterministic)."""
    GUMBEL = "gumbel"
    """Straight-through Gumbel-Softmax: the sample is a hard one-hot in the forward pass and carries the
    gradient of the tempered softmax; later steps are fed that one-hot, so gradients reach earlier heads."""


class HeadOutput(NamedTuple):
    """The chosen sub-actions of a batch and the per-head distributions they were drawn from.

    ``log_pi`` is ``sum_k log pi_k(a_k | earlier choices)``. In GUMBEL mode it is computed as
    ``sum_k <one_hot_k, log_probs_k>``: the same value, plus the straight-through path to the actions.

    Shapes (``*`` is (B,) for one head, (G, B) for a group of heads):
        actions (*, K) int64; log_pi (*,); one_hots, probs, log_probs: K tensors (*, n_k). Masked slots
        have probability 0 and a log-probability near MASKED_LOGIT.
    """

    actions: Tensor
    log_pi: Tensor
    one_hots: tuple[Tensor, ...]
    """Chosen sub-actions as one-hots (straight-through in GUMBEL mode): the critic's action input."""
    probs: tuple[Tensor, ...]
    log_probs: tuple[Tensor, ...]

    def entropy(self) -> Tensor:
        """``sum_k H(pi_k(. | earlier choices))`` (*,): for the autoregressive head, an unbiased estimate
        of the joint entropy (chain rule) given the sampled prefixes; exact for the factorised head.
        """
        return -sum((p * lp).sum(-1) for p, lp in zip(self.probs, self.log_probs, strict=True))


@dataclass(frozen=True)
class Choice:
    """How ``SubActionHead._choose`` picks each sub-action: by ``mode``, or the given ``actions`` (*, K)
    (teacher forcing) when they are not None. Passed through a subclass's ``_decode``.
    """

    mode: ActionMode = ActionMode.SAMPLE
    actions: Tensor | None = None
    temperature: float = 1.0
    generator: torch.Generator | None = None


class _Step(NamedTuple):
    action: Tensor  # (*,) int64
    one_hot: Tensor  # (*, n_k)
    probs: Tensor  # (*, n_k)
    log_probs: Tensor  # (*, n_k)
    log_pi: Tensor  # (*,)


def grouped_linear(x: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """``F.linear`` for one weight, or one Linear per group member for stacked weights.

    Shapes:
        x (*, F_in), weight (F_out, F_in), bias (F_out,) -> (*, F_out); or
        x (G, B, F_in), weight (G, F_out, F_in), bias (G, F_out) -> (G, B, F_out)
    """
    if weight.dim() == 2:
        return F.linear(x, weight, bias)
    if bias is None:
        return torch.bmm(x, weight.transpose(1, 2))
    return torch.baddbmm(bias.unsqueeze(1), x, weight.transpose(1, 2))


class SubActionHead(nn.Module, ABC):
    """Interface of a policy head over K categorical sub-actions, read from a state embedding.

    Subclasses build their layers, then implement ``_weights`` (the tensors ``_decode`` needs, in a
    fixed order, so that a group of heads can stack them) and ``_decode`` (logits of each step, each
    passed to ``_choose``).

    Args:
        state_dim: Width D of the state embedding.
        sizes: Native size n_k of each sub-action, in decision order.

    Shapes:
        state (B, D); masks: None or K entries, each None or bool broadcastable to (B, n_k), True =
        allowed; actions (B, K) int64 -> HeadOutput (see there); log_prob -> (B,)
    """

    def __init__(self, state_dim: int, sizes: Sequence[int]) -> None:
        super().__init__()
        if state_dim <= 0:
            raise ValueError(f"state_dim must be positive, got {state_dim}")
        if not sizes or any(int(size) < 1 for size in sizes):
            raise ValueError(f"sizes must be a non-empty sequence of positive ints, got {sizes!r}")
        self.state_dim = state_dim
        self.sizes = tuple(int(size) for size in sizes)

    def forward(
        self,
        state: Tensor,
        masks: Sequence[Tensor | None] | None = None,
        *,
        mode: ActionMode = ActionMode.SAMPLE,
        temperature: float = 1.0,
        generator: torch.Generator | None = None,
    ) -> HeadOutput:
        """Pick every sub-action by ``mode``; ``temperature`` only affects the GUMBEL gradient, and
        ``generator`` (default: torch's global one) drives SAMPLE and GUMBEL.
        """
        if temperature <= 0:
            raise ValueError(f"temperature must be positive, got {temperature}")
        self._check_state(state)
        choice = Choice(ActionMode(mode), None, temperature, generator)
        return self._decode(self._weights(), state, self._checked_masks(masks), choice)

    def evaluate(
        self, state: Tensor, actions: Tensor, masks: Sequence[Tensor | None] | None = None
    ) -> HeadOutput:
        """Teacher-forced pass: the given ``actions`` (B, K) are fed to later steps."""
        self._check_state(state)
        self._check_actions(actions, state.shape[:-1])
        return self._decode(self._weights(), state, self._checked_masks(masks), Choice(actions=actions))

    def log_prob(
        self, state: Tensor, actions: Tensor, masks: Sequence[Tensor | None] | None = None
    ) -> Tensor:
        """``log pi(actions | state)`` (B,), summed over the sub-actions."""
        return self.evaluate(state, actions, masks).log_pi

    @abstractmethod
    def _weights(self) -> tuple[Tensor, ...]:
        """The tensors ``_decode`` reads, in a fixed order (stacked along dim 0 for a group)."""

    @abstractmethod
    def _decode(
        self, weights: tuple[Tensor, ...], state: Tensor, masks: list[Tensor | None], choice: Choice
    ) -> HeadOutput:
        """All K steps from ``weights`` (one head's or a group's, see ``grouped_linear``)."""

    def _choose(self, k: int, logits: Tensor, masks: list[Tensor | None], choice: Choice) -> _Step:
        """Mask step ``k``'s logits (*, n_k) and pick its sub-action."""
        if masks[k] is not None:
            logits = logits.masked_fill(~masks[k], MASKED_LOGIT)
        log_probs = torch.log_softmax(logits, dim=-1)  # (*, n_k)
        probs = log_probs.exp()
        if choice.actions is not None:
            action = choice.actions[..., k]
        elif choice.mode is ActionMode.ARGMAX:
            action = logits.argmax(dim=-1)
        else:
            # Gumbel-max: argmax(logits + G) is a categorical sample; Exp(1) draws are kept above 0
            # so that no Gumbel noise is infinite (a masked slot could otherwise win).
            exponential = torch.empty_like(logits).exponential_(generator=choice.generator)
            perturbed = logits - exponential.clamp_(min=torch.finfo(logits.dtype).tiny).log()
            action = perturbed.argmax(dim=-1)
        one_hot = F.one_hot(action, logits.shape[-1]).to(logits.dtype)  # (*, n_k)
        if choice.actions is None and choice.mode is ActionMode.GUMBEL:
            soft = torch.softmax(perturbed / choice.temperature, dim=-1)
            one_hot = one_hot + (soft - soft.detach())  # exactly one-hot forward, softmax gradient
            log_pi = (one_hot * log_probs).sum(-1)
        else:
            log_pi = log_probs.gather(-1, action.unsqueeze(-1)).squeeze(-1)
        return _Step(action, one_hot, probs, log_probs, log_pi)

    @staticmethod
    def _output(steps: list[_Step]) -> HeadOutput:
        return HeadOutput(
            actions=torch.stack([step.action for step in steps], dim=-1),  # (*, K)
            log_pi=torch.stack([step.log_pi for step in steps], dim=-1).sum(-1),  # (*,)
            one_hots=tuple(step.one_hot for step in steps),
            probs=tuple(step.probs for step in steps),
            log_probs=tuple(step.log_probs for step in steps),
        )

    def _check_state(self, state: Tensor) -> None:
        if state.dim() < 2 or state.shape[-1] != self.state_dim:
            raise ValueError(
                f"state must be (B, {self.state_dim}) (or (G, B, {self.state_dim}) for a group), "
                f"got {tuple(state.shape)}"
            )

    def _check_actions(self, actions: Tensor, batch_shape: torch.Size) -> None:
        expected = (*batch_shape, len(self.sizes))
        if actions.shape != expected or actions.dtype != torch.int64:
            raise ValueError(f"actions must be int64 {expected}, got {actions.dtype} {tuple(actions.shape)}")
        sizes = torch.tensor(self.sizes, device=actions.device)
        if bool(((actions < 0) | (actions >= sizes)).any()):
            raise ValueError(f"actions out of range: sub-action k must lie in [0, {self.sizes}[k])")

    def _checked_masks(self, masks: Sequence[Tensor | None] | None) -> list[Tensor | None]:
        if masks is None:
            return [None] * len(self.sizes)
        if len(masks) != len(self.sizes):
            raise ValueError(
                f"masks must have one entry per sub-action ({len(self.sizes)}), got {len(masks)}"
            )
        for k, (mask, size) in enumerate(zip(masks, self.sizes, strict=True)):
            if mask is None:
                continue
            if mask.dtype != torch.bool or mask.shape[-1] != size:
                raise ValueError(
                    f"masks[{k}] must be bool (..., {size}), got {mask.dtype} {tuple(mask.shape)}"
                )
            if not bool(mask.any(-1).all()):
                raise ValueError(f"masks[{k}] forbids every slot of some row")
        return list(masks)


class AutoregressiveHead(SubActionHead):
    """One LSTM cell unrolled over the K sub-actions; step k picks sub-action k given the earlier ones.

    Step k's input is ``x_k = [z, p_{k-1}, e_{k-1}]``: the state embedding, the previous step's
    probabilities and the one-hot of its chosen sub-action, both zero-padded to ``P = max(sizes)``;
    ``p_0 = e_0 = h_0 = c_0 = 0``. Logits ``l_k = W_k h_k + b_k`` have the native size n_k; masked slots
    get MASKED_LOGIT. The cell is ``nn.LSTMCell(D + 2P, hidden)``, evaluated by hand so that the ``z``
    part of its input projection (the same at every step) is computed once; the result equals the cell's
    own forward on ``x_k``.

    Args:
        state_dim: Width D of the state embedding z.
        sizes: Native size n_k of each sub-action, in decision order.
        hidden: LSTM hidden width H.

    Shapes:
        as :class:`SubActionHead`
    """

    def __init__(self, state_dim: int, sizes: Sequence[int], hidden: int = 128) -> None:
        super().__init__(state_dim, sizes)
        if hidden <= 0:
            raise ValueError(f"hidden must be positive, got {hidden}")
        self.padded_size = max(self.sizes)
        self.cell = nn.LSTMCell(state_dim + 2 * self.padded_size, hidden)
        self.heads = nn.ModuleList(nn.Linear(hidden, size) for size in self.sizes)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """HARL's init: orthogonal LSTM weights and zero biases; logit layers orthogonal, gain 0.01."""
        for name, param in self.cell.named_parameters():
            (nn.init.zeros_ if name.startswith("bias") else nn.init.orthogonal_)(param)
        for head in self.heads:
            nn.init.orthogonal_(head.weight, gain=POLICY_INIT_GAIN)
            nn.init.zeros_(head.bias)

    def _weights(self) -> tuple[Tensor, ...]:
        weight_ih = self.cell.weight_ih  # (4H, D + 2P), gate rows i, f, g, o
        recurrent = torch.cat([weight_ih[:, self.state_dim :], self.cell.weight_hh], dim=1)  # (4H, 2P + H)
        bias = self.cell.bias_ih + self.cell.bias_hh  # (4H,)
        heads = [tensor for head in self.heads for tensor in (head.weight, head.bias)]
        return (weight_ih[:, : self.state_dim], recurrent, bias, *heads)

    def _decode(
        self, weights: tuple[Tensor, ...], state: Tensor, masks: list[Tensor | None], choice: Choice
    ) -> HeadOutput:
        state_weight, recurrent_weight, bias, *head_params = weights
        state_gates = grouped_linear(state, state_weight, bias)  # (*, 4H), shared by all steps
        steps: list[_Step] = []
        h = c = None
        for k in range(len(self.sizes)):
            gates = state_gates  # at k = 0, p, e and h are zero
            if steps:
                pad = (0, self.padded_size - self.sizes[k - 1])
                x = torch.cat([F.pad(steps[-1].probs, pad), F.pad(steps[-1].one_hot, pad), h], dim=-1)
                gates = gates + grouped_linear(x, recurrent_weight)  # (*, 4H)
            in_gate, forget_gate, cell_gate, out_gate = gates.chunk(4, dim=-1)  # (*, H) each
            c_new = torch.sigmoid(in_gate) * torch.tanh(cell_gate)
            c = c_new if c is None else torch.sigmoid(forget_gate) * c + c_new
            h = torch.sigmoid(out_gate) * torch.tanh(c)  # (*, H)
            logits = grouped_linear(h, head_params[2 * k], head_params[2 * k + 1])  # (*, n_k)
            steps.append(self._choose(k, logits, masks, choice))
        return self._output(steps)


def _stacked_weights(heads: Sequence[SubActionHead], state: Tensor) -> tuple[Tensor, ...]:
    """The heads' ``_weights`` stacked along a new dim 0, after checking that they can be grouped."""
    if not heads:
        raise ValueError("heads must not be empty")
    first = heads[0]
    for index, head in enumerate(heads):
        if type(head) is not type(first) or head.sizes != first.sizes or head.state_dim != first.state_dim:
            raise ValueError(
                f"heads[{index}] ({type(head).__name__}, sizes {head.sizes}) cannot be grouped with heads[0] "
                f"({type(first).__name__}, sizes {first.sizes}): class, sizes and state_dim must match"
            )
    if state.dim() != 3 or state.shape[0] != len(heads):
        raise ValueError(f"state must be (G={len(heads)}, B, D) for a group, got {tuple(state.shape)}")
    first._check_state(state)
    per_head = [head._weights() for head in heads]
    if any(w.shape != v.shape for weights in per_head for w, v in zip(weights, per_head[0], strict=True)):
        raise ValueError("heads have different layer widths and cannot be grouped")
    return tuple(torch.stack(parts) for parts in zip(*per_head, strict=True))


def grouped_forward(
    heads: Sequence[SubActionHead],
    state: Tensor,
    masks: Sequence[Tensor | None] | None = None,
    *,
    mode: ActionMode = ActionMode.SAMPLE,
    temperature: float = 1.0,
    generator: torch.Generator | None = None,
) -> HeadOutput:
    """``forward`` of G heads (same class, sizes and widths, separate weights) in one batched pass.

    Shapes:
        state (G, B, D); masks entries broadcastable to (G, B, n_k) -> HeadOutput with * = (G, B)
    """
    if temperature <= 0:
        raise ValueError(f"temperature must be positive, got {temperature}")
    weights = _stacked_weights(heads, state)
    choice = Choice(ActionMode(mode), None, temperature, generator)
    return heads[0]._decode(weights, state, heads[0]._checked_masks(masks), choice)


def grouped_evaluate(
    heads: Sequence[SubActionHead],
    state: Tensor,
    actions: Tensor,
    masks: Sequence[Tensor | None] | None = None,
) -> HeadOutput:
    """``evaluate`` of G heads in one batched pass.

    Shapes:
        state (G, B, D), actions (G, B, K) int64 -> HeadOutput with * = (G, B)
    """
    weights = _stacked_weights(heads, state)
    heads[0]._check_actions(actions, state.shape[:-1])
    return heads[0]._decode(weights, state, heads[0]._checked_masks(masks), Choice(actions=actions))
