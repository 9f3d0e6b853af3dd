"""Soft planner backends by name (papers/llm-mappo.md, section d). Backends are imported when made, so
an env that names one never imports the others (nor torch, unless its backend needs it)."""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from typing import Any

from edgeplace.planners.soft_plans.protocol import SoftPlanner

NO_PLANNER = "none"
PLANNERS: dict[str, str] = {
    "heuristic": "edgeplace.planners.soft_plans.heuristic:HeuristicPlanner",
    "memory": "edgeplace.planners.soft_plans.memory:MemoryPlanner",
    "http": "edgeplace.planners.soft_plans.http:HttpPlanner",
}
"""Backend name -> ``"module:Class"``; each class takes ``(seed, options)``."""


def planner_names() -> list[str]:
    """Every name an env config's ``planner`` may take, ``none`` first."""
    return [NO_PLANNER, *sorted(PLANNERS)]


def make_planner(name: str, *, seed: int = 0, options: Mapping[str, Any] | None = None) -> SoftPlanner | None:
    """Backend ``name`` built with ``options`` (None for ``none``).

    Raises:
        ValueError: an unknown name (listing the known ones), or options for ``none``.
    """
    if name == NO_PLANNER:
        if options:
            raise ValueError(f"planner 'none' takes no options, got {sorted(options)}")
        return None
    if name not in PLANNERS:
        raise ValueError(f"unknown planner {name!r}; known: {planner_names()}")
    module, _, attribute = PLANNERS[name].partition(":")
    return getattr(importlib.import_module(module), attribute)(seed, dict(options or {}))
