"""VAMAPPO's switches and hyperparameters (spec e4-e9 and the defaults table), and the ablation presets."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Self

from edgeplace.config_mapping import from_mapping


@dataclass(frozen=True)
class VAMAPPOSettings:
    """Every VAMAPPO mechanism as a switch, with the spec's defaults."""

    coordinated_advantage: bool = True
    """CAF (Eq.12-13): mix the local GAE with the counterfactual influence on the successor stage."""
    caf_lambda: float = 0.3
    """lambda of Eq.13."""
    caf_tau_s: float = 0.05
    """tau_omega of the structural weight tanh(D_out / (B tau)), seconds."""
    enhancement: bool = True
    """Enhancement weights w (Eq.16) and priority sampling of per-agent minibatches."""
    enhancement_temperature: float = 2.0
    enhancement_max: float = 3.0
    uncertainty: bool = True
    """MC-dropout uncertainty branch, its L_U and KL terms, and the adaptive gate alpha."""
    mc_passes: int = 3
    """T stochastic passes of the uncertainty branch per sample."""
    uncertainty_floor_start: float = 0.08
    uncertainty_floor_end: float = 0.02
    """eta_min(k), annealed linearly over ``anneal_iterations``."""
    anneal_iterations: int = 195
    """Iterations over which eta_min anneals (the paper budget: 1M decisions / 5,120)."""
    gate_bias: float = 2.0
    gate_uncertainty: float = -1.0
    gate_volatility: float = -0.5
    gate_consistency: float = 0.5
    """beta0..beta3 of the gate alpha (fixed; spec e5)."""
    gate_min: float = 0.1
    gate_max: float = 1.0
    kl_coeff: float = 1e-4
    """lambda_KL of the uncertainty branch's KL term."""
    adaptive_clip: bool = True
    """Eq.19 clip range from the variance of recent actor steps; off keeps PPO's clip_param."""
    clip_min: float = 0.1
    clip_max: float = 0.3
    clip_window: int = 10
    clip_sensitivity: float = 2.0
    top_k_ratio: float = 0.1
    """Top-k gradient sparsification rho*: fraction of each agent's gradient entries kept; 1 disables.

    What it does here: each agent's gradient is sparsified before the agents' gradients are averaged
    (a synchronous simulation of the paper's parameter server), which changes the update direction
    (a regulariser). What it does not do: save communication. With one learner nothing is sent; with
    several RLlib learners, DDP all-reduces the dense averaged gradient, so top-k saves no bandwidth
    there either (that would need a sparse all-reduce)."""

    def __post_init__(self) -> None:
        for name in ("caf_lambda", "gate_min", "gate_max"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ValueError(f"vamappo.{name} must be in [0, 1], got {getattr(self, name)}")
        if not 0.0 < self.top_k_ratio <= 1.0:
            raise ValueError(f"vamappo.top_k_ratio must be in (0, 1], got {self.top_k_ratio}")
        if self.mc_passes < 2:
            raise ValueError(f"vamappo.mc_passes must be >= 2 (a variance needs two), got {self.mc_passes}")
        if not 0.0 < self.clip_min <= self.clip_max:
            raise ValueError(f"vamappo: need 0 < clip_min <= clip_max, got {self.clip_min}, {self.clip_max}")
        for name in ("caf_tau_s", "enhancement_temperature", "clip_window", "anneal_iterations"):
            if getattr(self, name) <= 0:
                raise ValueError(f"vamappo.{name} must be positive, got {getattr(self, name)}")
        if self.enhancement_max < 1.0:
            raise ValueError(f"vamappo.enhancement_max must be >= 1, got {self.enhancement_max}")

    @classmethod
    def from_dict(cls, values: Mapping[str, Any] | None) -> Self:
        """Build from a plain dict, naming unknown keys."""
        return from_mapping(cls, values, "vamappo settings")

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class Preset:
    """A named variant: VAMAPPO settings (None: the plain PPO learner) plus model overrides."""

    settings: Mapping[str, Any] | None
    model: Mapping[str, Any]
    description: str


#: The encoder of the w/o-attention variants (spec g): flat MLP 512-256-128, critic dropout 0.1.
_FLAT = {"encoder": "flat-mlp", "share_encoder": False}
#: The critic of the full method: dropout 0.1 in critic training passes plus the MC-dropout branch.
_CRITIC = {"value_dropout": 0.1, "uncertainty": True}

PRESETS: dict[str, Preset] = {
    "vamappo": Preset(
        {}, _CRITIC, "full VAMAPPO: attention, CAF, uncertainty gate, enhancement, adaptive clip, top-k"
    ),
    "vamappo-no-attention": Preset({}, {**_CRITIC, **_FLAT}, "w/o attention: flat MLP encoders"),
    "vamappo-no-enhancement": Preset(
        {"enhancement": False}, _CRITIC, "w/o enhancement: w = 1, uniform minibatches"
    ),
    "vamappo-no-uncertainty": Preset(
        {"uncertainty": False}, {"value_dropout": 0.1}, "w/o uncertainty: no MC branch, L_U or KL; alpha = 1"
    ),
    "vamappo-minimal": Preset(None, _FLAT, "minimal: plain MAPPO with the flat MLP encoder"),
}
