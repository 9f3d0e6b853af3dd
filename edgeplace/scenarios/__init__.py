"""Scenario plug-ins: the :class:`ScenarioSpec` a scenario declares, and the registry built from the
``edgeplace.scenarios`` entry points."""

from edgeplace.scenarios.lazy import Lazy
from edgeplace.scenarios.registry import (
    ENTRY_POINT_GROUP,
    ScenarioPluginError,
    get_reproduction,
    get_scenario,
    reproductions,
    scenario_ids,
    scenarios,
)
from edgeplace.scenarios.spec import AlgorithmSpec, Preparation, ReproduceSpec, ScenarioSpec

__all__ = [
    "ENTRY_POINT_GROUP",
    "AlgorithmSpec",
    "Lazy",
    "Preparation",
    "ReproduceSpec",
    "ScenarioPluginError",
    "ScenarioSpec",
    "get_reproduction",
    "get_scenario",
    "reproductions",
    "scenario_ids",
    "scenarios",
]
