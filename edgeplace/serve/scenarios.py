"""The scenarios the placement API can serve: every registered scenario whose spec names a placer."""

from __future__ import annotations

from edgeplace.scenarios import get_scenario, scenarios
from edgeplace.serve.placer import ScenarioPlacer


def servable_scenarios() -> list[str]:
    """Ids of the registered scenarios with a Serve placer, sorted."""
    return [spec.scenario_id for spec in scenarios() if spec.placer is not None]


def placer_class(scenario_id: str) -> type[ScenarioPlacer]:
    """The placer class of ``scenario_id`` (imported now).

    Raises:
        KeyError: an unknown scenario; ValueError: one without a placer.
    """
    placer = get_scenario(scenario_id).placer_class()
    if placer is None:
        raise ValueError(f"scenario {scenario_id!r} has no Serve placer; servable: {servable_scenarios()}")
    return placer
