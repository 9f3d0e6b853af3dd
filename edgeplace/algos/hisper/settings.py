"""HISPER's hyperparameters and switches (spec: papers/hisper.md, sections f and g), and its presets.

HASAC and the ablations are presets of the same code: each preset is a dict of overrides of
:class:`HISPERSettings`, nothing else. The RLlib-level settings that already exist in
``AlgorithmConfig`` (discount ``gamma``, batch ``train_batch_size_per_learner``, parallel envs
``num_envs_per_env_runner``, ``seed``, ``num_gpus_per_learner``) stay there (see
:class:`~edgeplace.algos.hisper.config.HISPERConfig`).

Steps: one *step* is one joint transition (one env slot, all agents acting); a round of E parallel
envs is E steps.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Self

from edgeplace.config_mapping import from_mapping


class EntropyInTargets(StrEnum):
    """How ``alpha * log pi'`` enters the per-part targets of a multi-head critic (spec i-13)."""

    ALL = "all"
    """Literal Eqs. 27/31: the full ``alpha * log pi'`` in each of the P reward parts."""
    SPLIT = "split"
    """``alpha * log pi' / P`` in each part, so the parts sum to the one-output target."""


class TwinMin(StrEnum):
    """How the twin critics' minimum is taken when the critic has P reward parts (targets and actors)."""

    PART = "part"
    """Eqs. 31/33 literally: ``min_j Q_j^i`` per part i, so the parts may come from different twins."""
    TOTAL = "total"
    """Every part from the twin whose summed ``sum_i Q_j^i`` is lower: the pessimism of a one-output
    twin critic, keeping the per-part targets."""


@dataclass(frozen=True)
class HISPERSettings:
    """Every HISPER/HASAC setting that RLlib's AlgorithmConfig has no field for; the spec's defaults."""

    autoregressive: bool = True
    """Autoregressive LSTM actor heads (HISPER); False: factorised heads (HASAC, ``hisper-noAR``)."""
    hybrid_reward: bool = True
    """Twin critics with one Q per reward part (accuracy, delay, cost); False: one output on r."""
    actor_lr: float = 2e-4
    critic_lr: float = 5e-4
    alpha: float | None = None
    """Entropy temperature (fixed). None: the spec's value for the agent count, ``agents / 4`` (2.0 at 8
    agents, 2.5 at 10)."""
    entropy_in_targets: EntropyInTargets = EntropyInTargets.ALL
    twin_min: TwinMin = TwinMin.PART
    tau: float = 0.005
    """Polyak step of the target critics: ``target <- (1 - tau) target + tau online``."""
    gumbel_temperature: float = 1.0
    """Temperature of the straight-through Gumbel-Softmax of the actor loss (gradient only)."""
    buffer_size: int = 370_000
    """Joint transitions the replay buffer holds (ring buffer)."""
    prefill_steps: int = 90_000
    """Uniform-random transitions collected before the first update; not counted in the budget."""
    critic_warmup_updates: int = 0
    """Critic-only updates right after the prefill (no actor step, Polyak as usual), so the actors'
    first steps follow a critic fitted to the prefill rather than a random one; 0: none (the spec)."""
    steps_per_iteration: int = 2_000
    """Env steps collected per training iteration (a multiple of ``num_envs_per_env_runner``)."""
    updates_per_iteration: int = 100
    """Gradient updates (critic + every actor) after each iteration's collection."""
    eval_interval_steps: int = 2_000
    """Evaluate after the first iteration, then every this many env steps (0: never)."""
    eval_seed_base: int = 10_000
    eval_episodes: int = 10
    """Evaluation plays one deterministic (argmax) episode on each env seed
    ``eval_seed_base + i``, i < ``eval_episodes``: the same streams at every point and for every
    algorithm."""
    embed_dim: int = 32
    """Width of every embedding (actor: request, servers, links; critic: agent, servers, links, action)."""
    actor_hidden: tuple[int, ...] = (256, 256)
    critic_hidden: tuple[int, ...] = (512, 512, 256, 256, 128)
    lstm_hidden: int = 128
    checkpoint_replay: bool = True
    """Write the replay buffer into checkpoints; False keeps checkpoints small and a resume refills
    the buffer with a new prefill."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "entropy_in_targets", EntropyInTargets(self.entropy_in_targets))
        object.__setattr__(self, "twin_min", TwinMin(self.twin_min))
        object.__setattr__(self, "actor_hidden", tuple(int(w) for w in self.actor_hidden))
        object.__setattr__(self, "critic_hidden", tuple(int(w) for w in self.critic_hidden))
        for name in ("actor_lr", "critic_lr", "gumbel_temperature"):
            if not getattr(self, name) > 0:
                raise ValueError(f"hisper.{name} must be positive, got {getattr(self, name)!r}")
        if self.alpha is not None and self.alpha < 0:
            raise ValueError(f"hisper.alpha must be >= 0 or None, got {self.alpha!r}")
        if not 0.0 <= self.tau <= 1.0:
            raise ValueError(f"hisper.tau must be in [0, 1], got {self.tau!r}")
        for name in ("buffer_size", "steps_per_iteration", "embed_dim", "lstm_hidden", "eval_episodes"):
            if getattr(self, name) < 1:
                raise ValueError(f"hisper.{name} must be >= 1, got {getattr(self, name)!r}")
        counts = ("prefill_steps", "critic_warmup_updates", "updates_per_iteration", "eval_interval_steps")
        for name in counts:
            if getattr(self, name) < 0:
                raise ValueError(f"hisper.{name} must be >= 0, got {getattr(self, name)!r}")
        if self.critic_warmup_updates and not self.prefill_steps:
            raise ValueError("hisper.critic_warmup_updates needs prefill_steps > 0 (it fits the prefill)")
        for name in ("actor_hidden", "critic_hidden"):
            widths = getattr(self, name)
            if not widths or min(widths) < 1:
                raise ValueError(f"hisper.{name} must be non-empty positive widths, got {widths!r}")

    def resolved_alpha(self, num_agents: int) -> float:
        """The temperature used with ``num_agents`` agents."""
        return self.alpha if self.alpha is not None else num_agents / 4.0

    @classmethod
    def from_dict(cls, values: Mapping[str, Any] | None) -> Self:
        """Build from a plain dict, naming unknown keys."""
        return from_mapping(cls, values, "hisper settings")

    def to_dict(self) -> dict[str, Any]:
        out = dataclasses.asdict(self)
        out["entropy_in_targets"] = str(self.entropy_in_targets)
        out["twin_min"] = str(self.twin_min)
        return out


#: Preset name -> overrides of :class:`HISPERSettings` (the same code, different switches).
PRESETS: dict[str, dict[str, Any]] = {
    "hisper": {},
    "hasac": {"autoregressive": False, "hybrid_reward": False},
    "hisper-noHRA": {"hybrid_reward": False},
    "hisper-noAR": {"autoregressive": False},
}


def preset_settings(preset: str, overrides: Mapping[str, Any] | None = None) -> HISPERSettings:
    """The settings of ``preset`` with ``overrides`` on top; unknown presets and keys raise."""
    if preset not in PRESETS:
        raise KeyError(f"unknown HISPER preset {preset!r}; known: {sorted(PRESETS)}")
    return HISPERSettings.from_dict({**PRESETS[preset], **(overrides or {})})
