"""The scenario registry: every :class:`ScenarioSpec` found through the ``edgeplace.scenarios``
entry-point group, built-in and third-party alike.

A package adds a scenario by declaring, in its ``pyproject.toml``::

    [project.entry-points."edgeplace.scenarios"]
    my-scenario = "my_package.spec:SPEC"

where the entry point's name is the spec's ``scenario_id``. Nothing else is edited.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache
from importlib.metadata import EntryPoint, entry_points

from edgeplace.scenarios.spec import ReproduceSpec, ScenarioSpec

ENTRY_POINT_GROUP = "edgeplace.scenarios"


class ScenarioPluginError(RuntimeError):
    """An entry point of the ``edgeplace.scenarios`` group that does not give a valid scenario."""


def load_specs(points: Iterable[EntryPoint]) -> dict[str, ScenarioSpec]:
    """The specs of ``points`` by scenario id.

    Raises:
        ScenarioPluginError: a point that fails to load, is not a ScenarioSpec, is named other than its
            scenario id, or repeats an id (naming the point and its distribution).
    """
    specs: dict[str, ScenarioSpec] = {}
    for point in points:
        where = f"entry point {point.name} = {point.value!r} ({ENTRY_POINT_GROUP})"
        try:
            spec = point.load()
        except Exception as err:  # a plug-in's import error of any kind: name the plug-in
            raise ScenarioPluginError(f"{where}: cannot load: {type(err).__name__}: {err}") from err
        if not isinstance(spec, ScenarioSpec):
            raise ScenarioPluginError(f"{where}: expected a ScenarioSpec, got {type(spec).__name__}")
        if spec.scenario_id != point.name:
            raise ScenarioPluginError(f"{where}: named {point.name!r} but declares {spec.scenario_id!r}")
        if spec.scenario_id in specs:
            raise ScenarioPluginError(f"{where}: scenario {spec.scenario_id!r} is registered twice")
        specs[spec.scenario_id] = spec
    return specs


@cache
def _registered() -> dict[str, ScenarioSpec]:
    return load_specs(entry_points(group=ENTRY_POINT_GROUP))


def scenarios() -> list[ScenarioSpec]:
    """All registered scenarios, sorted by id."""
    registered = _registered()
    return [registered[key] for key in sorted(registered)]


def scenario_ids() -> list[str]:
    """The registered scenario ids, sorted."""
    return sorted(_registered())


def get_scenario(scenario_id: str) -> ScenarioSpec:
    """The registered scenario ``scenario_id``; the error lists the known ids."""
    registered = _registered()
    if scenario_id not in registered:
        raise KeyError(f"unknown scenario {scenario_id!r}; known: {sorted(registered)}")
    return registered[scenario_id]


def reproductions() -> dict[str, tuple[ScenarioSpec, ReproduceSpec]]:
    """Paper name -> (its scenario, its protocol), over every scenario that has one."""
    found: dict[str, tuple[ScenarioSpec, ReproduceSpec]] = {}
    for spec in scenarios():
        if spec.reproduce is not None:
            if spec.reproduce.paper in found:
                other = found[spec.reproduce.paper][0].scenario_id
                raise ScenarioPluginError(
                    f"paper {spec.reproduce.paper!r} is reproduced by both {other} and {spec.scenario_id}"
                )
            found[spec.reproduce.paper] = (spec, spec.reproduce)
    return found


def get_reproduction(paper: str) -> tuple[ScenarioSpec, ReproduceSpec]:
    """The scenario and protocol of ``paper``; the error lists the known papers."""
    found = reproductions()
    if paper not in found:
        raise KeyError(f"unknown paper {paper!r}; known: {sorted(found)}")
    return found[paper]
