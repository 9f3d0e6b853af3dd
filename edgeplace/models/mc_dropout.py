"""MC-dropout uncertainty branch of VAMAPPO's critic (spec e2)."""

from collections.abc import Sequence

from torch import Tensor, nn
from torch.nn import functional as F

from edgeplace.models.layers import reset_submodules

#: Hidden widths and dropout rates of the branch (spec e2: 256/0.4, 128/0.3, 64/0.2, 32/0.1).
DEFAULT_WIDTHS = (256, 128, 64, 32)
DEFAULT_DROPOUTS = (0.4, 0.3, 0.2, 0.1)
#: Lower clamp of the output pre-activation (see ``forward``).
PRE_ACTIVATION_FLOOR = -20.0


class MCDropoutUncertainty(nn.Module):
    """``f(s) = softplus(MLP(z))`` whose dropout is *always* on (also in eval mode): each call is one
    stochastic pass, and the spread over T passes measures the critic's epistemic uncertainty.

    The dropout masks are the reparameterised weight noise ``W = M diag(zeta), zeta ~ Bernoulli(1-p)``;
    :meth:`kl_penalty` is the matching KL term in weight-decay form, ``sum_l (1 - p_l) / 2 ||M_l||^2``.
    Feed it ``z.detach()``: the branch must not shape the encoder.

    Args:
        in_features: width of the critic features z.
        widths: hidden widths.
        dropouts: dropout rate applied to the input of each hidden layer after the first activation,
            one per hidden layer.

    Shapes:
        z (B, F) -> f (B,) >= 0
    """

    def __init__(
        self,
        in_features: int,
        widths: Sequence[int] = DEFAULT_WIDTHS,
        dropouts: Sequence[float] = DEFAULT_DROPOUTS,
    ) -> None:
        super().__init__()
        if len(widths) != len(dropouts):
            raise ValueError(f"need one dropout rate per hidden layer, got {widths} and {dropouts}")
        if not all(0.0 <= p < 1.0 for p in dropouts):
            raise ValueError(f"dropout rates must be in [0, 1), got {dropouts}")
        sizes = [in_features, *widths]
        self.hidden = nn.ModuleList(nn.Linear(a, b) for a, b in zip(sizes[:-1], sizes[1:], strict=True))
        self.output = nn.Linear(sizes[-1], 1)
        self.dropouts = tuple(float(p) for p in dropouts)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        reset_submodules(self)

    def forward(self, z: Tensor) -> Tensor:
        x = z
        for layer, rate in zip(self.hidden, self.dropouts, strict=True):
            x = F.dropout(F.relu(layer(x)), p=rate, training=True)
        # The target |V_targ - V| is often ~0, which drives the pre-activation far below zero; there
        # softplus and its gradient fall into float32's subnormal range, whose arithmetic is ~10-100x
        # slower on x86 and made VAMAPPO's learner several times slower within a few iterations.
        # Clamping keeps f >= softplus(-20) = 2e-9 and the gradient exactly 0 below it.
        return F.softplus(self.output(x).clamp(min=PRE_ACTIVATION_FLOOR)).squeeze(-1)

    def sample(self, z: Tensor, passes: int) -> Tensor:
        """``passes`` stochastic evaluations in one batched call. Shapes: z (B, F) -> (passes, B)."""
        return self(z.unsqueeze(0).expand(passes, *z.shape).reshape(-1, z.shape[-1])).view(passes, -1)

    def kl_penalty(self) -> Tensor:
        """``sum_l (1 - p_l) / 2 ||M_l||^2`` over the layers whose input is dropped out (the layer after
        each dropout); the first layer sees clean inputs and carries keep-probability 1."""
        keep = (1.0, *(1.0 - p for p in self.dropouts))
        layers = [*self.hidden, self.output]
        return sum(k / 2.0 * layer.weight.pow(2).sum() for k, layer in zip(keep, layers, strict=True))
