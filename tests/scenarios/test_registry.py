"""The scenario registry: specs come from entry points, and a broken plug-in is named, not skipped."""

from __future__ import annotations

from importlib.metadata import EntryPoint

import pytest

from edgeplace.scenarios import ENTRY_POINT_GROUP, Lazy, ScenarioPluginError, ScenarioSpec, get_scenario
from edgeplace.scenarios.registry import load_specs

GENAI_SPEC = "edgeplace.scenarios.genai_chain:SPEC"


def point(name: str, value: str) -> EntryPoint:
    return EntryPoint(name=name, value=value, group=ENTRY_POINT_GROUP)


def test_specs_load_by_id():
    specs = load_specs([point("genai-chain", GENAI_SPEC)])
    assert specs["genai-chain"] is get_scenario("genai-chain")


@pytest.mark.parametrize(
    ("points", "message"),
    [
        ([point("x", "edgeplace.scenarios.lazy:Lazy")], "expected a ScenarioSpec, got type"),
        ([point("other", GENAI_SPEC)], "named 'other' but declares 'genai-chain'"),
        ([point("genai-chain", GENAI_SPEC)] * 2, "registered twice"),
        ([point("gone", "no_such_package.spec:SPEC")], "gone = 'no_such_package.spec:SPEC'.*cannot load"),
    ],
)
def test_a_broken_plug_in_is_named(points, message):
    with pytest.raises(ScenarioPluginError, match=message):
        load_specs(points)


def test_unknown_scenarios_papers_and_algorithms_list_the_known_ones():
    from edgeplace.scenarios import get_reproduction

    with pytest.raises(KeyError, match="known: .*'genai-chain'"):
        get_scenario("nowhere")
    with pytest.raises(KeyError, match="known: .*'vamappo'"):
        get_reproduction("alphazero")
    with pytest.raises(KeyError, match="algorithms for it: .*'mappo'"):
        get_scenario("genai-chain").algorithm("dqn")


def test_lazy_references_name_what_is_wrong():
    with pytest.raises(ValueError, match="expected 'package.module:attribute'"):
        Lazy("edgeplace.scenarios.lazy.Lazy")
    with pytest.raises(AttributeError, match="has no 'Nope'"):
        Lazy("edgeplace.scenarios.lazy:Nope").resolve()
    assert Lazy("edgeplace.scenarios.lazy:Lazy").resolve() is Lazy


def spec(**changes) -> ScenarioSpec:
    fields = {
        "scenario_id": "demo",
        "description": "",
        "env": dict,
        "kpis": ("a", "b"),
        "primary_kpis": ("a",),
    }
    return ScenarioSpec(**{**fields, **changes})


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"scenario_id": "Demo_1"}, "lowercase words joined by hyphens"),
        ({"kpis": ()}, "kpis must be non-empty and unique"),
        ({"primary_kpis": ("c",)}, r"primary_kpis \['c'\] are not among its kpis"),
        ({"wall_clock_kpis": ("c",)}, r"wall_clock_kpis \['c'\]"),
        ({"baselines": {"x": print}, "trained_baselines": {"x": print}}, "both baselines and trained"),
        ({"sweep_files": ("no-colon.yaml",)}, "expected 'package.module:attribute'"),
    ],
)
def test_a_malformed_spec_is_rejected_naming_the_field(changes, message):
    with pytest.raises(ValueError, match=message):
        spec(**changes)


def test_a_spec_with_algorithms_needs_a_checkpoint_loader():
    from edgeplace.scenarios import AlgorithmSpec

    with pytest.raises(ValueError, match="needs load_policy"):
        spec(algorithms={"x": AlgorithmSpec(print, "x")})
    with pytest.raises(ValueError, match="no trained policies"):
        spec().policy_from_checkpoint("anywhere")
