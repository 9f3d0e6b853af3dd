"""Configuration of the dnn-inference scenario (spec: papers/hisper.md, sections b, c, e and i).

:class:`DnnInferenceConfig` is what RLlib's ``env_config`` carries; :class:`DnnInferenceParams` holds
the system model's prices and penalty. Every default is the spec's.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any

from edgeplace.config_mapping import from_mapping

DEFAULT_TOPOLOGY = "geo-radius:nodes=16,radius_km=0.5,side_km=1.5,seed=0"
LOCAL_SERVER_RULES = ("uniform", "nearest")


@dataclass(frozen=True)
class DnnInferenceParams:
    """Prices and the rejection penalty (spec b, "Units" and "Costs")."""

    routing_price_per_mbit: float = 0.002
    """psi_rou: $ per Mbit per link on the request's path."""
    compute_price_per_s: float = 0.0003
    """psi_comp: $ per busy second of a server."""
    memory_price_per_mb: float = 0.016 / 1024
    """psi_mem: $ per MB (the settings' $0.016 per GB); 0.016 is the cost-heavy reading (spec i-3)."""
    rejection_accuracy: float = -100.0
    """Accuracy term of a rejected request."""

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name != "rejection_accuracy" and not value >= 0:
                raise ValueError(f"{f.name} must be >= 0, got {value!r}")


@dataclass(frozen=True)
class DnnInferenceConfig:
    """Everything that defines a dnn-inference env instance (the RLlib ``env_config``)."""

    topology: str = DEFAULT_TOPOLOGY
    """Topology URI, any scheme. The servers' compute (TFLOP/s), memory (MB) and uplink rate are the
    topology's where it has them (``geo-radius:``) and drawn from spec c's sets otherwise
    (:data:`network.NODE_ATTRIBUTES`); links keep the topology's bandwidth."""
    agents_per_service: int = 4
    """N: OD agents and MOT agents each (4 -> 8 agents, 5 -> 10)."""
    horizon: int = 100
    """T: slots per episode; the episode ends in truncation."""
    max_nodes: int | None = None
    """Server padding P of observations; None pads to the next multiple of 16 (16 for the default)."""
    attribute_seed: int = 0
    """Seed of the server attributes drawn for a topology that lacks them (see
    :mod:`edgeplace.topology.attributes`)."""
    local_server: str = "uniform"
    """``uniform``: v_u uniform over servers; ``nearest``: a uniform user point's nearest server."""
    static_server_features: bool = False
    """Add A_k / 1.33, B_k / 4096 and rho_k / 72 to the ``servers`` observation."""
    params: DnnInferenceParams = field(default_factory=DnnInferenceParams)

    def __post_init__(self) -> None:
        for name in ("agents_per_service", "horizon"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a positive integer, got {value!r}")
        if self.max_nodes is not None and (isinstance(self.max_nodes, bool) or self.max_nodes < 1):
            raise ValueError(f"max_nodes must be a positive integer or None, got {self.max_nodes!r}")
        if self.local_server not in LOCAL_SERVER_RULES:
            raise ValueError(f"local_server must be one of {LOCAL_SERVER_RULES}, got {self.local_server!r}")
        if not isinstance(self.topology, str) or ":" not in self.topology:
            raise ValueError(f"topology must be a topology URI 'scheme:...', got {self.topology!r}")

    @staticmethod
    def for_agents(agents: int) -> dict[str, int]:
        """The env config entries of ``agents`` agents in all (2N: N OD and N MOT).

        Raises: ValueError for an odd or non-positive count.
        """
        if isinstance(agents, bool) or not isinstance(agents, int) or agents < 2 or agents % 2:
            raise ValueError(f"--agents: dnn-inference needs an even number >= 2 (OD + MOT), got {agents!r}")
        return {"agents_per_service": agents // 2}

    @property
    def num_agents(self) -> int:
        """2N: one agent per request, OD agents first."""
        return 2 * self.agents_per_service

    @classmethod
    def from_env_config(cls, env_config: Mapping[str, Any] | None) -> DnnInferenceConfig:
        """Build from RLlib's env_config dict, rejecting unknown keys (also inside ``params``) by name."""
        return from_mapping(
            cls, env_config, "dnn-inference env_config", nested={"params": DnnInferenceParams}
        )

    def to_env_config(self) -> dict[str, Any]:
        """A plain-dict form (JSON- and Ray-serialisable) that :meth:`from_env_config` reads back."""
        return dataclasses.asdict(self)
