"""A MultiDiscrete action distribution whose sub-actions come in groups of equal width, each group one
batched categorical: a placement over S slots of O options and a routing over E edges of 7 patterns
are two tensor ops, not S + E ``torch.distributions.Categorical`` objects (RLlib's
``TorchMultiCategorical`` builds one per sub-action, ~80 per agent on metaverse-dag).

The flat logits are the groups' logits one after another, each group row-major: ``(..., G_1 * W_1 +
G_2 * W_2 + ...)``, the MultiDiscrete ``nvec`` order ``[W_1] * G_1 + [W_2] * G_2 + ...``. Masked values
carry ``MASKED_LOGIT`` (-1e9): probability exactly 0 after the softmax, finite log-probabilities.
Sampling is Gumbel-max (exact categorical draws).
"""

from __future__ import annotations

from collections.abc import Sequence

import gymnasium as gym
import torch
from ray.rllib.core.distribution.distribution import Distribution
from ray.rllib.core.distribution.torch.torch_distribution import TorchDeterministic, TorchDistribution
from ray.rllib.utils.annotations import override
from torch import Tensor

#: A group: (sub-actions G, width W).
Group = tuple[int, int]


def split_groups(flat: Tensor, groups: Sequence[Group]) -> list[Tensor]:
    """The groups' logits as (..., G, W) views. Shapes: (..., sum(G * W)) -> [(..., G_i, W_i)]."""
    sizes = [g * w for g, w in groups]
    if flat.shape[-1] != sum(sizes):
        raise ValueError(
            f"GroupedCategorical: expected {sum(sizes)} logits for {list(groups)}, got {flat.shape[-1]}"
        )
    parts = torch.split(flat, sizes, dim=-1)
    return [part.unflatten(-1, (g, w)) for part, (g, w) in zip(parts, groups, strict=True)]


class GroupedCategorical(TorchDistribution):
    """See the module docstring.

    Args:
        logits: the flat logits.
        groups: (G_i, W_i) per group, in action order.

    Shapes:
        logits (..., sum(G * W)); actions (..., sum(G)) int64; logp, entropy, kl -> (...).
    """

    def __init__(self, logits: Tensor, groups: Sequence[Group]) -> None:
        self.groups = tuple((int(g), int(w)) for g, w in groups)
        self.logits = logits
        self.log_probs = [torch.log_softmax(part, dim=-1) for part in split_groups(logits, self.groups)]
        super().__init__(logits=logits)

    @override(TorchDistribution)
    def _get_torch_distribution(self, logits: Tensor) -> None:
        return None  # every method below works on the groups directly

    @override(TorchDistribution)
    def logp(self, value: Tensor, **kwargs) -> Tensor:
        actions = torch.split(value.long(), [g for g, _ in self.groups], dim=-1)
        return sum(
            lp.gather(-1, a.unsqueeze(-1)).squeeze(-1).sum(-1)
            for lp, a in zip(self.log_probs, actions, strict=True)
        )

    @override(TorchDistribution)
    def entropy(self) -> Tensor:
        return sum(-(lp.exp() * lp).sum(dim=(-2, -1)) for lp in self.log_probs)

    @override(TorchDistribution)
    def kl(self, other: Distribution) -> Tensor:
        if not isinstance(other, GroupedCategorical) or other.groups != self.groups:
            raise TypeError(f"GroupedCategorical.kl: other is a {type(other).__name__} of other groups")
        return sum(
            (lp.exp() * (lp - lq)).sum(dim=(-2, -1))
            for lp, lq in zip(self.log_probs, other.log_probs, strict=True)
        )

    @override(TorchDistribution)
    def sample(self, *, sample_shape=None) -> Tensor:
        with torch.no_grad():
            draws = []
            for lp in self.log_probs:
                uniform = torch.rand_like(lp).clamp_(1e-20, 1.0)
                draws.append((lp - torch.log(-torch.log(uniform))).argmax(dim=-1))  # Gumbel-max, (..., G)
            return torch.cat(draws, dim=-1)

    @override(TorchDistribution)
    def rsample(self, *, sample_shape=None) -> Tensor:
        raise NotImplementedError("GroupedCategorical has no reparameterised sample")

    def to_deterministic(self) -> TorchDeterministic:
        """Each sub-action's most likely value."""
        return TorchDeterministic(loc=torch.cat([lp.argmax(dim=-1) for lp in self.log_probs], dim=-1))

    @staticmethod
    @override(Distribution)
    def required_input_dim(space: gym.Space, **kwargs) -> int:
        if not isinstance(space, gym.spaces.MultiDiscrete):
            raise TypeError(f"GroupedCategorical needs a MultiDiscrete action space, got {space}")
        return int(space.nvec.sum())

    @classmethod
    @override(TorchDistribution)
    def from_logits(cls, logits: Tensor, **kwargs) -> GroupedCategorical:
        return cls(logits=logits, groups=kwargs["groups"])
