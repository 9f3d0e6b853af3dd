"""Running normalisation of value targets (HARL's ValueNorm), for on-policy critics."""

from __future__ import annotations

import torch
from torch import Tensor, nn


class ValueNorm(nn.Module):
    """Debiased exponential running mean and mean square of the targets; ``normalize`` maps targets to
    the critic's scale and ``denormalize`` maps the critic's outputs back.

    With ``beta`` close to 1 the statistics are (almost) the average over every batch seen so far; the
    debiasing term corrects the zero start. The variance is floored at ``min_var``.

    Shapes: any (...) -> (...)
    """

    def __init__(self, beta: float = 0.99999, epsilon: float = 1e-5, min_var: float = 1e-2) -> None:
        super().__init__()
        if not 0.0 < beta < 1.0:
            raise ValueError(f"beta must be in (0, 1), got {beta}")
        self.beta, self.epsilon, self.min_var = beta, epsilon, min_var
        self.register_buffer("running_mean", torch.zeros((), dtype=torch.float64))
        self.register_buffer("running_mean_sq", torch.zeros((), dtype=torch.float64))
        self.register_buffer("debiasing_term", torch.zeros((), dtype=torch.float64))

    def mean_var(self) -> tuple[Tensor, Tensor]:
        """Debiased mean and variance (float64 scalars)."""
        debias = self.debiasing_term.clamp(min=self.epsilon)
        mean = self.running_mean / debias
        var = (self.running_mean_sq / debias - mean.square()).clamp(min=self.min_var)
        return mean, var

    @torch.no_grad()
    def update(self, targets: Tensor) -> None:
        """Fold a batch of targets into the running statistics."""
        x = targets.detach().to(torch.float64)
        self.running_mean.mul_(self.beta).add_(x.mean() * (1.0 - self.beta))
        self.running_mean_sq.mul_(self.beta).add_(x.square().mean() * (1.0 - self.beta))
        self.debiasing_term.mul_(self.beta).add_(1.0 - self.beta)

    def normalize(self, x: Tensor) -> Tensor:
        mean, var = self.mean_var()
        return ((x - mean) / var.sqrt()).to(x.dtype)

    def denormalize(self, x: Tensor) -> Tensor:
        mean, var = self.mean_var()
        return (x * var.sqrt() + mean).to(x.dtype)
