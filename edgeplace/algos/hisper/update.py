"""The pieces of one HISPER/HASAC update that are pure functions (spec f, "One update").

Kept apart from the learner so that each is tested on hand-computed cases: the soft target
(Eq. 31), the critic loss (Eq. 32) and the order of the sequential actor updates (Eq. 33, HASAC).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
from torch import Tensor

from edgeplace.algos.hisper.settings import EntropyInTargets, TwinMin


def soft_targets(
    rewards: Tensor,
    terminated: Tensor,
    next_min_q: Tensor,
    next_log_pi: Tensor,
    *,
    gamma: float,
    alpha: float,
    entropy_in_targets: EntropyInTargets = EntropyInTargets.ALL,
) -> Tensor:
    """``y^i = r^i + gamma (1 - terminated) (min_j Qbar_j^i(s', A') - alpha lp')`` per reward part i.

    ``next_log_pi`` is the joint ``log pi(A' | o')`` (summed over agents and sub-actions). With
    ``EntropyInTargets.SPLIT`` each of the P parts carries ``alpha lp' / P``.

    Shapes:
        rewards (B, P), terminated (B,) bool or 0/1, next_min_q (B, P), next_log_pi (B,) -> (B, P)
    """
    if rewards.shape != next_min_q.shape or rewards.dim() != 2:
        raise ValueError(
            f"rewards and next_min_q must both be (B, P), got {tuple(rewards.shape)} and "
            f"{tuple(next_min_q.shape)}"
        )
    entropy = alpha * next_log_pi.unsqueeze(-1)  # (B, 1)
    if EntropyInTargets(entropy_in_targets) is EntropyInTargets.SPLIT:
        entropy = entropy / rewards.shape[-1]
    not_done = 1.0 - terminated.to(rewards.dtype).unsqueeze(-1)  # (B, 1)
    return rewards + gamma * not_done * (next_min_q - entropy)


def twin_min(q: Tensor, how: TwinMin = TwinMin.PART) -> Tensor:
    """The twins' minimum per reward part: ``min_j Q_j^i`` (``PART``), or every part of the twin with
    the lower ``sum_i Q_j^i`` (``TOTAL``; the same as ``PART`` for one part). Differentiable in ``q``.

    Shapes: q (2, B, P) -> (B, P)
    """
    if TwinMin(how) is TwinMin.PART:
        return q.amin(0)
    lower = q.sum(-1).argmin(0)  # (B,)
    return q.gather(0, lower[None, :, None].expand(1, *q.shape[1:])).squeeze(0)


def critic_loss(q: Tensor, targets: Tensor) -> Tensor:
    """``sum_j mean_b sum_i (y^i - Q_j^i)^2`` (Eq. 32). Shapes: q (2, B, P), targets (B, P) -> ()."""
    return (q - targets.unsqueeze(0)).square().sum(-1).mean(-1).sum()


def sequential_update(
    order: Sequence[int],
    joint: Tensor,
    step_agent: Callable[[int, Tensor], None],
    resample: Callable[[int], Tensor],
) -> Tensor:
    """HASAC's sequential scheme: agents in ``order`` each take their step against the current joint
    action, then their entry is replaced by a fresh sample of their updated policy, so every later
    agent's loss sees the earlier agents' updated behaviour.

    Args:
        order: A permutation of the agent indices.
        joint: The current joint action encoding (B, A, W), no gradient; updated in place and returned.
        step_agent: ``step_agent(n, joint)`` runs agent n's actor step against ``joint``.
        resample: ``resample(n)`` returns a fresh, gradient-free (B, W) encoding from agent n's policy.

    Shapes:
        joint (B, A, W) -> (B, A, W)
    """
    if sorted(order) != list(range(joint.shape[1])):
        raise ValueError(f"order must be a permutation of 0..{joint.shape[1] - 1}, got {list(order)}")
    for n in order:
        step_agent(n, joint)
        joint[:, n] = resample(n)
    return joint


def replace_agent(joint: Tensor, n: int, encoding: Tensor) -> Tensor:
    """``joint`` with agent n's entry replaced by ``encoding`` (keeps its gradient), flattened for the
    critic. Shapes: joint (B, A, W), encoding (B, W) -> (B, A W)."""
    return torch.cat([joint[:, :n], encoding.unsqueeze(1), joint[:, n + 1 :]], dim=1).flatten(1)
