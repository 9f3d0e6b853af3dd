"""What VAMAPPO's learner needs from a critic: its features z and the MC-dropout uncertainty on them."""

import abc
from typing import Any

from torch import Tensor

from edgeplace.models.mc_dropout import MCDropoutUncertainty


class UncertaintyCriticAPI(abc.ABC):
    """Mixin for RLModules with critic features ``z`` and an optional :class:`MCDropoutUncertainty`
    head ``uncertainty_head`` (None when the module was built without it)."""

    uncertainty_head: MCDropoutUncertainty | None

    @abc.abstractmethod
    def critic_embeddings(self, batch: dict[str, Any]) -> Tensor:
        """Critic features z of a batch (a fresh critic-encoder pass). Shapes: -> (B, F)."""

    @property
    def has_uncertainty(self) -> bool:
        return self.uncertainty_head is not None

    def uncertainty_samples(self, z: Tensor, passes: int) -> Tensor:
        """``passes`` stochastic uncertainty estimates f on ``z`` (detached). Shapes: (B, F) -> (T, B)."""
        return self._require_head().sample(z.detach(), passes)

    def uncertainty(self, z: Tensor) -> Tensor:
        """One stochastic pass f on ``z`` (detached), for the L_U loss. Shapes: (B, F) -> (B,)."""
        return self._require_head()(z.detach())

    def uncertainty_kl(self) -> Tensor:
        """The branch's KL term in weight-decay form (a scalar)."""
        return self._require_head().kl_penalty()

    def _require_head(self) -> MCDropoutUncertainty:
        if self.uncertainty_head is None:
            raise ValueError(
                "this module was built without the uncertainty branch (model_config uncertainty)"
            )
        return self.uncertainty_head
