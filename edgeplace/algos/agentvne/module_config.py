"""Settings of the AgentVNE RLModule besides the network sizes (which are a
:class:`~edgeplace.models.similarity_config.SimilarityConfig` in the same ``model_config`` dict)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Self

from edgeplace.envs.agent_vne.decoder import DEFAULT_RESTARTS
from edgeplace.envs.agent_vne.params import AgentVNEConfig


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
        """Our fields of ``model_config`` (defaults for absent ones); other keys are ignored (checkpoints
        written before the pre-trained weights moved to the learner still name a ``pretrained`` file)."""
        model_config = model_config or {}
        names = ("env_config", "restarts", "logp_mode")
        return cls(**{name: model_config[name] for name in names if name in model_config})

    def to_model_config(self) -> dict[str, Any]:
        return {
            "env_config": dict(self.env_config),
            "restarts": self.restarts,
            "logp_mode": str(self.logp_mode),
        }
