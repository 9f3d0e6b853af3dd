"""Architecture and switches of :class:`~edgeplace.models.llm_mappo_module.LlmMappoModule`, rebuilt from
RLlib's ``model_config`` dict, and the observation keys the module reads."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Self

from edgeplace.config_mapping import model_config_values
from edgeplace.obs_keys import ObsKey


class DagObsKey(StrEnum):
    """The observation entries the module reads: the metaverse-dag env's (its ``MvObsKey``; models do
    not import envs, a test checks the two agree)."""

    NODE_FEATS = "node_feats"
    LINK_FEATS = "link_feats"
    LINK_INDEX = "link_index"
    SLOT_FEATS = "slot_feats"
    EDGE_FEATS = "edge_feats"
    EDGE_INDEX = "edge_index"
    REGION = "region"
    PLAN_Z = "plan_z"
    PLAN_PRIOR = "plan_prior"
    ACTION_MASK = ObsKey.ACTION_MASK.value
    STATE = "state"
    NEIGHBOUR_REGIONS = "neighbour_regions"
    """(2, 19): the previous-step ``region`` vectors of the agent's 2 nearest other ECs; read only by
    ``neighbour_input`` and ``critic_input="local"``."""


class DagEncoder(StrEnum):
    """Values of :attr:`LlmMappoModelConfig.encoder`."""

    FUSION = "fusion"
    """Eq. 23: row-wise MLPs over options and slots, pooled (:class:`DagFusionEncoder`)."""
    SAGE = "sage"
    """GNN-DRL: GraphSAGE over the option graph and the slot graph, pooled (:class:`DagSageEncoder`)."""


class CriticInput(StrEnum):
    """Values of :attr:`LlmMappoModelConfig.critic_input`."""

    STATE = "state"
    """Centralised: the global ``state``."""
    LOCAL = "local"
    """Local (mu-DDRL): ``region`` and ``neighbour_regions`` only."""


_WIDTHS = ("actor_hidden", "critic_hidden")


@dataclass(frozen=True)
class LlmMappoModelConfig:
    """LLM-MAPPO's edge agent (spec e); every mechanism is a switch, the widths default to the paper's."""

    use_gru: bool = True
    """GRU belief b_t = GRU(b_{t-1}, x_t) (a stateful module); False: the trunk reads x_t (RSPPO-like)."""
    prior_logits: bool = True
    """Eq. 32: add kappa * beta_k * log pi_LLM to the placement logits."""
    plan_input: bool = True
    """Fuse W_k z_plan into x_t (Eq. 23)."""
    encoder: DagEncoder = DagEncoder.FUSION
    """How x_t, e_n and e_s are made: "fusion" (Eq. 23's MLPs) or "sage" (GNN-DRL: GraphSAGE of widths
    node_width / 2 and slot_width over the option and slot graphs; the pointer head scores its
    embeddings)."""
    sage_option_layers: int = 3
    """Encoder "sage": GraphSAGE layers over the region's option graph."""
    sage_slot_layers: int = 2
    """Encoder "sage": GraphSAGE layers over the slot graph of the DAGs."""
    neighbour_input: bool = False
    """Fuse the flattened ``neighbour_regions`` into x_t (mu-DDRL's input)."""
    critic_input: CriticInput = CriticInput.STATE
    """What the critic MLP reads: "state" (centralised) or "local" ([region ‖ neighbour_regions])."""
    node_width: int = 128
    """Pooled node part of x_t (mean and max halves)."""
    slot_width: int = 64
    """Pooled slot part of x_t, and the width of e_s."""
    plan_width: int = 32
    """Width of W_k z_plan."""
    gru_size: int = 128
    actor_hidden: tuple[int, ...] = (128, 256, 128)
    """The actor trunk MLP producing h (its last width is h's)."""
    pointer_width: int = 64
    """Width of the pointer head's tanh layer."""
    route_width: int = 64
    """Hidden width of the route head's MLP."""
    critic_hidden: tuple[int, ...] = (256, 512, 256)
    """The critic MLP (on ``state``, or the local input with ``critic_input="local"``)."""
    max_seq_len: int = 20
    """Sequence length of the GRU's training chunks (RLlib reads this key)."""
    agent_slots: int = 16
    """Agent one-hot length at the tail of ``state`` (the env's K_MAX): one W_k and beta_k each."""
    kappa_column: int = 12
    """Column of the trust kappa in ``region`` (the env's ``RegionCol.KAPPA``)."""

    def __post_init__(self) -> None:
        for name, choices in (("encoder", DagEncoder), ("critic_input", CriticInput)):
            values = [choice.value for choice in choices]
            if getattr(self, name) not in values:
                raise ValueError(
                    f"llm-mappo module: {name} must be one of {values}, got {getattr(self, name)!r}"
                )
            object.__setattr__(self, name, choices(getattr(self, name)))
        for name in _WIDTHS:
            object.__setattr__(self, name, tuple(getattr(self, name)))
            if not getattr(self, name) or any(w < 1 for w in getattr(self, name)):
                raise ValueError(
                    f"llm-mappo module: {name} must be positive widths, got {getattr(self, name)!r}"
                )
        for name in (
            "node_width",
            "slot_width",
            "gru_size",
            "pointer_width",
            "route_width",
            "max_seq_len",
            "sage_option_layers",
            "sage_slot_layers",
        ):
            if getattr(self, name) < 1:
                raise ValueError(f"llm-mappo module: {name} must be >= 1, got {getattr(self, name)!r}")
        if self.node_width % 2:
            raise ValueError(f"llm-mappo module: node_width must be even, got {self.node_width}")
        if self.plan_width < 1 or self.agent_slots < 1 or self.kappa_column < 0:
            raise ValueError(
                "llm-mappo module: plan_width and agent_slots must be >= 1 and kappa_column >= 0, got "
                f"{self.plan_width}, {self.agent_slots}, {self.kappa_column}"
            )

    @classmethod
    def from_model_config(cls, model_config: Mapping[str, Any] | None) -> Self:
        """Our fields from ``model_config`` (defaults for absent ones); RLlib's own keys are left to it,
        any other key raises ValueError naming it."""
        return cls(**model_config_values(cls, model_config, "llm-mappo module"))

    def to_model_config(self) -> dict[str, Any]:
        """The ``model_config`` that rebuilds this config (plain values: enums as their strings)."""
        return {k: v.value if isinstance(v, StrEnum) else v for k, v in dataclasses.asdict(self).items()}

    @property
    def reads_neighbours(self) -> bool:
        """Whether the module reads ``neighbour_regions`` (the observation must then carry it)."""
        return self.neighbour_input or self.critic_input == CriticInput.LOCAL
