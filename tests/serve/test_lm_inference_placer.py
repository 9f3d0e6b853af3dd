"""The lm-inference placer in process: on states the env reaches, the served observations equal the
env's and the served routes and deployments equal what the env's agents choose with the same policy;
batched placement equals one by one; bad input is a 422 naming the field and changes nothing."""

from __future__ import annotations

import json
from http import HTTPStatus

import numpy as np
import pytest
import torch
from gymnasium.utils.env_checker import data_equivalence
from ray.rllib.core.rl_module.rl_module import RLModuleSpec

from edgeplace.algos.baselines.lm_inference.reference import make_env
from edgeplace.algos.lm_inference.learned import agent_modules, module_model_config
from edgeplace.algos.lm_inference.policy import LearnedPolicy
from edgeplace.envs.lm_inference import ClusterView, LmInferenceConfig, LmInferenceEnv
from edgeplace.envs.lm_inference.agents import PLANNER, SCHEDULER
from edgeplace.envs.lm_inference.lm_types import NUM_LMS, Mode
from edgeplace.envs.lm_inference.pod import PodState
from edgeplace.models.masked_mlp_module import MaskedMlpModule
from edgeplace.policy import act
from edgeplace.serve.errors import ServeInputError
from edgeplace.serve.lm_inference_placer import SERVED_EPISODE, LmInferencePlacer
from edgeplace.serve.lm_inference_schemas import LmPlaceBatchRequest, LmPlaceRequest

ENV_CONFIG = {"epochs": 3, "epoch_slots": 5, "warmup_epochs": 1, "drain_slots": 2}
SLOTS = 12
"""Slots of the env run compared with the placer: two plans, pods created, locked and queues built."""
TOP_K = 3


@pytest.fixture(scope="module")
def env() -> LmInferenceEnv:
    return make_env(ENV_CONFIG)


@pytest.fixture(scope="module")
def policy(env) -> LearnedPolicy:
    """Untrained modules of the ``learned`` backend (seeded): the placer must act as they do in the env."""
    torch.manual_seed(0)
    mapping = agent_modules(ENV_CONFIG)
    agent_of = {module: agent for agent, module in mapping.items()}
    modules = {
        module: RLModuleSpec(
            module_class=MaskedMlpModule,
            observation_space=env.observation_spaces[agent],
            action_space=env.action_spaces[agent],
            model_config=module_model_config(module, {"hidden": [16]}),
        ).build()
        for module, agent in agent_of.items()
    }
    return LearnedPolicy("fresh", modules, mapping)


@pytest.fixture(scope="module")
def placer(policy) -> LmInferencePlacer:
    return LmInferencePlacer(policy, LmInferenceConfig.from_env_config(ENV_CONFIG), TOP_K)


def state_body(view: ClusterView, weights: np.ndarray) -> dict:
    """The ``state`` body of a cluster view under the planner's (I, N) weights."""
    n = view.num_nodes
    return {
        "slot": view.slot,
        "plan": weights.tolist(),
        "pods": [
            [
                {
                    "state": PodState(int(view.pod_state[node, lm])).name.lower(),
                    "mode": Mode(int(view.mode[node, lm])).name.lower(),
                    "cores": int(view.cores[node, lm]),
                    "vgpus": int(view.vgpus[node, lm]),
                    "transition_left_s": float(view.transition_left_s[node, lm]),
                }
                for lm in range(NUM_LMS)
            ]
            for node in range(n)
        ],
        "queues": [
            [
                {
                    "backlog_prompts": int(view.backlog_prompts[node, lm]),
                    "inbound_prompts": int(view.inbound_prompts[node, lm]),
                    "queued_requests": int(view.queued_requests[node, lm]),
                    "oldest_age_s": float(view.oldest_age_s[node, lm]),
                }
                for lm in range(NUM_LMS)
            ]
            for node in range(n)
        ],
        "nodes": [
            {
                "free_cores": int(view.free_cores[node]),
                "free_vgpus": int(view.free_vgpus[node]),
                "free_ram_gb": float(view.free_ram_gb[node]),
                "eta_cpu": float(view.eta_cpu[node]),
                "eta_gpu": float(view.eta_gpu[node]),
                "eta_mem": float(view.eta_mem[node]),
            }
            for node in range(n)
        ],
    }


def without_episode(observation: dict) -> dict:
    """An observation without ``episode`` (env seed and index: the server has neither)."""
    return {key: value for key, value in observation.items() if key != "episode"}


def test_served_decisions_equal_the_env_agents_on_the_states_the_env_reaches(env, policy, placer):
    observations, _ = env.reset(seed=4)
    compared, seen = 0, set()
    while env.slot < SLOTS:
        if PLANNER in observations:
            observations, *_ = env.step(act(policy, observations))
            continue
        body = LmPlaceRequest.model_validate(
            {"state": state_body(env.view, env.weights), "request": {"prompts": env.view.demand.tolist()}}
        )
        (job,) = placer.jobs(body.state, [body.request], ["request"])
        served = placer.observer.observe(job.view, job.plan, job.epoch_slot, SERVED_EPISODE, [SCHEDULER])
        assert data_equivalence(without_episode(served[SCHEDULER]), without_episode(observations[SCHEDULER]))
        routes = act(policy, observations)
        observations, *_ = env.step(routes)
        deployments = act(policy, observations)
        placed = json.loads(placer.place([job])[0])
        destinations = {(r["origin"], int(r["lm"][2:]) - 1): r["destination"] for r in placed["routes"]}
        expected = routes[SCHEDULER].reshape(-1, NUM_LMS)
        assert destinations == {
            (o, i): int(expected[o, i]) for o, i in zip(*np.nonzero(job.view.demand), strict=True)
        }
        assert [d["action"] for d in placed["deployments"]] == [deployments[a] for a in env.deployers]
        routed = job.view.routed(expected, env.cluster.can_host)  # what the placer's deployers see
        served = placer.observer.observe(routed, job.plan, job.epoch_slot, SERVED_EPISODE, env.deployers)
        for agent in env.deployers:
            assert data_equivalence(without_episode(served[agent]), without_episode(observations[agent]))
        seen.update(PodState(state) for state in env.view.pod_state.ravel().tolist())
        compared += 1
        observations, *_ = env.step(deployments)
    assert compared == SLOTS
    assert {PodState.OFF, PodState.INIT, PodState.READY} <= seen, "states without pods in transition"
    assert env.weights.any(), "the second plan should not be uniform"


def test_place_batch_equals_one_by_one_and_leaves_the_state_unchanged(placer):
    example = placer.example().model_dump(mode="json")
    other = [[1, 0, 0, 2]] * placer.num_nodes
    batch = LmPlaceBatchRequest.model_validate(
        {"state": example["state"], "requests": [example["request"], {"prompts": other}], "policy": "fresh"}
    )
    jobs = placer.jobs(batch.state, batch.requests, ["requests[0]", "requests[1]"])
    before = [job.view.backlog_prompts.copy() for job in jobs]
    together = json.loads(placer.batch_json(batch, jobs))["placements"]
    alone = [json.loads(placer.place([job])[0]) for job in jobs]
    assert together == alone
    assert [len(p["routes"]) for p in together] == [NUM_LMS, 2 * placer.num_nodes]
    assert all(np.array_equal(job.view.backlog_prompts, b) for job, b in zip(jobs, before, strict=True))
    assert all(
        len(d["candidates"]) <= TOP_K and d["candidates"][0]["index"] == d["action"]
        for d in together[0]["deployments"]
    )


def edited(body: dict, path: str, value: object) -> dict:
    """``body`` with the entry at the dotted/indexed ``path`` (``state.pods[1][2].mode``) set."""
    body = json.loads(json.dumps(body))
    keys = [int(k) if k.isdigit() else k for k in path.replace("[", ".").replace("]", "").split(".")]
    target = body
    for key in keys[:-1]:
        target = target[key]
    target[keys[-1]] = value
    return body


@pytest.mark.parametrize(
    ("path", "value", "field"),
    [
        ("state.plan[2]", [0, 1], "state.plan[2]"),
        ("state.plan[2][0]", 1, "state.plan"),  # BLIP can never run on the CPU-only VM2
        ("state.pods[0][2].mode", "cpu", "state.pods[0][2]"),  # BLIP is GPU-only
        (
            "state.pods[0][0]",
            {"state": "ready", "mode": "gpu", "cores": 2, "vgpus": 1},
            "state.pods[0][0].vgpus",
        ),
        (
            "state.pods[3][1]",
            {"state": "init", "mode": "gpu", "cores": 2, "vgpus": 9},
            "state.pods[3][1].vgpus",
        ),
        ("state.pods[3][1].cores", 2, "state.pods[3][1]"),  # an off pod holds no cores
        ("state.queues[2][3].inbound_prompts", 5, "state.queues[2][3].inbound_prompts"),
        ("state.nodes[1].free_cores", 99, "state.nodes[1].free_cores"),
        ("state.queues[4]", [], "state.queues[4]"),
        ("request.prompts", [[1, 0, 0, 0]], "request.prompts"),
    ],
)
def test_bad_input_is_a_422_naming_the_field_and_changes_nothing(placer, path, value, field):
    example = placer.example().model_dump(mode="json")
    before = placer.place([placer.job(LmPlaceRequest.model_validate(example))])
    with pytest.raises(ServeInputError) as raised:
        placer.job(LmPlaceRequest.model_validate(edited(example, path, value)))
    assert (raised.value.status, raised.value.field) == (HTTPStatus.UNPROCESSABLE_ENTITY, field)
    assert placer.place([placer.job(LmPlaceRequest.model_validate(example))]) == before
