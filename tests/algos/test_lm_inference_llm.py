"""The lm-inference ``llm`` backend against a real stub chat server: answer validation per agent kind,
the spec's fallbacks counted in the env's KPI, valid answers reaching the simulator, concurrent
deployers, and a transcript that replays an episode bit for bit without a server."""

from __future__ import annotations

import json
import re
import time

import numpy as np
import pytest

from edgeplace.algos.baselines.lm_inference.policies import plan_weights
from edgeplace.algos.baselines.lm_inference.reference import make_env
from edgeplace.algos.baselines.lm_inference.role_deployer import RoleDeployer
from edgeplace.algos.lm_inference.llm import (
    BASELINES,
    AnswerError,
    LlmPolicy,
    LlmSettings,
    parse_node_config,
    parse_plan,
    parse_routes,
)
from edgeplace.algos.lm_inference.llm.planner_prompt import SYSTEM as PLANNER_SYSTEM
from edgeplace.algos.lm_inference.llm.planner_prompt import planner_messages
from edgeplace.algos.lm_inference.llm.tier2_prompts import DEPLOYER_SYSTEM, SCHEDULER_SYSTEM
from edgeplace.envs.base import ALL_AGENTS, KPI_INFO_KEY
from edgeplace.envs.lm_inference.env import EpisodeKpi
from edgeplace.envs.lm_inference.lm_types import NUM_LMS, Mode
from edgeplace.envs.lm_inference.node_config import NodeConfig
from edgeplace.envs.lm_inference.observation import LmObs
from edgeplace.envs.lm_inference.plan import Plan
from edgeplace.envs.lm_inference.state_codec import decode_state
from edgeplace.evaluation.runner import run_episodes
from edgeplace.planners.chat_client import ENV_BASE_URL, ENV_MODEL, ReplayMismatchError
from edgeplace.policy import act
from tests.llm_stub import Reply, StubServer, completion

CONFIG = {"epochs": 2, "epoch_slots": 5, "drain_slots": 2}
SLOTS = 10
NODES = ("VM2", "VM3", "VM4", "VM5", "VM6", "VM7")
PLAN = {
    "routing": {
        "LM1": {"VM2": 0.5, "VM3": 0.5},
        "LM2": {"VM2": 1.0},
        "LM3": {"VM7": 1.0},
        "LM4": {"VM5": 0.5, "VM7": 0.5},
    },
    "roles": {"VM3": ["LM1"], "VM6": ["LM4"]},
}
#: Every origin's route: LM2 left out, LM3 from VM2 sent where it cannot run (both: JSQ per pair).
ROUTES = {
    "routes": {
        origin: {"LM1": "VM3", "LM3": "VM2" if origin == "VM2" else "VM7", "LM4": "VM5"} for origin in NODES
    }
}
GPU2 = {"mode": "gpu", "vgpu": 2, "cpu": 2}
DEPLOYERS = {
    "VM2": "the best configuration is obviously",  # garbage
    "VM3": json.dumps({"LM1": {"mode": "gpu", "vgpu": 1, "cpu": 2}, "LM2": {"mode": "cpu", "cpu": 8}}),
    "VM4": json.dumps({"LM4": {"mode": "gpu", "vgpu": 3, "cpu": 2}}),  # 3 vGPUs on 2: Eq. 1 fails
    "VM5": json.dumps({"LM4": GPU2}),
    "VM6": json.dumps({"LM4": GPU2}),
    "VM7": json.dumps({"LM3": {"mode": "gpu", "vgpu": 1, "cpu": 2}, "LM4": {**GPU2, "vgpu": 3}}),
}


def agent_reply(call: int, body: dict) -> Reply:
    """The stub's answers by agent kind (read from the system prompt)."""
    system, user = (message["content"] for message in body["messages"])
    if system == PLANNER_SYSTEM:
        return completion(f"<think>plan</think>```json\n{json.dumps(PLAN)}\n```")
    if system == SCHEDULER_SYSTEM:
        return completion(json.dumps(ROUTES))
    assert system == DEPLOYER_SYSTEM
    return completion(DEPLOYERS[re.match(r"node (\w+);", user).group(1)])


@pytest.fixture(autouse=True)
def no_environment(monkeypatch) -> None:
    for name in ("http_proxy", "HTTP_PROXY", "all_proxy", "ALL_PROXY", ENV_BASE_URL, ENV_MODEL):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(scope="module")
def env():
    return make_env(CONFIG)


def play(env, policy, seed: int = 3) -> dict[str, float]:
    """One episode of ``env`` stepped with ``policy``; its KPIs."""
    observations, _ = env.reset(seed=seed)
    while True:
        observations, _, terminated, truncated, infos = env.step(act(policy, observations))
        if terminated[ALL_AGENTS] or truncated[ALL_AGENTS]:
            return next(iter(infos.values()))[KPI_INFO_KEY]


def settings(stub: StubServer | None = None, **kwargs) -> LlmSettings:
    url = {"base_url": stub.base_url, "model": "stub"} if stub else {"base_url": "", "model": ""}
    return LlmSettings(**url, **kwargs)


def test_episode_applies_valid_answers_and_counts_fallbacks(env):
    with StubServer(reply=agent_reply) as stub:
        kpis = play(env, LlmPolicy(0, CONFIG, settings(stub)))
    assert len(stub.calls) == 2 + SLOTS * 7  # 2 plans, a scheduler and 6 deployers per slot
    log, cluster = env.sim.log, env.cluster
    lm2 = log.lm == 1
    lm3_from_vm2 = (log.origin == 0) & (log.lm == 2)
    expected_dest = np.select(
        [log.lm == 0, lm2, log.lm == 2, log.lm == 3], [1, 0, 5, 3]
    )  # JSQ sends LM2 to its only role (VM2), VM2's LM3 to VM7
    np.testing.assert_array_equal(log.dest, expected_dest)
    # Scheduler: one fallback per left-out or infeasible pair; VM2 and VM4 deployers: one per slot.
    assert kpis[EpisodeKpi.FALLBACKS] == lm2.sum() + lm3_from_vm2.sum() + 2 * SLOTS
    assert lm2.any() and lm3_from_vm2.any()
    # Valid configurations are where the nodes head; VM2 and VM4 follow the role-enacting deployer.
    fallback = RoleDeployer(cluster, env.params).targets(parse_plan(json.dumps(PLAN), cluster))
    for n, node in enumerate(NODES):
        if node in ("VM2", "VM4"):
            expected = fallback[n]
        else:
            expected = parse_node_config(DEPLOYERS[node], cluster, n, env.view)
        assert env.view.node_config(n) == expected, node


def test_replayed_transcript_reproduces_the_run_without_a_server(tmp_path):
    """Two envs in lockstep through the evaluation runner: their calls interleave and answer out of
    order, some fail over HTTP; the replay still gives every episode's KPIs exactly."""
    path = tmp_path / "run-{seed}.jsonl"

    def flaky(call: int, body: dict) -> Reply:
        return (500, b"down", 0.0) if call % 9 in (0, 1) else agent_reply(call, body)

    def run(settings: LlmSettings, seed: int = 7) -> list[dict[str, float]]:
        policy = LlmPolicy(7, CONFIG, settings)
        return run_episodes(lambda: make_env(CONFIG), policy, seed=seed, episodes=2, num_envs=2)

    with StubServer(reply=flaky) as stub:
        recorded = run(settings(stub, transcript_path=path))
    transcript = tmp_path / "run-7.jsonl"
    assert len(transcript.read_text().splitlines()) == 2 * (2 + SLOTS * 7)
    assert any(kpis[EpisodeKpi.FALLBACKS] for kpis in recorded)
    assert run(settings(replay_path=path)) == recorded
    with pytest.raises(ReplayMismatchError, match=r"run-7\.jsonl line \d+"):
        run(settings(replay_path=path), seed=8)  # other request streams


def test_planner_timeout_falls_back_to_the_uniform_plan(env):
    observations, _ = env.reset(seed=3)
    with StubServer(reply=lambda call, body: completion(json.dumps(PLAN), delay_s=2.0)) as stub:
        policy = LlmPolicy(0, CONFIG, settings(stub, planner_timeout_s=0.2, retries=0))
        start = time.perf_counter()
        (row,) = policy.act_batch(["planner"], [observations["planner"]])
    assert time.perf_counter() - start < 1.5
    np.testing.assert_array_equal(row, [*plan_weights(Plan.uniform(env.cluster)).ravel(), 1])


def test_deployers_of_a_slot_are_asked_concurrently(env):
    def slow_deployers(call: int, body: dict) -> Reply:
        status, payload, _ = agent_reply(call, body)
        return status, payload, 0.3 if body["messages"][0]["content"] == DEPLOYER_SYSTEM else 0.0

    with StubServer(reply=slow_deployers) as stub:
        policy = LlmPolicy(0, CONFIG, settings(stub))
        observations, _ = env.reset(seed=3)
        for _ in range(2):  # planner, scheduler
            observations, *_ = env.step(act(policy, observations))
        start = time.perf_counter()
        actions = act(policy, observations)
    assert len(actions) == 6 and time.perf_counter() - start < 1.0  # 6 x 0.3 s in sequence


def test_planner_prompt_lists_cases_by_objective_and_flags_the_negative_precedent(env):
    observations, _ = env.reset(seed=3)
    observation = dict(observations["planner"])
    memory = np.zeros_like(observation[LmObs.MEMORY])
    objective = 2 * NUM_LMS + 2  # J's column in a case
    for slot, value in ((0, 0.1), (3, 0.5), (4, 0.3)):  # best, worst (negative precedent), most recent
        memory[slot, objective] = value
    observation[LmObs.MEMORY] = memory
    observation[LmObs.MEMORY_MASK] = np.array([1, 0, 0, 1, 1], dtype=np.float32)
    view, _ = decode_state(observation[LmObs.STATE], env.cluster.num_nodes)
    system, user = planner_messages(observation, view, env.cluster, env.params)
    assert system["content"] == PLANNER_SYSTEM
    cases = [line for line in user["content"].splitlines() if line.startswith("- ")]
    assert [re.search(r"J (\S+) ", line).group(1) for line in cases] == ["0.1", "0.3", "0.5"]
    assert [line.startswith("- NEGATIVE PRECEDENT") for line in cases] == [False, False, True]
    for part in ("Objective: minimise J", "VM7: 14 cores", "LM4 (Stable Diffusion)", "Random-baseline"):
        assert part in user["content"]


# --- validation -----------------------------------------------------------------------------------


def with_routing(lm: str, weights: dict) -> dict:
    return {**PLAN, "routing": {**PLAN["routing"], lm: weights}}


BAD_PLANS = {
    "not JSON": "{'routing': 1}",
    "unknown key": json.dumps({**PLAN, "why": "because"}),
    "missing roles": json.dumps({"routing": PLAN["routing"]}),
    "sum off": json.dumps(with_routing("LM1", {"VM2": 0.5, "VM3": 0.48})),
    "LM left out": json.dumps({**PLAN, "routing": {k: v for k, v in PLAN["routing"].items() if k != "LM2"}}),
    "negative": json.dumps(with_routing("LM1", {"VM2": 1.5, "VM3": -0.5})),
    "boolean weight": json.dumps(with_routing("LM2", {"VM2": True})),
    "GPU-only LM on VM2": json.dumps(with_routing("LM3", {"VM2": 0.5, "VM7": 0.5})),
    "unknown node": json.dumps(with_routing("LM2", {"VM9": 1.0})),
    "role VM2 cannot hold": json.dumps({**PLAN, "roles": {"VM2": ["LM4"]}}),
    "roles not a list": json.dumps({**PLAN, "roles": {"VM3": "LM1"}}),
}


@pytest.mark.parametrize("text", BAD_PLANS.values(), ids=BAD_PLANS.keys())
def test_bad_plans_are_rejected(env, text):
    with pytest.raises(AnswerError):
        parse_plan(text, env.cluster)


def test_plan_is_renormalised_and_roles_widened(env):
    plan = parse_plan(json.dumps(with_routing("LM1", {"VM2": 0.5, "VM3": 0.505})), env.cluster)
    np.testing.assert_allclose(plan.routing.sum(axis=1), 1.0)
    roles = {NODES[n]: [f"LM{i + 1}" for i in np.flatnonzero(r)] for n, r in enumerate(plan.roles)}
    assert roles == {
        "VM2": ["LM1", "LM2"],
        "VM3": ["LM1"],
        "VM4": [],
        "VM5": ["LM4"],
        "VM6": ["LM4"],
        "VM7": ["LM3", "LM4"],
    }


def test_routes_mark_missing_and_infeasible_pairs(env):
    destinations = parse_routes(json.dumps(ROUTES), env.cluster)
    assert destinations[0].tolist() == [1, -1, -1, 3] and destinations[1].tolist() == [1, -1, 5, 3]
    for bad in (
        '{"routes": {"VM2": {"LM1": "VM42"}}}',
        '{"routes": {"VM2": {"LM7": "VM3"}}}',
        '{"route": {}}',
    ):
        with pytest.raises(AnswerError):
            parse_routes(bad, env.cluster)


BAD_CONFIGS = {
    "float cores": {"LM1": {"mode": "cpu", "cpu": 2.5}},
    "zero cores": {"LM1": {"mode": "cpu", "cpu": 0}},
    "GPU-only LM on CPU": {"LM3": {"mode": "cpu", "cpu": 2}},
    "vgpu in CPU mode": {"LM1": {"mode": "cpu", "cpu": 2, "vgpu": 1}},
    "missing vgpu": {"LM1": {"mode": "gpu", "cpu": 2}},
    "unknown mode": {"LM1": {"mode": "tpu", "cpu": 2}},
    "mode not a string": {"LM1": {"mode": ["cpu"], "cpu": 2}},
    "boolean cores": {"LM1": {"mode": "cpu", "cpu": True}},
    "too many cores": {"LM1": {"mode": "cpu", "cpu": 10}, "LM2": {"mode": "cpu", "cpu": 10}},
}


@pytest.mark.parametrize("answer", BAD_CONFIGS.values(), ids=BAD_CONFIGS.keys())
def test_bad_configs_are_rejected(env, answer):
    env.reset(seed=3)
    with pytest.raises(AnswerError):
        parse_node_config(json.dumps(answer), env.cluster, 1, env.view)


def test_config_may_not_change_a_locked_pod(env):
    env.reset(seed=3)
    gpu1 = {"LM1": {"mode": "gpu", "vgpu": 1, "cpu": 2}}
    env.sim.route(np.repeat(np.arange(len(NODES))[:, None], 4, axis=1))  # local
    env.sim.deploy([None, NodeConfig.from_pods({0: (Mode.GPU, 2, 1)}), *[None] * 4])  # VM3's LM1 starts
    view = env.sim.view()
    assert view.locked[1, 0]
    assert parse_node_config(json.dumps(gpu1), env.cluster, 1, view) == view.node_config(1)
    with pytest.raises(AnswerError, match="locked"):
        parse_node_config(json.dumps({"LM1": {"mode": "cpu", "cpu": 4}}), env.cluster, 1, view)


@pytest.mark.parametrize(
    "kwargs, field",
    [
        ({}, "base_url"),
        ({"base_url": "http://x/v1"}, "model"),
        ({"base_url": "http://x/v1", "model": "m", "tier2_timeout_s": 0}, "tier2_timeout_s"),
        ({"base_url": "http://x/v1", "model": "m", "max_tokens": 0}, "max_tokens"),
        ({"base_url": "http://x/v1", "model": "m", "retries": 1.5}, "retries"),
        ({"base_url": "http://x/v1", "model": "m", "temperature": -1}, "temperature"),
        ({"replay_path": "a.jsonl", "transcript_path": "a.jsonl"}, "same file"),
    ],
)
def test_settings_name_the_bad_field(kwargs, field):
    with pytest.raises(ValueError, match=field):
        LlmSettings(**kwargs)


def test_settings_default_to_the_env_vars(monkeypatch):
    monkeypatch.setenv(ENV_BASE_URL, "http://127.0.0.1:1/v1")
    monkeypatch.setenv(ENV_MODEL, "env-model")
    assert (LlmSettings().base_url, LlmSettings().model) == ("http://127.0.0.1:1/v1", "env-model")
    assert BASELINES["llm"](0, CONFIG).name == "llm"
