"""Heuristic baselines of the metaverse-dag scenario (papers/llm-mappo.md, section f): greedy and
random-from-mask, as policies of :mod:`edgeplace.policy`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from edgeplace.algos.baselines.metaverse_dag.greedy import GreedyPolicy
from edgeplace.algos.baselines.metaverse_dag.random_from_mask import RandomFromMaskPolicy
from edgeplace.policy import Policy


def _greedy(seed: int, env_config: Mapping[str, Any]) -> Policy:
    return GreedyPolicy(env_config)


def _random(seed: int, env_config: Mapping[str, Any]) -> Policy:
    return RandomFromMaskPolicy(seed)


BASELINES = {"greedy": _greedy, "random": _random}
"""Baseline name -> factory ``(seed, env_config) -> Policy``."""

__all__ = ["BASELINES", "GreedyPolicy", "RandomFromMaskPolicy"]
