"""Any topology in any scenario: every registered scenario (built-in, the toy plug-in, any other
installed one) on a small topology of every loader kind, a few steps with its random baseline. A
scenario either runs (drawing the node attributes the topology lacks, see
:mod:`edgeplace.topology.attributes`) or refuses with an error that names the URI; the built-in ones
run on every kind, keep the attributes a topology has and draw the others seeded by
``attribute_seed``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from edgeplace.envs.agent_vne import static_network
from edgeplace.envs.agent_vne.static import scaled_substrate
from edgeplace.envs.base import ALL_AGENTS
from edgeplace.envs.dnn_inference import load_server_network
from edgeplace.policy import act
from edgeplace.scenarios import ScenarioSpec, scenarios
from edgeplace.topology import NodeFeature, Tier, load_topology, topology_schemes
from edgeplace.topology.generators import GEO_COMPUTE_TFLOPS, WAXMAN_CAPACITY_HIGH, WAXMAN_CAPACITY_LOW
from edgeplace.workloads.genai_chain import load_workload
from tests.conftest import SHARED_DATA
from tests.contract.conftest import smoke_of

#: A small topology of each loader kind (``gml``: a Topology Zoo-like file the test writes).
EXAMPLES = {
    "genai-edge": "genai-edge:S1",
    "gml": "gml:{zoo}",
    "waxman": "waxman:nodes=10,seed=1",
    "geo-radius": "geo-radius:nodes=8,radius_km=0.6,seed=0",
    "cell-cluster": "cell-cluster:towers=40,servers=6,seed=0",
    "synthetic": "synthetic:genai-small",
    "testbed": "testbed:bristol",
}
BUILT_IN = {"genai-chain", "agent-vne", "dnn-inference"}
#: Steps per run: enough to reach every agent's turn in the turn-based scenarios' first request.
STEPS = 6
WAXMAN = EXAMPLES["waxman"]
SCENARIOS = scenarios()
BUILT_IN_SCENARIOS = [spec for spec in SCENARIOS if spec.scenario_id in BUILT_IN]

#: Eight nodes with positions, links with and without a speed, no node resources (as Topology Zoo).
ZOO_GML = (
    'graph [\n  Network "Tiny"\n'
    + "".join(
        f'  node [ id {i} label "N{i}" Longitude {4.0 + 0.5 * i} Latitude {50.0 + 0.3 * (i % 3)} ]\n'
        for i in range(8)
    )
    + "".join(f"  edge [ source {i} target {(i + 1) % 8} LinkSpeedRaw 1000000000 ]\n" for i in range(8))
    + "  edge [ source 0 target 4 ]\n  edge [ source 2 target 6 ]\n]\n"
)


@pytest.fixture(scope="module")
def zoo(tmp_path_factory) -> Path:
    """:data:`ZOO_GML` written to a file."""
    path = tmp_path_factory.mktemp("zoo") / "Tiny.gml"
    path.write_text(ZOO_GML)
    return path


@pytest.fixture(scope="module")
def zoo_uri(zoo) -> str:
    """The ``gml:`` URI of :func:`zoo`."""
    return EXAMPLES["gml"].format(zoo=zoo)


def env_config(spec: ScenarioSpec, uri: str, **settings: Any) -> dict[str, Any]:
    """The scenario's smoke env config (short episodes) on ``uri``, padding chosen by the env."""
    config = {key: value for key, value in smoke_of(spec).env_config.items() if key != "max_nodes"}
    return {**config, **spec.env_config(topology=uri, **settings)}


def play(spec: ScenarioSpec, config: dict[str, Any]) -> list[dict[str, float]]:
    """``STEPS`` steps of the random (else the first) baseline from ``reset(seed=0)``; the rewards."""
    env = spec.make_env(config)
    name = "random" if "random" in spec.baselines else min(spec.baselines)
    policy = spec.make_baseline(name, seed=0, env_config=config)
    observations, _ = env.reset(seed=0)
    rewards = []
    for _ in range(STEPS):
        observations, reward, terminated, truncated, _ = env.step(act(policy, observations))
        assert all(np.isfinite(value) for value in reward.values()), reward
        rewards.append(reward)
        if terminated[ALL_AGENTS] or truncated[ALL_AGENTS]:
            observations, _ = env.reset()
    return rewards


def run_or_refuse(spec: ScenarioSpec, uri: str) -> list[dict[str, float]] | None:
    """The rewards of :func:`play`, or None when the scenario refuses ``uri`` naming it."""
    try:
        spec.make_env(env_config(spec, uri))
    except ValueError as err:
        assert spec.scenario_id not in BUILT_IN, f"{spec.scenario_id} refuses {uri}: {err}"
        assert uri in str(err), f"{spec.scenario_id}'s refusal does not name {uri}: {err}"
        return None
    return play(spec, env_config(spec, uri))


def test_every_loader_kind_has_an_example():
    assert sorted(EXAMPLES) == topology_schemes()


@pytest.mark.parametrize("scheme", sorted(EXAMPLES))
@pytest.mark.parametrize("spec", SCENARIOS, ids=lambda spec: spec.scenario_id)
def test_a_scenario_runs_on_every_loader_kind_or_names_the_uri_it_refuses(spec, scheme, zoo):
    uri = EXAMPLES[scheme].format(zoo=zoo)
    rewards = run_or_refuse(spec, uri)
    if rewards is not None:
        assert len(rewards) == STEPS and play(spec, env_config(spec, uri)) == rewards  # seeded


@pytest.mark.parametrize("spec", BUILT_IN_SCENARIOS, ids=lambda spec: spec.scenario_id)
def test_a_topology_too_large_for_max_nodes_is_refused_naming_the_uri(spec):
    uri = EXAMPLES["synthetic"]  # 25 nodes
    with pytest.raises(ValueError) as info:
        spec.make_env(env_config(spec, uri, max_nodes=4))
    assert uri in str(info.value)


@pytest.mark.parametrize("name", ["Geant.gml", "Brain.gml", "Waxman100.gml"])
@pytest.mark.parametrize("spec", BUILT_IN_SCENARIOS, ids=lambda spec: spec.scenario_id)
def test_built_in_scenarios_run_on_the_shared_topology_zoo_files(spec, name):
    path = SHARED_DATA / "topologies" / name
    if not path.is_file():
        pytest.skip(f"shared data file {path} is absent (expected next to the repository)")
    assert len(run_or_refuse(spec, f"gml:{path}")) == STEPS


# --- the attribute rule in each built-in scenario -----------------------------------------------
def test_agent_vne_keeps_a_waxman_substrate_and_draws_the_spec_substrate_elsewhere(zoo_uri):
    waxman = load_topology(WAXMAN)
    kept = static_network({"topology": WAXMAN, "capacity_scale": 1.0})
    np.testing.assert_array_equal(kept.capacity, waxman.capacity)
    np.testing.assert_array_equal(kept.substrate.tier, waxman.tier)
    assert {tag: kept.substrate.affinity[tag].tolist() for tag in waxman.affinity} == {
        tag: holders.tolist() for tag, holders in waxman.affinity.items()
    }

    drawn, other = (
        static_network({"topology": zoo_uri, "capacity_scale": 1.0, "attribute_seed": seed})
        for seed in (0, 1)
    )
    tier = drawn.substrate.tier
    np.testing.assert_array_equal(np.bincount(tier, minlength=3), [1, 2, 5])
    assert (drawn.capacity >= WAXMAN_CAPACITY_LOW[tier]).all()
    assert (drawn.capacity <= WAXMAN_CAPACITY_HIGH[tier]).all()
    assert drawn.attribute_names == ("tee", "camera") and drawn.attributes.sum(axis=0).tolist() == [1, 1]
    assert not drawn.substrate.affinity["camera"][tier != Tier.ACCESS].any()
    np.testing.assert_array_equal(drawn.capacity, scaled_substrate(zoo_uri, 1.0, 1.0, 0).capacity)  # uncached
    assert not np.array_equal(drawn.capacity, other.capacity)
    np.testing.assert_array_equal(drawn.bandwidth_mbps, load_topology(zoo_uri).bandwidth_mb_s * 8.0)


def test_dnn_inference_keeps_geo_radius_servers_and_draws_them_elsewhere(zoo_uri):
    uri = "geo-radius:nodes=8,radius_km=0.6,seed=0"
    geo = load_topology(uri)
    kept = load_server_network(uri, 5)
    np.testing.assert_array_equal(kept.compute_tflops, geo.capacity[:, geo.resource_index("compute_tflops")])
    np.testing.assert_array_equal(kept.uplink_mbps, geo.node_features[NodeFeature.UPLINK_MB_S] * 8.0)
    drawn, other = load_server_network(zoo_uri, 0), load_server_network(zoo_uri, 1)
    assert set(drawn.compute_tflops) <= set(GEO_COMPUTE_TFLOPS)
    assert not np.array_equal(drawn.compute_tflops, other.compute_tflops) or not np.array_equal(
        drawn.memory_mb, other.memory_mb
    )


def test_genai_chain_keeps_the_datasets_nodes_and_draws_the_missing_features(zoo_uri):
    dataset = load_topology("genai-edge:S1")
    kept = load_workload("genai-edge:S1").substrate
    np.testing.assert_array_equal(kept.capacity[:, 0], dataset.capacity[:, 0])
    np.testing.assert_array_equal(kept.node_features["storage"], dataset.node_features["storage"])
    on_waxman = load_workload(WAXMAN).substrate
    np.testing.assert_array_equal(on_waxman.capacity[:, 0], load_topology(WAXMAN).capacity[:, 0])  # its own
    traffic = on_waxman.node_features["traffic_rate"]
    assert (traffic == np.round(traffic)).all() and traffic.min() >= 17 and traffic.max() <= 48
    drawn, other = (load_workload(zoo_uri, attribute_seed=seed).substrate for seed in (0, 1))
    assert drawn.resource_names == ("compute",) and 16 <= drawn.capacity.min() <= drawn.capacity.max() <= 55
    assert not np.array_equal(drawn.capacity, other.capacity)
