"""The dnn-inference placer in process: observations equal the env's, served actions equal the env-side
greedy evaluation of the restored checkpoint (and not fresh actors'), batched placement equals one by
one, estimates equal the env's admission, and requests that no action can serve are refused."""

from __future__ import annotations

import dataclasses
import functools
import json
from dataclasses import dataclass
from http import HTTPStatus
from pathlib import Path

import numpy as np
import pytest
import torch
from gymnasium.utils.env_checker import data_equivalence

from edgeplace.algos.checkpoints import read_metadata
from edgeplace.algos.hisper.actor import Actor
from edgeplace.algos.hisper.policy import HISPERPolicy
from edgeplace.algos.train_config import TrainConfig
from edgeplace.algos.training import train
from edgeplace.envs.dnn_inference import (
    DnnInferenceConfig,
    DnnInferenceEnv,
    SlotRequests,
    StepInfo,
    admit_slot,
)
from edgeplace.policy import act
from edgeplace.serve.dnn_inference_placer import DnnInferencePlacer, DnnJob
from edgeplace.serve.dnn_inference_schemas import DnnPlaceBatchRequest, DnnPlaceRequest
from edgeplace.serve.errors import ServeInputError
from edgeplace.serve.sources import PolicySource
from edgeplace.workloads.dnn_inference import Service

#: 2 OD + 2 MOT agents on the default 16-server topology.
ENV_CONFIG = {"agents_per_service": 2, "horizon": 5}
NUM_SERVERS = 16
#: HISPER that trains in seconds: one iteration of 20 env steps after a 40-step prefill, tiny nets.
TINY_HISPER = dict(
    scenario="dnn-inference",
    algo="hisper",
    env_config=ENV_CONFIG,
    timesteps=80,
    seed=3,
    model={"embed_dim": 8, "actor_hidden": (16,), "critic_hidden": (32, 16), "lstm_hidden": 8},
    algo_options={
        "prefill_steps": 40,
        "steps_per_iteration": 20,
        "updates_per_iteration": 2,
        "eval_interval_steps": 0,
        "eval_episodes": 1,
        "buffer_size": 500,
        "train_batch_size_per_learner": 16,
        "num_envs_per_env_runner": 4,
        "checkpoint_replay": False,
    },
    checkpoint_every=1,
)
TOP_K = 5
TOLERANCE = 1e-6
"""Responses round floats to 6 decimals."""


@functools.cache
def _train_tiny_hisper(root: Path) -> Path:
    return train(TrainConfig(**TINY_HISPER), root / "dnn_inference_serve_run").checkpoint


@pytest.fixture(scope="module")
def hisper_checkpoint(ray_session, tmp_path_factory) -> Path:
    """A tiny trained HISPER checkpoint, trained once per test session (the API tests share it)."""
    return _train_tiny_hisper(tmp_path_factory.getbasetemp())


@dataclass(frozen=True)
class Slot:
    """One env slot: its ``place-batch`` body, the agents' observations, and what the env-side greedy
    policy did (actions (A, 3) in agent order, infos)."""

    body: dict
    observations: dict
    actions: np.ndarray
    infos: dict


def slot_body(env: DnnInferenceEnv, t: int) -> dict:
    """Slot ``t`` of the env's episode as a ``place-batch`` body: its state and every agent's request."""
    slot = env.slot_requests(t)
    requests = [
        {
            "agent": agent,
            "local_server": int(slot.local[n]),
            "deadline_s": float(slot.deadline_s[n]),
            "data_mb": float(slot.data_mb[n]),
        }
        for n, agent in enumerate(env.possible_agents)
    ]
    state = {
        "background_tflop": slot.background_tflop.tolist(),
        "background_memory_mb": slot.background_memory_mb.tolist(),
    }
    return {"state": state, "requests": requests}


def greedy_episode(policy: HISPERPolicy, seed: int) -> list[Slot]:
    """One episode of env-side greedy evaluation (the policy protocol, as ``edgeplace evaluate``)."""
    env = DnnInferenceEnv(ENV_CONFIG)
    observations, _ = env.reset(seed=seed)
    slots = []
    for t in range(env.config.horizon):
        body = slot_body(env, t)
        actions = act(policy, observations)
        joint = np.stack([actions[agent] for agent in env.possible_agents])
        next_observations, _, _, _, infos = env.step(actions)
        slots.append(Slot(body, observations, joint, infos))
        observations = next_observations
    return slots


def place_batch(placer: DnnInferencePlacer, body: dict) -> list[dict]:
    return json.loads(placer.place_batch(DnnPlaceBatchRequest.model_validate(body)))["placements"]


def batch_jobs(placer: DnnInferencePlacer, body: dict) -> list[DnnJob]:
    batch = DnnPlaceBatchRequest.model_validate(body)
    state = placer.check_state(batch.state)
    return [placer.request_job(state, request, "request") for request in batch.requests]


def actions_of(placements: list[dict]) -> np.ndarray:
    return np.array([[p["configuration"], p["model"], p["server"]] for p in placements])


def fresh_policy(placer: DnnInferencePlacer, *, autoregressive: bool = True) -> HISPERPolicy:
    """Untrained actors (torch seed 0) of the placer's policy's architecture; factorised heads if asked."""
    torch.manual_seed(0)
    spec = dataclasses.replace(placer.policy.actors[0].spec, autoregressive=autoregressive)
    actors = [Actor(spec) for _ in placer.agent_ids]
    return HISPERPolicy("fresh", actors, placer.agent_ids, placer.observer.structural_masks)


@pytest.fixture(scope="module")
def placer(hisper_checkpoint) -> DnnInferencePlacer:
    policy = HISPERPolicy.from_checkpoint(hisper_checkpoint, name="hisper")
    config = DnnInferenceConfig.from_env_config(read_metadata(hisper_checkpoint)["env_config"])
    return DnnInferencePlacer(policy, config, TOP_K)


@pytest.fixture(scope="module")
def trace(hisper_checkpoint) -> list[Slot]:
    """Three episodes of env-side greedy evaluation of the restored checkpoint."""
    policy = HISPERPolicy.from_checkpoint(hisper_checkpoint)
    return [slot for seed in range(3) for slot in greedy_episode(policy, seed)]


def test_observations_are_the_envs_bit_for_bit(placer, trace):
    for slot in trace:
        jobs = batch_jobs(placer, slot.body)
        agents = np.array([job.agent for job in jobs])
        served = placer.observer.observe_requests(placer.requests(jobs), agents)
        for n, agent in enumerate(placer.agent_ids):
            for key, value in slot.observations[agent].items():  # the mask: a tuple of int8 parts
                assert data_equivalence(served[key][n], value, exact=True), f"{agent} {key}"


def test_served_actions_equal_env_side_greedy_evaluation(placer, trace):
    first = placer.agent_ids[0]
    for slot in trace:
        placements = place_batch(placer, slot.body)
        np.testing.assert_array_equal(actions_of(placements), slot.actions)
        singles = [
            placer.place([placer.job(DnnPlaceRequest(state=slot.body["state"], request=request))])[0]
            for request in slot.body["requests"]
        ]
        np.testing.assert_array_equal(actions_of([json.loads(s) for s in singles]), slot.actions)
        # the first agent is alone on the slot state in the env too: its estimates are the env's outcome
        assert placements[0]["accepted"] == bool(slot.infos[first][StepInfo.ACCEPTED])
        assert placements[0]["delay_s"] == pytest.approx(slot.infos[first][StepInfo.DELAY_S], abs=TOLERANCE)
        # later agents queue behind the accepted earlier ones on the same server in the env
        for placement in placements:
            assert placement["delay_s"] <= slot.infos[placement["agent"]][StepInfo.DELAY_S] + TOLERANCE


def test_restored_actors_are_the_trained_ones_not_fresh_ones(placer, trace):
    fresh = DnnInferencePlacer(fresh_policy(placer), placer.config, TOP_K)
    fresh_actions = np.concatenate([actions_of(place_batch(fresh, slot.body)) for slot in trace])
    trained_actions = np.concatenate([slot.actions for slot in trace])
    assert (fresh_actions != trained_actions).any(axis=1).mean() > 0.5


@pytest.mark.parametrize("autoregressive", [True, False], ids=["autoregressive", "factorised"])
def test_placer_acts_as_the_policy_protocol_with_either_head(placer, trace, autoregressive):
    policy = fresh_policy(placer, autoregressive=autoregressive)
    served = DnnInferencePlacer(policy, placer.config, TOP_K)
    for slot in trace[:5]:
        expected = act(policy, slot.observations)
        np.testing.assert_array_equal(
            actions_of(place_batch(served, slot.body)), np.stack([expected[a] for a in placer.agent_ids])
        )


def random_jobs(placer: DnnInferencePlacer, rng: np.random.Generator, count: int) -> list[DnnJob]:
    """Requests of random agents (uneven counts, repeats) on two random slot states."""
    jobs = []
    for _ in range(count):
        state = {
            "background_tflop": rng.uniform(0.1, 0.3, NUM_SERVERS).tolist(),
            "background_memory_mb": rng.uniform(100, 900, NUM_SERVERS).tolist(),
        }
        request = {
            "agent": str(rng.choice(placer.agent_ids)),
            "local_server": int(rng.integers(NUM_SERVERS)),
            "deadline_s": float(rng.choice([2.0, 5.0, 25.0])),
            "data_mb": float(rng.uniform(1, 20)),
        }
        jobs.append(placer.job(DnnPlaceRequest.model_validate({"state": state, "request": request})))
    return jobs


def test_batched_placement_equals_one_by_one_and_leaves_the_jobs_unchanged(placer):
    jobs = random_jobs(placer, np.random.default_rng(0), 9)
    before = [job.background.memory_mb.copy() for job in jobs]
    batched = placer.placements(jobs)
    for row, job in enumerate(jobs):
        alone = placer.placements([job])
        np.testing.assert_array_equal(alone.actions[0], batched.actions[row])
        np.testing.assert_allclose(alone.probability[0], batched.probability[row], rtol=1e-5)
        np.testing.assert_array_equal(job.background.memory_mb, before[row])


def test_candidates_and_estimates_follow_the_policy_and_the_envs_admission(placer):
    jobs = random_jobs(placer, np.random.default_rng(1), 12)
    documents = json.loads(placer.placements(jobs).batch_json())["placements"]
    for job, document in zip(jobs, documents, strict=True):
        chosen = 1.0
        for head in ("configuration", "model", "server"):
            candidates = document["candidates"][head]
            probabilities = [c["probability"] for c in candidates]
            assert candidates[0]["index"] == document[head] and probabilities == sorted(probabilities)[::-1]
            chosen *= probabilities[0]
        models = len(document["candidates"]["model"])
        assert models == (4 if document["service"] == "od" else 3)  # MOT has no model 3
        assert document["probability"] == pytest.approx(chosen, abs=1e-5)
        service = Service.OD if document["service"] == "od" else Service.MOT
        slot = SlotRequests(
            service=np.array([service]),
            local=np.array([job.local]),
            data_mb=np.array([job.data_mb]),
            deadline_s=np.array([job.deadline_s]),
            background_tflop=job.background.tflop,
            background_memory_mb=job.background.memory_mb,
        )
        action = np.array([[document["configuration"], document["model"], document["server"]]])
        outcome = admit_slot(placer.network, placer.config.params, slot, action)
        assert document["accepted"] == bool(outcome.accepted[0])
        assert document["meets_deadline"] == (outcome.delay_s[0] <= job.deadline_s)
        assert document["delay_s"] == pytest.approx(outcome.delay_s[0], abs=TOLERANCE)
        assert document["cost"] == pytest.approx(outcome.agent_cost[0], abs=TOLERANCE)
        assert document["reward"] == pytest.approx(outcome.reward, abs=TOLERANCE)
        assert document["accuracy_std"] == pytest.approx(outcome.accuracy_std[0], abs=TOLERANCE)


def refusal(placer: DnnInferencePlacer, body: dict) -> ServeInputError:
    with pytest.raises(ServeInputError) as raised:
        if "requests" in body:
            placer.place_batch(DnnPlaceBatchRequest.model_validate(body))
        else:
            placer.job(DnnPlaceRequest.model_validate(body))
    return raised.value


def test_requests_no_action_can_serve_are_refused_naming_the_field(placer, trace):
    body = trace[0].body
    state, request = body["state"], body["requests"][0]
    hopeless = refusal(placer, {"state": state, "request": request | {"deadline_s": 1e-4}})
    assert (hopeless.status, hopeless.field) == (HTTPStatus.CONFLICT, "request.deadline_s")
    assert "least delay" in hopeless.detail
    full = dict(state, background_memory_mb=(placer.network.memory_mb - 1.0).tolist())
    no_memory = refusal(placer, {"state": full, "request": request})
    assert (no_memory.status, no_memory.field) == (HTTPStatus.CONFLICT, "state.background_memory_mb")
    requests = [request, request | {"deadline_s": 1e-4}]
    in_batch = refusal(placer, {"state": state, "requests": requests})
    assert (in_batch.status, in_batch.field) == (HTTPStatus.CONFLICT, "requests[1].deadline_s")


def test_a_smaller_override_topology_is_padded_to_the_actors_server_slots(placer, hisper_checkpoint):
    def source(topology: str) -> PolicySource:
        return PolicySource(
            "zero-shot", placer.scenario, hisper_checkpoint, read_metadata(hisper_checkpoint), topology
        )

    small = DnnInferencePlacer.load(source("geo-radius:nodes=10,radius_km=0.5,side_km=1.5,seed=1"), TOP_K)
    assert (small.num_nodes, small.observer.layout.max_nodes) == (10, NUM_SERVERS)
    state = {"background_tflop": [0.2] * 10, "background_memory_mb": [500.0] * 10}
    requests = [
        {"agent": agent, "local_server": 9, "deadline_s": 25.0, "data_mb": 5.0} for agent in small.agent_ids
    ]
    for placement in place_batch(small, {"state": state, "requests": requests}):
        assert placement["server"] < 10 and all(c["index"] < 10 for c in placement["candidates"]["server"])
    wrong_length = refusal(
        small,
        {
            "state": {"background_tflop": [0.2] * 16, "background_memory_mb": [0.0] * 16},
            "request": requests[0],
        },
    )
    assert (wrong_length.status, wrong_length.field) == (
        HTTPStatus.UNPROCESSABLE_ENTITY,
        "state.background_tflop",
    )
    with pytest.raises(ValueError, match="max_nodes"):
        DnnInferencePlacer.load(source("geo-radius:nodes=20,radius_km=0.5,side_km=1.5,seed=1"), TOP_K)
