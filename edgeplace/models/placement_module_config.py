"""Hyperparameters of PlacementPPOModule, rebuilt from RLlib's ``model_config`` dict."""

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Self

from edgeplace.config_mapping import model_config_values

#: Encoder families of the placement modules.
ENCODERS = ("attention", "flat-mlp")


@dataclass(frozen=True)
class PlacementModuleConfig:
    """Architecture of the placement actor-critic (defaults sized for 2 CPU cores; the paper uses
    ``d_model=128``, ``self_attention_layers=1``, ``share_encoder=False``, ``item_hidden=(256, 128)``).
    """

    encoder: str = "attention"
    """``attention``: per-node MLP + cross-attention (size-agnostic); ``flat-mlp``: one MLP over the
    request and the flattened padded nodes with a Linear(M) actor (VAMAPPO's w/o-attention ablation;
    tied to one ``max_nodes`` and item count)."""
    d_model: int = 64
    """Token width d of node, request and context embeddings."""
    num_heads: int = 4
    """Attention heads; must divide ``d_model``."""
    self_attention_layers: int = 0
    """Transformer encoder layers over the nodes; 0 skips them (15-20x cheaper learner on CPU)."""
    dropout: float = 0.0
    """Dropout inside the encoder's attention layers; keep 0 with a shared encoder for exact PPO ratios."""
    share_encoder: bool = True
    """One encoder for actor and critic (half the learner cost); False builds separate ones."""
    item_hidden: tuple[int, ...] = (64, 32)
    """Hidden widths of the per-item scoring MLP."""
    value_hidden: tuple[int, ...] = (256, 128)
    """Hidden widths of the value MLP."""
    value_dropout: float = 0.0
    """Dropout in the value MLP, on in critic training passes only (VAMAPPO: 0.1)."""
    flat_hidden: tuple[int, ...] = (512, 256, 128)
    """Widths of the ``flat-mlp`` encoder; the last is the embedding width."""
    uncertainty: bool = False
    """Add VAMAPPO's MC-dropout uncertainty branch on the critic features."""

    def __post_init__(self) -> None:
        if self.encoder not in ENCODERS:
            raise ValueError(f"encoder must be one of {ENCODERS}, got {self.encoder!r}")
        if self.d_model <= 0 or self.num_heads <= 0 or self.d_model % self.num_heads:
            raise ValueError(
                f"d_model must be a positive multiple of num_heads, got d_model={self.d_model}, "
                f"num_heads={self.num_heads}"
            )
        if self.self_attention_layers < 0:
            raise ValueError(f"self_attention_layers must be >= 0, got {self.self_attention_layers}")
        if not 0.0 <= self.dropout < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {self.dropout}")
        if not self.item_hidden or any(width <= 0 for width in self.item_hidden):
            raise ValueError(f"item_hidden must be non-empty positive widths, got {self.item_hidden!r}")
        if not 0.0 <= self.value_dropout < 1.0:
            raise ValueError(f"value_dropout must be in [0, 1), got {self.value_dropout}")
        if not self.flat_hidden or any(width <= 0 for width in self.flat_hidden):
            raise ValueError(f"flat_hidden must be non-empty positive widths, got {self.flat_hidden!r}")
        if any(width <= 0 for width in self.value_hidden):
            raise ValueError(f"value_hidden must be positive widths, got {self.value_hidden!r}")

    @classmethod
    def from_model_config(cls, model_config: Mapping[str, Any] | None) -> Self:
        """Take our fields from ``model_config`` (defaults for absent ones); the keys RLlib algorithms
        merge in (PPO's ``vf_share_layers``) are left to RLlib, any other key raises ValueError naming
        it. Lists become tuples.
        """
        values = model_config_values(cls, model_config, "placement module")
        for name in ("item_hidden", "value_hidden", "flat_hidden"):
            if name in values:
                values[name] = tuple(values[name])
        return cls(**values)

    def to_model_config(self) -> dict[str, Any]:
        """The ``model_config`` dict that rebuilds this config."""
        return dataclasses.asdict(self)
