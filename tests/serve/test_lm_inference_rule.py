"""The lm-inference rule backend served without a checkpoint (``rule:lm-inference[:CONTROLLER]``):
``POST /v1/lm-inference/place`` on the states an env run reaches answers what the rule controller
decides there (JSQ on the state, the role deployer on the routed state, under the state's plan), in
the learned backend's response schema with probability 1 and one candidate per decision; bad
spellings are refused naming the field, the scenario or the controller."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError

from edgeplace.algos.baselines.lm_inference.jsq import JsqScheduler
from edgeplace.algos.baselines.lm_inference.policies import HierarchyPolicy
from edgeplace.algos.baselines.lm_inference.reference import make_env
from edgeplace.algos.baselines.lm_inference.role_deployer import RoleDeployer
from edgeplace.envs.lm_inference import LmInferenceEnv
from edgeplace.envs.lm_inference.agents import PLANNER, SCHEDULER
from edgeplace.envs.lm_inference.lm_types import LM_LABELS, NUM_LMS, Mode
from edgeplace.envs.lm_inference.masks import KEEP
from edgeplace.envs.lm_inference.node_config import NodeConfig
from edgeplace.envs.lm_inference.plan import Plan
from edgeplace.policy import act
from edgeplace.serve.lm_inference_placer import LmInferencePlacer
from edgeplace.serve.routes import Route, create_api
from edgeplace.serve.scenarios import servable_scenarios
from edgeplace.serve.served_policies import ServedPolicies
from edgeplace.serve.settings import CheckpointSpec, ServeArgs
from edgeplace.serve.sources import resolve_sources
from tests.serve.test_lm_inference_placer import ENV_CONFIG, SLOTS, state_body

PLACE = Route.PLACE.of(LmInferencePlacer.scenario)
SERVED = ["ma=rule:lm-inference:ma-rule", "rule:lm-inference:reference"]
"""Both served rule controllers; ``ma`` is the scenario's default."""
TOP_K = 3


@pytest.fixture(scope="module")
def client() -> Iterator[TestClient]:
    """The replica's FastAPI app over the rule policies, in process (no checkpoint, no Ray): ``/place``
    places each job alone, as the deployment's batch of one would."""
    args = ServeArgs.model_validate({"checkpoints": SERVED, "top_k": TOP_K})
    policies = ServedPolicies(resolve_sources(args, servable_scenarios()), top_k=args.top_k)

    async def place_one(placer, job):
        return placer.place([job])[0]

    with TestClient(create_api(policies, place_one, args)) as test_client:
        yield test_client


def explicit_routes(action: np.ndarray, num_nodes: int) -> np.ndarray:
    """The destinations of a scheduler's explicit action. Shapes: (N I + 1,) -> (N, I)."""
    return np.asarray(action[: num_nodes * NUM_LMS]).reshape(num_nodes, NUM_LMS)


def explicit_config(action: np.ndarray) -> NodeConfig:
    """The configuration of a deployer's explicit action. Shapes: (3 I + 1,)."""
    return NodeConfig(*(tuple(action[k * NUM_LMS : (k + 1) * NUM_LMS]) for k in range(3)))


def served_decisions(placed: dict, num_nodes: int) -> tuple[np.ndarray, list[NodeConfig]]:
    """(N, I) destinations of the placed routes (-1 where no request) and every node's configuration
    after the decision; checks that each decision is certain with itself as its one candidate."""
    dest = np.full((num_nodes, NUM_LMS), -1)
    for route in placed["routes"]:
        dest[route["origin"], LM_LABELS.index(route["lm"])] = route["destination"]
        assert route["probability"] == 1.0
        assert route["candidates"] == [{"index": route["destination"], "probability": 1.0}]
    for deployment in placed["deployments"]:
        assert deployment["probability"] == 1.0
        assert deployment["candidates"] == [{"index": deployment["action"], "probability": 1.0}]
        assert deployment["keep"] == (deployment["action"] == KEEP)
    configs = [
        NodeConfig(tuple(Mode[m.upper()] for m in config["mode"]), config["cores"], config["vgpus"])
        for config in (d["config"] for d in placed["deployments"])
    ]
    return dest, configs


def requested(dest: np.ndarray, demand: np.ndarray) -> np.ndarray:
    """``dest`` where ``demand`` has a request, -1 elsewhere (the response lists requests only)."""
    return np.where(demand > 0, dest, -1)


@pytest.mark.parametrize("controller", ["reference", "ma-rule"])
def test_served_rule_decisions_equal_the_rule_controller_on_the_states_the_env_reaches(client, controller):
    """The env runs ``controller`` (``ma-rule``: OPT plans, not uniform ones); on every slot the served
    decisions of that controller equal JSQ and the role deployer computed here on the env's state
    under its plan; for ``reference``, whose plan the state carries whole, also the env's own."""
    env: LmInferenceEnv = make_env(ENV_CONFIG)
    policy = HierarchyPolicy(controller, 0, ENV_CONFIG)
    scheduler, deployer = JsqScheduler(env.cluster, env.params), RoleDeployer(env.cluster, env.params)
    n, name = env.cluster.num_nodes, "ma" if controller == "ma-rule" else controller
    observations, _ = env.reset(seed=4)
    compared, kept, moved = 0, 0, 0
    while env.slot < SLOTS:
        if PLANNER in observations:
            observations, *_ = env.step(act(policy, observations))
            continue
        view, plan = env.view, Plan.from_weights(env.weights, env.cluster)
        body = {"state": state_body(view, env.weights), "request": {"prompts": view.demand.tolist()}}
        response = client.post(PLACE, json=body | {"policy": name})
        assert response.status_code == 200, response.text
        placed = response.json()
        assert placed["policy"] == name
        dest, configs = served_decisions(placed, n)
        expected_dest = scheduler.route(view, plan)
        assert np.array_equal(dest, requested(expected_dest, view.demand))
        targets = deployer.deploy(view.routed(expected_dest, env.cluster.can_host), plan)
        assert configs == [target or view.node_config(node) for node, target in enumerate(targets)]
        kept += sum(target is None for target in targets)
        moved += sum(target is not None for target in targets)

        routes = act(policy, observations)
        if controller == "reference":
            env_dest = explicit_routes(routes[SCHEDULER], n)
            assert np.array_equal(dest, requested(env_dest, view.demand))
        observations, *_ = env.step(routes)
        deployments = act(policy, observations)
        if controller == "reference":
            assert configs == [explicit_config(deployments[agent]) for agent in env.deployers]
        compared += 1
        observations, *_ = env.step(deployments)
    assert compared == SLOTS
    assert kept and moved, "every slot kept, or changed, every node's configuration"
    if controller == "ma-rule":
        assert (env.weights != env.weights.max()).any(), "the plan should not be uniform"


def test_a_request_without_policy_gets_the_first_rule_policy(client):
    policies = client.get(Route.POLICIES).json()
    assert [(p["name"], p["checkpoint"], p["default"]) for p in policies] == [
        ("ma", "rule:lm-inference:ma-rule", True),
        ("reference", "rule:lm-inference:reference", False),
    ]
    env = make_env(ENV_CONFIG)
    env.reset(seed=0)
    body = {
        "state": state_body(env.view, env.weights),
        "request": {"prompts": [[1, 0, 0, 0]] * len(env.deployers)},
    }
    response = client.post(PLACE, json=body)
    assert response.status_code == 200, response.text
    assert response.json()["policy"] == "ma"


@pytest.mark.parametrize(
    ("spelling", "field"),
    [
        ("rule:", "rule"),
        ("ma=rule:LM Inference", "rule"),
        ("rule:lm-inference:ma-rule:extra", "rule"),
        ({"path": "runs/a", "rule": "lm-inference"}, "exactly one of path"),
        ({"name": "x"}, "exactly one of path"),
    ],
)
def test_bad_rule_spellings_are_refused_naming_the_field(spelling, field):
    with pytest.raises(ValidationError, match=field):
        ServeArgs.model_validate({"checkpoints": [spelling]})


def test_rule_spellings_parse_from_text_and_mappings():
    (text,) = ServeArgs.model_validate({"checkpoints": "ma=rule:lm-inference:ma-rule"}).checkpoints
    assert text == CheckpointSpec(rule="lm-inference:ma-rule", name="ma")
    assert (text.rule_scenario, text.rule_controller) == ("lm-inference", "ma-rule")
    mapping = CheckpointSpec.model_validate({"rule": "lm-inference", "topology": "testbed:bristol"})
    assert (mapping.rule_scenario, mapping.rule_controller, mapping.path) == ("lm-inference", None, None)


@pytest.mark.parametrize(
    ("spelling", "message"),
    [
        ("rule:genai-chain", "the genai-chain placer serves no rule controller"),
        ("rule:metaverse-dag", "the metaverse-dag placer serves no rule controller"),
        ("rule:lm-inference:rf", "does not serve rule controller 'rf'"),
        ("rule:lm-inference,rule:lm-inference:ma-rule", "policy name 'ma-rule' is used twice"),
    ],
)
def test_unservable_rule_policies_fail_before_anything_starts(spelling, message):
    args = ServeArgs.model_validate({"checkpoints": spelling})
    with pytest.raises(ValueError, match=message):
        resolve_sources(args, servable_scenarios())


def test_a_rule_source_places_on_the_default_env_config_and_the_override_topology():
    args = ServeArgs.model_validate({"checkpoints": ["rule:lm-inference"], "topology": "testbed:bristol"})
    (source,) = resolve_sources(args, servable_scenarios())
    assert (source.name, source.rule, source.env_config) == (
        "ma-rule",
        "ma-rule",
        {"topology": "testbed:bristol"},
    )
    placer = LmInferencePlacer.load(source, TOP_K)
    assert placer.topology == "testbed:bristol" and placer.policy_name == "ma-rule"
