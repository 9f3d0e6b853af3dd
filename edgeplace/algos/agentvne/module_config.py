"""Settings of the AgentVNE RLModule besides the network sizes (which are a
:class:`~edgeplace.models.similarity_config.SimilarityConfig` in the same ``model_config`` dict)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Self

from edgeplace.config_mapping import model_config_values
from edgeplace.envs.agent_vne.decoder import DEFAULT_RESTARTS
from edgeplace.envs.agent_vne.params import AgentVNEConfig
from edgeplace.models.similarity_config import SimilarityConfig

#: Keys of checkpoints written before the pre-trained weights moved to the learner (``pretrained``: a
#: file the learner now loads): accepted and ignored, so those checkpoints still load.
LEGACY_KEYS = frozenset({"pretrained"})


class LogpMode(StrEnum):
    """Definition of the action log-probability (spec f)."""

    REALIZED = "realized"  # sum over non-anchor assigned agents of log pi_i(a_i)


@dataclass(frozen=True)
class AgentVNEModuleConfig:
    """What the module needs from ``model_config`` besides the sizes."""

    env_config: Mapping[str, Any] = field(default_factory=dict)
    """The env config of the scenario; the module rebuilds the static network (adjacency, hops, routes)
    from it with :func:`~edgeplace.envs.agent_vne.static_network`, exactly as the env does."""
    restarts: int = DEFAULT_RESTARTS
    """R of the greedy-BFS decoder."""
    logp_mode: LogpMode = LogpMode.REALIZED
    """Only ``realized`` is available: the action is the mapping, which does not determine the sampled
    lists that the exact Plackett-Luce log-probability needs."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "logp_mode", LogpMode(self.logp_mode))
        object.__setattr__(
            self, "env_config", AgentVNEConfig.from_env_config(self.env_config).to_env_config()
        )
        if self.restarts < 0:
            raise ValueError(f"agentvne module: restarts must be >= 0, got {self.restarts}")

    @classmethod
    def from_model_config(cls, model_config: Mapping[str, Any] | None) -> Self:
        """Our fields of ``model_config`` (defaults for absent ones). The similarity network's sizes
        share the dict, and checkpoints written before the pre-trained weights moved to the learner
        still name a ``pretrained`` file (:data:`LEGACY_KEYS`); any other key raises ValueError."""
        values = model_config_values(
            cls, model_config, "agentvne module", shared_with=(SimilarityConfig,), ignored=LEGACY_KEYS
        )
        return cls(**values)

    def to_model_config(self) -> dict[str, Any]:
        return {
            "env_config": dict(self.env_config),
            "restarts": self.restarts,
            "logp_mode": str(self.logp_mode),
        }
