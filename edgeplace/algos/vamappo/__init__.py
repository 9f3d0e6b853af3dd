"""VAMAPPO (value-adaptive multi-agent PPO) as an RLlib-native algorithm (spec: papers/vamappo.md)."""

from edgeplace.algos.vamappo.config import VAMAPPO, VAMAPPOConfig
from edgeplace.algos.vamappo.settings import PRESETS, Preset, VAMAPPOSettings

__all__ = ["PRESETS", "VAMAPPO", "Preset", "VAMAPPOConfig", "VAMAPPOSettings"]
