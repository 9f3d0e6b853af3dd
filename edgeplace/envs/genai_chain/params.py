"""Constants and configuration of the genai-chain scenario (spec: papers/vamappo.md, sections c-d).

Every default is the spec's; :class:`GenAIChainConfig` is what RLlib's ``env_config`` carries.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from edgeplace.config_mapping import from_mapping


@dataclass(frozen=True)
class GenAIChainParams:
    """The system model's constants (spec d, "Defaults we chose")."""

    kappa_per_s: float = 20.0
    """Slope of the sigmoid latency utility, 1/s."""
    stage_deadline_s: tuple[float, float, float] = (0.15, 0.25, 0.45)
    """Per-stage deadline T_max by model type, seconds."""
    profile_base_s: tuple[float, float, float] = (0.04, 0.08, 0.15)
    """Profiling function intercept a[t], seconds."""
    profile_slope_s: tuple[float, float, float] = (0.04, 0.06, 0.10)
    """Profiling function slope b[t] per unit size scale, seconds."""
    output_size_mb: tuple[float, float, float] = (0.2, 2.0, 8.0)
    """Output tensor size d[t] of a stage at size scale 0.5, MB (times 0.5 + x)."""
    input_size_mb: float = 0.5
    """User input size at size scale 0.5, MB (times 0.5 + x)."""
    bandwidth_mb_s: float = 50.0
    """Transfer rate B between nodes, MB/s."""
    hop_delay_s: float = 0.005
    """Per-hop forwarding delay t_hop, seconds."""
    reference_capacity: float = 35.0
    """Capacity at which a node computes at profiled speed (F_m scales with sqrt(35 / C))."""
    demand: tuple[float, float, float] = (4.0, 8.0, 12.0)
    """Compute load R_req a stage of each type adds to its node."""
    load_decay: float = 0.7
    """Load multiplier applied after every request."""
    overload_penalty: float = 1.0
    """eta_cap: reward penalty per unit of load ratio above 1."""
    normal_noise_mean: float = 0.05
    """Mean of the exponential compute slowdown delta in a node's normal state."""
    spike_noise_mean: float = 0.5
    """Mean of the exponential part of delta (1 + Exp) in a node's spike state."""
    p_normal_to_spike: float = 0.02
    """Per-request probability that a normal node starts a spike."""
    p_spike_to_normal: float = 0.2
    """Per-request probability that a spiking node recovers."""
    migration_load_threshold: float = 0.6
    """METAPPO: a stage whose node would exceed this load ratio migrates (spec f)."""
    migration_max_hops: int = 2
    """METAPPO: the farthest a stage migrates, in hops."""
    load_reward_coeff: float = 0.1
    """METAPPO: weight of the load-aware reward term -coeff * L_s / C_s."""

    def __post_init__(self) -> None:
        if self.kappa_per_s <= 0 or self.bandwidth_mb_s <= 0:
            raise ValueError("kappa_per_s and bandwidth_mb_s must be positive")
        if not 0.0 < self.load_decay <= 1.0:
            raise ValueError(f"load_decay must be in (0, 1], got {self.load_decay}")
        for name in ("p_normal_to_spike", "p_spike_to_normal"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ValueError(f"{name} must be a probability, got {getattr(self, name)}")

    def per_type(self, name: str) -> np.ndarray:
        """A per-type constant as a (3,) float64 array; index k holds model type k + 1."""
        return np.asarray(getattr(self, name), dtype=np.float64)


@dataclass(frozen=True)
class GenAIChainConfig:
    """Everything that defines a genai-chain env instance (the RLlib ``env_config``)."""

    topology: str = "synthetic:genai-small"
    """Topology URI, any scheme (``genai-edge:DIR`` brings its own deployment and tasks; others are
    synthesized). Compute, storage and traffic rate a topology lacks are drawn with the dataset's ranges
    (:data:`edgeplace.workloads.genai_chain.NODE_ATTRIBUTES`)."""
    split: str = "train"
    """``train``: each episode draws requests uniformly with replacement; ``test``: episode e replays
    rows (R*e + j) mod K in order, so evaluation sees every test row."""
    requests_per_episode: int = 8
    """R requests of 5 stages each per episode (40 decisions)."""
    max_nodes: int | None = None
    """Node padding of observations; None pads to the next multiple of 16 above the node count."""
    workload_seed: int = 0
    """Seed of the synthesized workload (ignored for ``genai-edge:`` topologies)."""
    attribute_seed: int = 0
    """Seed of the node attributes drawn for a topology that lacks them (see
    :mod:`edgeplace.topology.attributes`)."""
    load_aware_migration: bool = False
    """METAPPO's environment (spec f): an overloading stage migrates to the best same-type instance
    within ``migration_max_hops`` on a lightly loaded node (paying the transfer), and the reward adds
    ``-load_reward_coeff * L_s / C_s``. Off for every other method."""
    params: GenAIChainParams = field(default_factory=GenAIChainParams)

    def __post_init__(self) -> None:
        if self.split not in ("train", "test"):
            raise ValueError(f"split must be 'train' or 'test', got {self.split!r}")
        if self.requests_per_episode < 1:
            raise ValueError(f"requests_per_episode must be >= 1, got {self.requests_per_episode}")
        if self.max_nodes is not None and self.max_nodes < 1:
            raise ValueError(f"max_nodes must be positive, got {self.max_nodes}")

    @classmethod
    def from_env_config(cls, env_config: Mapping[str, Any] | None) -> GenAIChainConfig:
        """Build from RLlib's env_config dict, rejecting unknown keys (also inside ``params``) by name."""
        return from_mapping(cls, env_config, "genai-chain env_config", nested={"params": GenAIChainParams})

    def to_env_config(self) -> dict[str, Any]:
        """A plain-dict form (JSON- and Ray-serialisable) that :meth:`from_env_config` reads back."""
        return dataclasses.asdict(self)
