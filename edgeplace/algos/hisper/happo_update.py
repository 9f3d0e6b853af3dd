"""HAPPO's pure pieces (spec g): GAE over lockstep envs and the M-weighted clipped surrogate."""

from __future__ import annotations

import torch
from torch import Tensor


def gae(
    rewards: Tensor,
    values: Tensor,
    next_values: Tensor,
    terminated: Tensor,
    episode_end: Tensor,
    *,
    gamma: float,
    lam: float,
) -> tuple[Tensor, Tensor]:
    """Generalised advantage estimation over T steps of E envs.

    ``next_values`` is V of each step's own next state (bootstrapped unless ``terminated``: a truncated
    episode still bootstraps from its final observation); the recursion is cut where an episode ends
    (``episode_end``: terminated or truncated), so it never crosses into the next episode.

    Shapes:
        rewards, values, next_values, terminated, episode_end (T, E) -> advantages, returns (T, E)
    """
    not_terminated = 1.0 - terminated.to(rewards.dtype)
    continues = 1.0 - episode_end.to(rewards.dtype)
    deltas = rewards + gamma * next_values * not_terminated - values  # (T, E)
    advantages = torch.zeros_like(rewards)
    running = torch.zeros_like(rewards[0])
    for t in range(rewards.shape[0] - 1, -1, -1):
        running = deltas[t] + gamma * lam * continues[t] * running
        advantages[t] = running
    return advantages, advantages + values


def happo_surrogate(
    log_pi: Tensor, old_log_pi: Tensor, factor: Tensor, advantages: Tensor, clip: float
) -> Tensor:
    """``-mean[min(rho M A, clip(rho, 1 - c, 1 + c) M A)]`` with ``rho = pi / pi_old`` (joint over the
    sub-actions) and M the product of the earlier agents' ratios.

    Shapes: log_pi, old_log_pi, factor, advantages (B,) -> ()
    """
    ratio = (log_pi - old_log_pi).exp()
    weighted = factor * advantages
    return -torch.min(ratio * weighted, ratio.clamp(1.0 - clip, 1.0 + clip) * weighted).mean()
