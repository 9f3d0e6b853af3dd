"""HISPER / HASAC and HAPPO (spec: papers/hisper.md, sections f and g): multi-agent RLlib Algorithms
trained from time-aligned joint transitions of the dnn-inference scenario, with autoregressive or
factorised actor heads, hybrid-reward twin critics (HISPER/HASAC) or a centralised V(s) (HAPPO)."""

from edgeplace.algos.hisper.algorithm import HISPER
from edgeplace.algos.hisper.build import build_happo_config, build_hisper_config
from edgeplace.algos.hisper.config import HISPERConfig, preset_config
from edgeplace.algos.hisper.happo import HAPPO
from edgeplace.algos.hisper.happo_config import HAPPOConfig
from edgeplace.algos.hisper.settings import PRESETS, HISPERSettings

__all__ = [
    "HAPPO",
    "HISPER",
    "PRESETS",
    "HAPPOConfig",
    "HISPERConfig",
    "HISPERSettings",
    "build_happo_config",
    "build_hisper_config",
    "preset_config",
]
