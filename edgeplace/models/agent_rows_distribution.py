"""A product of per-agent categoricals over substrate nodes, with an "unassigned" value (papers/agentvne.md,
f, "Log-prob", ``logp_mode="realized"``).

The inputs are masked log-probabilities, one row per agent: ``log pi_i(j)``, and ``MASKED_LOGIT``
(-1e9) where node j cannot host agent i. A row with no entry above ``MASKED_LOGIT / 2`` is *inactive*
(an anchor, a padded agent, or an agent no node can host) and contributes nothing. An action is one
host per agent, the value Ns meaning "unassigned", and:

- ``logp(a) = sum over active rows i with a_i < Ns of log pi_i(a_i)`` (unassigned agents add 0);
- ``entropy = sum over active rows of H(pi_i)``;
- ``kl(other) = sum over rows active here of KL(pi_i || other_i)``.

The actions themselves come from the AgentVNE decoder (Plackett-Luce lists + greedy BFS), not from this
class; :meth:`sample` draws every active row independently and exists for completeness.
"""

from __future__ import annotations

import gymnasium as gym
import torch
from ray.rllib.core.distribution.distribution import Distribution
from ray.rllib.core.distribution.torch.torch_distribution import TorchDeterministic, TorchDistribution
from ray.rllib.utils.annotations import override
from torch import Tensor

from edgeplace.models.item_scoring_head import MASKED_LOGIT


class AgentRowsDistribution(TorchDistribution):
    """See the module docstring.

    Args:
        logits: masked log-probabilities (log-softmax is re-applied per row, so unnormalised scores
            work too).

    Shapes:
        logits (B, Nv, Ns); actions (B, Nv) int64 in [0, Ns]; logp, entropy, kl -> (B,).
    """

    def __init__(self, logits: Tensor) -> None:
        if logits.dim() != 3:
            raise ValueError(
                f"AgentRowsDistribution: expected (B, Nv, Ns) logits, got shape {tuple(logits.shape)}"
            )
        self.logits = logits
        self.active = logits.max(dim=-1).values > MASKED_LOGIT / 2  # (B, Nv)
        self.log_probs = torch.log_softmax(logits, dim=-1)  # (B, Nv, Ns)
        super().__init__(logits=self.log_probs)

    @override(TorchDistribution)
    def _get_torch_distribution(self, logits: Tensor) -> torch.distributions.Distribution:
        return torch.distributions.Categorical(logits=logits, validate_args=False)

    @property
    def num_nodes(self) -> int:
        """Ns; the action value Ns is "unassigned"."""
        return self.logits.shape[-1]

    @override(TorchDistribution)
    def logp(self, value: Tensor, **kwargs) -> Tensor:
        actions = value.long()
        assigned = (actions < self.num_nodes) & (actions >= 0) & self.active  # (B, Nv)
        index = actions.clamp(0, self.num_nodes - 1).unsqueeze(-1)
        per_agent = self.log_probs.gather(-1, index).squeeze(-1)  # (B, Nv)
        return torch.where(assigned, per_agent, torch.zeros_like(per_agent)).sum(dim=-1)

    @override(TorchDistribution)
    def entropy(self) -> Tensor:
        per_agent = -(self.log_probs.exp() * self.log_probs).sum(dim=-1)  # (B, Nv)
        return torch.where(self.active, per_agent, torch.zeros_like(per_agent)).sum(dim=-1)

    @override(TorchDistribution)
    def kl(self, other: Distribution) -> Tensor:
        if not isinstance(other, AgentRowsDistribution):
            raise TypeError(f"AgentRowsDistribution.kl: other is a {type(other).__name__}")
        per_agent = (self.log_probs.exp() * (self.log_probs - other.log_probs)).sum(dim=-1)  # (B, Nv)
        return torch.where(self.active, per_agent, torch.zeros_like(per_agent)).sum(dim=-1)

    @override(TorchDistribution)
    def sample(self, *, sample_shape=None) -> Tensor:
        draws = self._dist.sample(sample_shape if sample_shape is not None else torch.Size())
        return torch.where(self.active, draws, torch.full_like(draws, self.num_nodes))

    @override(TorchDistribution)
    def rsample(self, *, sample_shape=None) -> Tensor:
        raise NotImplementedError("AgentRowsDistribution has no reparameterised sample")

    def to_deterministic(self) -> TorchDeterministic:
        """Each active row's most likely node; inactive rows unassigned."""
        best = self.logits.argmax(dim=-1)
        return TorchDeterministic(loc=torch.where(self.active, best, torch.full_like(best, self.num_nodes)))

    @staticmethod
    @override(Distribution)
    def required_input_dim(space: gym.Space, **kwargs) -> int:
        if not isinstance(space, gym.spaces.MultiDiscrete):
            raise TypeError(f"AgentRowsDistribution needs a MultiDiscrete action space, got {space}")
        return int(len(space.nvec) * (int(space.nvec[0]) - 1))

    @classmethod
    @override(TorchDistribution)
    def from_logits(cls, logits: Tensor, **kwargs) -> AgentRowsDistribution:
        return cls(logits=logits)
