"""Architecture of :class:`~edgeplace.models.branching_q_module.BranchingQModule`, rebuilt from RLlib's
``model_config`` dict (DQNConfig's own keys accepted and left to RLlib)."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Self

from edgeplace.config_mapping import model_config_values

#: Keys DQNConfig merges into every module's model_config (``_model_config_auto_includes``); the module
#: reads ``epsilon`` (its exploration schedule) and checks ``num_atoms``.
DQN_MODEL_CONFIG_KEYS = frozenset(
    {"double_q", "dueling", "epsilon", "num_atoms", "std_init", "v_max", "v_min"}
)

_WHERE = "branching Q module"


@dataclass(frozen=True)
class BranchingQConfig:
    """The shared trunk (spec e's fusion encoder, no GRU, no plan input) and the dueling heads."""

    node_width: int = 128
    """Pooled node part of the fused input (mean and max halves)."""
    slot_width: int = 64
    """Pooled slot part of the fused input, and the width of the slot embeddings e_s."""
    trunk_hidden: tuple[int, ...] = (128, 256, 128)
    """The shared trunk MLP producing h (its last width is h's)."""
    value_hidden: int = 64
    """Hidden width of the state-value stream V(h)."""
    pointer_width: int = 64
    """Width of the placement advantage head's tanh layer (pointer-style: one score per slot and option)."""
    route_width: int = 64
    """Hidden width of the route advantage head's MLP (one score per edge and pattern)."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "trunk_hidden", tuple(self.trunk_hidden))
        if not self.trunk_hidden or any(width < 1 for width in self.trunk_hidden):
            raise ValueError(f"{_WHERE}: trunk_hidden must be positive widths, got {list(self.trunk_hidden)}")
        for name in ("node_width", "slot_width", "value_hidden", "pointer_width", "route_width"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{_WHERE}: {name} must be an integer >= 1, got {value!r}")
        if self.node_width % 2:
            raise ValueError(
                f"{_WHERE}: node_width must be even (mean and max halves), got {self.node_width}"
            )

    @classmethod
    def from_model_config(cls, model_config: Mapping[str, Any] | None) -> Self:
        """Our fields from ``model_config`` (defaults for absent ones); DQN's and RLlib's own keys are
        skipped, any other key raises ValueError naming it, and so does distributional Q."""
        model_config = model_config or {}
        values = model_config_values(cls, model_config, _WHERE, ignored=DQN_MODEL_CONFIG_KEYS)
        if model_config.get("num_atoms", 1) > 1:
            raise ValueError(f"{_WHERE}: distributional Q (num_atoms > 1) is not supported")
        return cls(**values)

    def to_model_config(self) -> dict[str, Any]:
        """The ``model_config`` that rebuilds this config."""
        return dataclasses.asdict(self)
