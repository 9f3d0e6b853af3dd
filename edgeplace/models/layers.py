"""Small building helpers shared by the model blocks: an MLP factory and a recursive re-initialiser."""

from collections.abc import Sequence

from torch import nn


def mlp(
    in_features: int, hidden: Sequence[int], out_features: int | None = None, dropout: float = 0.0
) -> nn.Sequential:
    """Linear-ReLU stack ``in -> hidden[0] -> ... -> hidden[-1]`` with ReLU after every hidden layer.

    Args:
        in_features: Input width F_in.
        hidden: Widths of the hidden layers, in order (may be empty).
        out_features: Width of a final Linear without activation; ``None`` ends on the last ReLU.
        dropout: Dropout after every hidden ReLU (active in train mode only); 0 adds none.

    Shapes:
        input (*, F_in) -> output (*, out_features or hidden[-1])
    """
    layers: list[nn.Module] = []
    width = in_features
    for size in hidden:
        layers += [nn.Linear(width, size), nn.ReLU()]
        if dropout > 0.0:
            layers.append(nn.Dropout(dropout))
        width = size
    if out_features is not None:
        layers.append(nn.Linear(width, out_features))
    return nn.Sequential(*layers)


def reset_submodules(module: nn.Module) -> None:
    """Re-initialise every submodule of ``module`` (not ``module`` itself) with its own torch default.

    Children are reset before their parents, so a parent's re-initialisation (e.g. the zero
    ``out_proj`` bias of ``nn.MultiheadAttention``) has the last word, as in its constructor.
    """
    for child in reversed(list(module.modules())[1:]):
        if isinstance(child, nn.MultiheadAttention):
            child._reset_parameters()  # torch's own init of the packed in-projection
        elif hasattr(child, "reset_parameters"):
            child.reset_parameters()
