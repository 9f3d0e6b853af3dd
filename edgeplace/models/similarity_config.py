"""Architecture of AgentVNE's resource-similarity network and value network (papers/agentvne.md, d)."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Self

from edgeplace.config_mapping import model_config_values

#: Spec d: d = 64 for substrates up to this many nodes, 128 above.
SMALL_SUBSTRATE_NODES = 100


@dataclass(frozen=True)
class SimilarityConfig:
    """Sizes of the dual-stream GCN + Transformer + column-wise NTN network and its value network."""

    d_model: int | None = None
    """Width d of both streams (None: 64 for Ns <= 100, 128 above, per spec d)."""
    gcn_layers: int = 2
    """Kipf GCN layers per stream."""
    num_heads: int = 2
    """Attention heads of each stream's Transformer encoder layer; must divide d."""
    ff_multiplier: int = 4
    """Feed-forward width of the Transformer layer, in multiples of d."""
    dropout: float = 0.1
    """Dropout between GCN layers and inside the Transformer (pre-training; PPO fine-tuning uses 0)."""
    value_width: int = 64
    """Width of the value network's own GCN streams."""
    value_hidden: tuple[int, ...] = (128, 64)
    """Hidden widths of the value MLP over the two pooled streams (2 x value_width in, 1 out)."""

    def __post_init__(self) -> None:
        for name in ("gcn_layers", "num_heads", "ff_multiplier", "value_width"):
            if getattr(self, name) < 1:
                raise ValueError(f"similarity config: {name} must be >= 1, got {getattr(self, name)}")
        if self.d_model is not None and (self.d_model < 1 or self.d_model % self.num_heads):
            raise ValueError(
                f"similarity config: d_model must be a positive multiple of num_heads ({self.num_heads}), "
                f"got {self.d_model}"
            )
        if not 0.0 <= self.dropout < 1.0:
            raise ValueError(f"similarity config: dropout must be in [0, 1), got {self.dropout}")
        if any(width < 1 for width in self.value_hidden):
            raise ValueError(
                f"similarity config: value_hidden must be positive widths, got {self.value_hidden}"
            )

    def width(self, max_nodes: int) -> int:
        """d for a substrate padded to ``max_nodes`` nodes."""
        if self.d_model is not None:
            return self.d_model
        return 64 if max_nodes <= SMALL_SUBSTRATE_NODES else 128

    @classmethod
    def from_model_config(
        cls,
        model_config: Mapping[str, Any] | None,
        *,
        shared_with: tuple[type, ...] = (),
        ignored: frozenset[str] = frozenset(),
    ) -> Self:
        """Take our fields from ``model_config`` (defaults for absent ones). The fields of the configs
        in ``shared_with`` (which share the dict) and ``ignored`` keys are skipped; any other key raises
        ValueError naming it."""
        values = model_config_values(
            cls, model_config, "similarity network", shared_with=shared_with, ignored=ignored
        )
        if "value_hidden" in values:
            values["value_hidden"] = tuple(values["value_hidden"])
        return cls(**values)

    def to_model_config(self) -> dict[str, Any]:
        """The plain dict that :meth:`from_model_config` reads back."""
        out = dataclasses.asdict(self)
        out["value_hidden"] = list(self.value_hidden)
        return out
