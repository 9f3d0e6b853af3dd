"""Independent categorical heads over a tuple of sub-actions: the HASAC baseline and the ``noAR`` ablation."""

from collections.abc import Sequence

from torch import Tensor, nn

from edgeplace.models.autoregressive_head import (
    POLICY_INIT_GAIN,
    Choice,
    HeadOutput,
    SubActionHead,
    grouped_linear,
)


class FactorisedHead(SubActionHead):
    """``pi(a | z) = prod_k softmax(W_k z + b_k)[a_k]``: every sub-action read in parallel from ``z``,
    blind to the others (HISPER g, HASAC). Same interface as :class:`AutoregressiveHead`, so an algorithm
    switches heads by config. The K logit layers are one Linear of width ``sum(sizes)``, split per head.

    Args:
        state_dim: Width D of the state embedding z.
        sizes: Native size n_k of each sub-action.

    Shapes:
        as :class:`~edgeplace.models.autoregressive_head.SubActionHead`
    """

    def __init__(self, state_dim: int, sizes: Sequence[int]) -> None:
        super().__init__(state_dim, sizes)
        self.logits = nn.Linear(state_dim, sum(self.sizes))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Orthogonal logit weights with gain 0.01 and zero biases (a near-uniform initial policy)."""
        nn.init.orthogonal_(self.logits.weight, gain=POLICY_INIT_GAIN)
        nn.init.zeros_(self.logits.bias)

    def _weights(self) -> tuple[Tensor, ...]:
        return (self.logits.weight, self.logits.bias)

    def _decode(
        self, weights: tuple[Tensor, ...], state: Tensor, masks: list[Tensor | None], choice: Choice
    ) -> HeadOutput:
        logits = grouped_linear(state, *weights).split(self.sizes, dim=-1)  # K x (*, n_k)
        return self._output([self._choose(k, part, masks, choice) for k, part in enumerate(logits)])
