"""The placement API over real HTTP: served actions equal the env-side greedy evaluation of the
restored checkpoint (and not a fresh module's), the response's contents, batched placement and the
metadata routes."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np
import pytest
from ray.rllib.core.rl_module.multi_rl_module import MultiRLModuleSpec

from edgeplace.algos.checkpoints import read_metadata
from edgeplace.algos.module_policy import ModulePolicy
from edgeplace.envs.base import ALL_AGENTS
from edgeplace.envs.genai_chain import AGENT_IDS, GenAIChainConfig, GenAIChainEnv
from edgeplace.envs.genai_chain.kpis import StageInfo
from edgeplace.policy import act
from edgeplace.serve.genai_chain_placer import ChainPlacer
from edgeplace.serve.responses import DECIMALS
from edgeplace.serve.routes import Route
from edgeplace.serve.schemas import ChainNetworkState, ChainPlaceRequest, ChainRequest, HealthStatus
from edgeplace.workloads.genai_chain import load_workload
from tests.serve.bodies import (
    MAIN_POLICY,
    NO_VIDEO_POLICY,
    NUM_NODES,
    PLACE,
    PLACE_BATCH,
    TOPOLOGY,
    idle_state,
    place_body,
    sample_request,
)

TOLERANCE = 10.0**-DECIMALS


@dataclass
class Arrival:
    """A request as the env presented it, and what the env-side policy did with it."""

    state: dict
    request: dict
    instances: list[int] = field(default_factory=list)
    latency_s: list[float] = field(default_factory=list)
    utility: list[float] = field(default_factory=list)


def greedy_trace(policy: ModulePolicy, env_config: dict, seed: int) -> list[Arrival]:
    """One episode of env-side greedy evaluation in which telemetry is exact: at each arrival the
    unseen slowdown delta is set to the observed telemetry, so the env's dynamics are the server's
    estimates and all five stages are comparable."""
    env = GenAIChainEnv(env_config)
    observations, _ = env.reset(seed=seed)
    arrivals: list[Arrival] = []
    while True:
        if env.acting_agent == AGENT_IDS[0]:
            env.noise.delta = env.noise.telemetry.copy()
            progress, request = env.progress, env.progress.request
            state = {
                "load": env.load.tolist(),
                "telemetry": env.noise.telemetry.tolist(),
                "request_index": progress.request_index,
            }
            fields = {"route": request.types.tolist(), "omega": request.omega}
            fields |= {"size_scale": request.size_scale, "access_node": request.access_node}
            arrivals.append(Arrival(state, fields))
        actions = act(policy, observations)
        observations, _, terminated, _, infos = env.step(actions)
        ((agent, action),) = actions.items()
        arrivals[-1].instances.append(action)
        arrivals[-1].latency_s.append(infos[agent][StageInfo.LATENCY_S])
        arrivals[-1].utility.append(infos[agent][StageInfo.UTILITY])
        if terminated[ALL_AGENTS]:
            return arrivals


@pytest.fixture(scope="module")
def env_config(served) -> dict:
    return read_metadata(served.checkpoint)["env_config"]


@pytest.fixture(scope="module")
def traced(served, env_config) -> list[tuple[Arrival, dict]]:
    """Three episodes of env-side arrivals and the served placement of each."""
    policy = ModulePolicy.from_checkpoint(served.checkpoint)
    arrivals = [arrival for seed in range(3) for arrival in greedy_trace(policy, env_config, seed)]
    placements = []
    for arrival in arrivals:
        response = served.client.post(PLACE, json=place_body(arrival.state, arrival.request))
        assert response.status_code == 200, response.text
        placements.append(response.json())
    return list(zip(arrivals, placements, strict=True))


def instances_of(placement: dict) -> list[int]:
    return [stage["instance"] for stage in placement["stages"]]


def test_served_actions_equal_env_side_greedy_evaluation(traced):
    assert len(traced) == 3 * GenAIChainConfig().requests_per_episode
    for arrival, placement in traced:
        assert instances_of(placement) == arrival.instances
        stages = placement["stages"]
        np.testing.assert_allclose([s["latency_s"] for s in stages], arrival.latency_s, atol=TOLERANCE)
        np.testing.assert_allclose([s["utility"] for s in stages], arrival.utility, atol=TOLERANCE)


def test_served_module_is_the_trained_one_not_a_fresh_one(served, env_config, traced):
    trained = ModulePolicy.from_checkpoint(served.checkpoint)
    fresh_modules = MultiRLModuleSpec.from_module(trained.modules).build()
    fresh = ChainPlacer(
        ModulePolicy("fresh", fresh_modules, trained.agent_modules),
        GenAIChainConfig.from_env_config(env_config),
        top_k=5,
    )
    fresh_instances = []
    for arrival, _ in traced:
        body = ChainPlaceRequest.model_validate(place_body(arrival.state, arrival.request))
        fresh_instances.append(fresh.placements([fresh.job(body)]).instance[0].tolist())
    assert fresh_instances != [instances_of(placement) for _, placement in traced]


def test_placement_contents_follow_the_route_and_the_system_model(served):
    workload = load_workload(TOPOLOGY)
    deadlines = np.asarray(GenAIChainConfig().params.stage_deadline_s)
    request = sample_request()
    response = served.client.post(PLACE, json=place_body(request=request))
    assert response.status_code == 200, response.text
    placement = response.json()
    assert placement["policy"] == MAIN_POLICY and len(placement["stages"]) == len(request["route"])
    for model_type, stage in zip(request["route"], placement["stages"], strict=True):
        assert workload.instance_type[stage["instance"]] == model_type
        assert workload.instance_node[stage["instance"]] == stage["node"]
        probabilities = [candidate["probability"] for candidate in stage["candidates"]]
        assert 1 <= len(probabilities) <= 5 and probabilities == sorted(probabilities, reverse=True)
        assert stage["candidates"][0]["instance"] == stage["instance"]
        assert all(workload.instance_type[c["instance"]] == model_type for c in stage["candidates"])
        assert 0.0 < sum(probabilities) <= 1.0 + TOLERANCE
    stages = placement["stages"]
    assert placement["latency_s"] == pytest.approx(sum(s["latency_s"] for s in stages), abs=10 * TOLERANCE)
    assert placement["utility"] == pytest.approx(sum(s["utility"] for s in stages), abs=10 * TOLERANCE)
    assert placement["deadline_s"] == pytest.approx(deadlines[np.asarray(request["route"]) - 1].sum())
    assert placement["meets_sla"] == (placement["latency_s"] <= placement["deadline_s"])


def random_state(rng: np.random.Generator) -> dict:
    return {
        "load": rng.uniform(0.0, 40.0, NUM_NODES).round(3).tolist(),
        "telemetry": rng.exponential(0.1, NUM_NODES).round(4).tolist(),
    }


def random_request(rng: np.random.Generator) -> dict:
    route = rng.integers(1, 4, 5).tolist()
    return sample_request(route=route, omega=float(rng.uniform()), access_node=int(rng.integers(NUM_NODES)))


def assert_same_up_to_ties(batched: list[dict], single: list[dict]) -> None:
    """Batched and one-by-one placements agree, except where a stage's top two actions tie: batched
    and single forwards differ in the last float bits (~1e-9), which can flip an exact-looking tie
    of a barely trained policy, and the rest of that chain then legitimately differs."""
    for a, b in zip(batched, single, strict=True):
        if instances_of(a) == instances_of(b):
            assert a["latency_s"] == pytest.approx(b["latency_s"], abs=TOLERANCE)
            continue
        stage = next(
            i for i, (x, y) in enumerate(zip(instances_of(a), instances_of(b), strict=True)) if x != y
        )
        candidates = {c["instance"]: c["probability"] for c in b["stages"][stage]["candidates"]}
        best = b["stages"][stage]["candidates"][0]["probability"]
        assert candidates.get(instances_of(a)[stage]) == pytest.approx(best, abs=2 * TOLERANCE)


def test_place_batch_places_each_request_independently_on_one_state(served):
    rng = np.random.default_rng(1)
    state, requests = random_state(rng), [random_request(rng) for _ in range(12)]
    response = served.client.post(PLACE_BATCH, json={"state": state, "requests": requests})
    assert response.status_code == 200, response.text
    batch = response.json()
    assert batch["policy"] == MAIN_POLICY
    singles = [served.client.post(PLACE, json=place_body(state, request)).json() for request in requests]
    assert_same_up_to_ties(batch["placements"], singles)


def test_concurrent_place_calls_each_get_their_own_placement(served):
    rng = np.random.default_rng(2)
    bodies = [place_body(random_state(rng), random_request(rng)) for _ in range(24)]

    def post(body: dict) -> dict:
        response = served.client.post(PLACE, json=body)
        assert response.status_code == 200, response.text
        return response.json()

    with ThreadPoolExecutor(max_workers=12) as pool:
        concurrent = list(pool.map(post, bodies))
    assert_same_up_to_ties(concurrent, [post(body) for body in bodies])


def test_zero_shot_policy_places_on_its_override_topology(served):
    body = place_body(request=sample_request(route=[1, 2, 1, 2, 1]), policy=NO_VIDEO_POLICY)
    response = served.client.post(PLACE, json=body)
    assert response.status_code == 200, response.text
    placement = response.json()
    assert placement["policy"] == NO_VIDEO_POLICY
    assert all(0 <= stage["node"] < NUM_NODES for stage in placement["stages"])


def test_policies_health_and_docs(served):
    policies = served.client.get(Route.POLICIES).json()
    assert [p["name"] for p in policies] == [MAIN_POLICY, NO_VIDEO_POLICY]
    assert [p["default"] for p in policies] == [True, False]
    main, no_video = policies
    assert main["topology"] == TOPOLOGY and no_video["topology"].startswith("genai-edge:")
    assert main["num_nodes"] == no_video["num_nodes"] == NUM_NODES
    assert main["checkpoint"] == str(served.checkpoint.resolve())
    assert main["training"] == read_metadata(served.checkpoint)
    assert served.client.get(Route.HEALTH).json() == {"status": HealthStatus.OK, "policies": 2}
    docs = served.client.get("/docs")
    assert docs.status_code == 200 and "swagger" in docs.text.lower()


def test_openapi_is_narrowed_to_the_served_topology_and_its_example_places(served):
    document = served.client.get("/openapi.json").json()
    schemas = document["components"]["schemas"]
    load = schemas[ChainNetworkState.__name__]["properties"]["load"]
    assert load["minItems"] == load["maxItems"] == NUM_NODES
    assert schemas[ChainRequest.__name__]["properties"]["access_node"]["maximum"] == NUM_NODES - 1
    place = schemas[ChainPlaceRequest.__name__]
    assert place["properties"]["policy"]["anyOf"][0]["enum"] == [MAIN_POLICY, NO_VIDEO_POLICY]
    (example,) = place["examples"]
    assert served.client.post(PLACE, json=example).status_code == 200
    assert example["state"] == idle_state() | {"request_index": 0}
