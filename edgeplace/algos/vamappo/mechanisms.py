"""VAMAPPO's mechanisms as small pure functions and state objects (spec: papers/vamappo.md, e4-e8).

Each one is testable alone with hand-computed values; the learner and its connector only wire them.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import torch
from torch import Tensor


def coordinated_advantage(
    local: np.ndarray, influence: np.ndarray, weight: np.ndarray, caf_lambda: float
) -> np.ndarray:
    """Eq.13 ``A_coord = (1 - lambda) A_local + lambda * omega * A_inf``.

    Rows without a successor (the last stage, or a successor cut off by an episode chunk) carry
    ``weight = nan`` and keep ``A_local``. Shapes: all (K,) -> (K,).
    """
    has_successor = ~np.isnan(weight)
    mixed = (1.0 - caf_lambda) * local + caf_lambda * np.nan_to_num(weight) * np.nan_to_num(influence)
    return np.where(has_successor, mixed, local)


def structural_weight(successor_input_mb: np.ndarray, bandwidth_mb_s: float, tau_s: float) -> np.ndarray:
    """``omega_{a->b} = tanh(D_out^(a) / (B tau_omega))``: the one-hop transfer time of a's output,
    squashed to [0, 1). Shapes: (K,) MB -> (K,)."""
    return np.tanh(successor_input_mb / (bandwidth_mb_s * tau_s))


def normalize_per_group(values: np.ndarray, groups: np.ndarray) -> np.ndarray:
    """Standardise ``values`` within each group id (mean 0, std 1; std floored at 1e-4 like RLlib's GAE).

    Shapes: values (K,), groups (K,) int -> (K,)."""
    out = np.empty_like(values)
    for group in np.unique(groups):
        rows = groups == group
        chunk = values[rows]
        out[rows] = (chunk - chunk.mean()) / max(1e-4, chunk.std())
    return out


def enhancement_weights(advantages: np.ndarray, gamma: float, temperature: float, w_max: float) -> np.ndarray:
    """Eq.16 ``w = min(exp(gamma |A| / tau), w_max)`` (>= 1: emphasis on decisive samples). Shapes: (K,)."""
    return np.minimum(np.exp(gamma * np.abs(advantages) / temperature), w_max)


def predictive_uncertainty(samples: np.ndarray, floor: float) -> np.ndarray:
    """Eq.14 ``U = mean_T f + 0.5 Var_T f + eta_min`` over T stochastic passes. Shapes: (T, K) -> (K,)."""
    return samples.mean(axis=0) + 0.5 * samples.var(axis=0) + floor


def linear_schedule(start: float, end: float, progress: float) -> float:
    """``start`` at progress 0, ``end`` at progress >= 1, linear in between."""
    progress = min(max(progress, 0.0), 1.0)
    return start + (end - start) * progress


@dataclass
class RunningStandardizer:
    """Standardisation by an exponential moving mean and variance, updated once per iteration and
    clipped to +-``clip`` (spec e5's ẑ). The first update adopts the batch's statistics."""

    decay: float = 0.99
    clip: float = 3.0
    mean: float = 0.0
    var: float = 1.0
    initialized: bool = False

    def update(self, values: np.ndarray) -> None:
        batch_mean, batch_var = float(values.mean()), float(values.var())
        if not self.initialized:
            self.mean, self.var, self.initialized = batch_mean, batch_var, True
            return
        self.mean = self.decay * self.mean + (1.0 - self.decay) * batch_mean
        self.var = self.decay * self.var + (1.0 - self.decay) * batch_var

    def __call__(self, values: np.ndarray) -> np.ndarray:
        return np.clip((values - self.mean) / math.sqrt(max(self.var, 1e-12)), -self.clip, self.clip)


def gate(
    partial_logit: Tensor, consistency: Tensor, beta_consistency: float, low: float = 0.1, high: float = 1.0
) -> Tensor:
    """Eq.15 ``alpha = clip(sigmoid(beta0 + beta1 ẑ(U) + beta2 ẑ(Delta) + beta3 C^a), low, high)``.

    ``partial_logit`` holds the first three terms (precomputed per sample); ``consistency`` is the
    agent's gradient cosine C^a. Shapes: partial_logit (K,), consistency scalar or (K,) -> (K,).
    """
    return torch.sigmoid(partial_logit + beta_consistency * consistency).clamp(low, high)


def adaptive_clip(steps: Sequence[float], eps_min: float, eps_max: float, sensitivity: float) -> float:
    """Eq.19 ``eps = eps_min + (eps_max - eps_min) exp(-eta_eps Var)`` where Var is the squared
    coefficient of variation of the recent actor parameter steps ``||theta_k - theta_{k-1}||``
    (scale-free). Steady steps keep eps near ``eps_max``; erratic ones shrink it toward ``eps_min``."""
    values = np.asarray(steps, dtype=np.float64)
    mean = values.mean()
    squared_cv = float(values.var() / mean**2) if mean > 0 else 0.0
    return eps_min + (eps_max - eps_min) * math.exp(-sensitivity * squared_cv)


def top_k_sparsify(gradients: Tensor, ratio: float) -> Tensor:
    """Eq.18: in each row, keep the ``ceil(ratio * P)`` largest-magnitude entries and zero the rest (no
    error feedback); one call sparsifies every agent's gradient. ``ratio >= 1`` returns the input.

    Shapes: (P,) or (A, P) -> the same."""
    if ratio >= 1.0:
        return gradients
    k = max(1, math.ceil(ratio * gradients.shape[-1]))
    kept = gradients.abs().topk(k, dim=-1, sorted=False).indices
    return torch.zeros_like(gradients).scatter_(-1, kept, gradients.gather(-1, kept))


def neighbour_cosines(gradients: Tensor) -> Tensor:
    """C^a = cos(g_a, g_{a+1}) for a < A, and C^A = cos(g_A, g_{A-1}) (spec e7). Shapes: (A, P) -> (A,).

    A single agent has no neighbour: C = 0."""
    if gradients.shape[0] < 2:
        return torch.zeros(gradients.shape[0], dtype=gradients.dtype, device=gradients.device)
    forward = torch.nn.functional.cosine_similarity(gradients[:-1], gradients[1:], dim=1)  # (A-1,)
    return torch.cat([forward, forward[-1:]])


@dataclass
class ClipSchedule:
    """Adaptive clipping state (spec e8): the last ``window`` actor steps and the current eps."""

    eps_min: float = 0.1
    eps_max: float = 0.3
    window: int = 10
    sensitivity: float = 2.0
    warmup_iterations: int = 3
    initial: float = 0.2
    steps: deque = field(default_factory=deque)
    current: float = 0.2

    def record(self, step_norm: float) -> float:
        """Add one iteration's actor step; return the eps for the next iteration."""
        self.steps.append(float(step_norm))
        while len(self.steps) > self.window:
            self.steps.popleft()
        if len(self.steps) < self.warmup_iterations:
            self.current = self.initial
        else:
            self.current = adaptive_clip(list(self.steps), self.eps_min, self.eps_max, self.sensitivity)
        return self.current
