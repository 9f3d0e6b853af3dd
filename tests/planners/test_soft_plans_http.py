"""The ``http`` soft planner against a real stub chat-completions server on 127.0.0.1
(:class:`tests.llm_stub.StubServer`): valid replies, every fallback, dropped ids, the b* choice, the
prompt's size on ``small``, replay, and the env running with it."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest

from edgeplace.envs.metaverse_dag.env import MetaverseDagEnv
from edgeplace.envs.metaverse_dag.observation import MvObsKey
from edgeplace.planners.soft_plans import PlanContext, WindowOutcome, make_planner
from edgeplace.planners.soft_plans.feasibility import overcommit_share
from edgeplace.planners.soft_plans.heuristic import heuristic_bindings
from edgeplace.planners.soft_plans.http import HttpPlanner
from edgeplace.planners.soft_plans.http_prompt import EOP, messages_tokens
from edgeplace.policy import PolicyUnavailable
from tests.llm_stub import StubServer, completion

B = 3
REGION = re.compile(r"edge region (\d+)")


@pytest.fixture(autouse=True)
def no_proxy(monkeypatch) -> None:
    """No proxy between the client and the stub."""
    for name in ("http_proxy", "HTTP_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(scope="module")
def context() -> PlanContext:
    """The reset context of a ``small`` env with the heuristic planner."""
    env = MetaverseDagEnv({"planner": "heuristic"})
    caught = []
    plan = env.planning.planner.plan
    env.planning.planner.plan = lambda ctx: (caught.append(ctx), plan(ctx))[1]
    env.reset(seed=0)
    return caught[0]


@pytest.fixture
def stub():
    with StubServer() as server:
        yield server


def planner(stub: StubServer, **options) -> HttpPlanner:
    return make_planner("http", seed=0, options={"base_url": stub.base_url, "model": "stub", **options})


def heads(context: PlanContext) -> np.ndarray:
    """Replica-0 slots (they must be placed)."""
    return np.flatnonzero(context.slot_valid & (context.slot_rep == 0))


def es_targets(context: PlanContext, region: int) -> dict[int, int]:
    """A binding of every replica-0 slot to an allowed ES, round robin (differs from p_heur's argmax)."""
    es = np.flatnonzero(context.option_tier[region] == 0)
    out = {}
    for i, s in enumerate(heads(context).tolist()):
        allowed = [o for o in np.roll(es, -i).tolist() if context.place_mask[region, s, o]]
        out[s] = allowed[0]
    return out


def candidate(pairs, w=(1, 1, 1, 1), r_hat=0.6) -> dict:
    return {
        "plan": [[str(s), str(o)] for s, o in pairs] + [EOP],
        "w": list(w),
        "psi": [0.4, 0.5, 0.6],
        "phi": 0.3,
        "R_hat": r_hat,
        "rationale": "spread the heads",
    }


def answer(*candidates) -> str:
    return json.dumps({"candidates": list(candidates)})


def script(stub: StubServer, content_of) -> None:
    """Answer each call with ``content_of(region)``."""

    def reply(call, body):
        region = int(REGION.search(body["messages"][0]["content"]).group(1))
        return completion(content_of(region))

    stub.reply = reply


def test_valid_reply_follows_the_named_nodes(context, stub):
    targets = {k: es_targets(context, k) for k in context.agents.tolist()}
    script(
        stub,
        lambda k: "Sure:\n```json\n" + answer(*[candidate(targets[k].items(), w=(2, 1, 1, 0))] * B) + "\n```",
    )
    http = planner(stub)
    plans = http.plan(context)
    assert sorted(plans) == context.agents.tolist() and len(stub.calls) == context.agents.size
    for k, plan in plans.items():
        assert plan.source == "http" and plan.candidates == B
        named = np.array(sorted(targets[k]))
        assert (plan.p[named].argmax(axis=1) == [targets[k][s] for s in named]).all()
        np.testing.assert_allclose(plan.p[named].max(axis=1), 0.8, atol=0.2 + 1e-9)
        p_heur = heuristic_bindings(context, k)
        rest = np.setdiff1d(np.arange(context.num_slots), named)
        np.testing.assert_allclose(plan.p[rest], p_heur[rest])
        np.testing.assert_allclose(plan.p.sum(axis=1), 1.0)
        assert not (plan.p > 0)[~context.place_mask[k]].any()
        np.testing.assert_allclose(plan.w, [0.5, 0.25, 0.25, 0.0])
        np.testing.assert_allclose(plan.psi, [0.4, 0.5, 0.6])
        assert plan.phi == 0.3 and plan.r_hat == 0.5  # the heuristic's R-hat, not the model's .6
        assert plan.z_plan.shape == (64,) and np.isfinite(plan.z_plan).all()
    body = stub.calls[0]["body"]
    assert body["model"] == "stub" and body["max_tokens"] == 800 and body["temperature"] == 0.2
    stats = http.stats
    assert stats.calls == stats.plans == context.agents.size and stats.fallbacks == 0
    assert stats.prompt_tokens > 0 and stats.completion_tokens > 0 and stats.latency_s > 0
    assert http.call_log[0]["r_hat_llm"] == [0.6] * B


def expect_fallback(context: PlanContext, http: HttpPlanner, kind: str) -> None:
    plans = http.plan(context)
    for k, plan in plans.items():
        assert plan.source == "fallback"
        np.testing.assert_allclose(plan.p, heuristic_bindings(context, k))
    assert http.stats.fallbacks == context.agents.size
    assert http.stats.fallback_reasons == {kind: context.agents.size}
    assert http.stats.last_fallback_reason.startswith(kind)


def test_malformed_json_falls_back(context, stub):
    script(stub, lambda k: '{"candidates": [{"plan": [[0, 1], "<eop>"]')
    expect_fallback(context, planner(stub), "json")


def test_timeout_falls_back(context, stub):
    stub.reply = lambda call, body: completion(answer(), delay_s=1.0)
    expect_fallback(context, planner(stub, timeout_s=0.05, retries=0), "timeout")


def test_http_500_falls_back_after_the_retry(context, stub):
    stub.reply = lambda call, body: (500, b"boom", 0.0)
    http = planner(stub, retries=1)
    expect_fallback(context, http, "http")
    assert len(stub.calls) == http.stats.http_calls == 2 * context.agents.size


def test_wrong_candidate_count_falls_back(context, stub):
    script(stub, lambda k: answer(*[candidate(es_targets(context, k).items())] * (B - 1)))
    expect_fallback(context, planner(stub), "schema")


@pytest.mark.parametrize(
    "broken",
    [
        {"plan": [[0, 13]]},  # no <eop>
        {"plan": [[0, 13], [0, 14], EOP]},  # a slot twice
        {"psi": [0.2, 0.3, 1.5]},  # out of range
        {"w": [0, 0, 0, 0]},
    ],
)
def test_schema_failures_fall_back(context, stub, broken):
    script(stub, lambda k: answer(*[candidate(es_targets(context, k).items()) | broken] * B))
    expect_fallback(context, planner(stub), "schema")


def test_masked_and_unknown_ids_are_dropped(context, stub):
    k = int(context.agents[0])
    none = context.num_options - 1
    targets = es_targets(context, k)
    assert not context.place_mask[k, 0, none]  # replica 0 cannot be NONE
    pairs = [(0, none), (999, 3)] + [(s, o) for s, o in targets.items() if s != 0]  # 2 of 17 dropped
    script(stub, lambda region: answer(*[candidate(pairs)] * B))
    http = planner(stub)
    plan = http.plan(context)[k]
    assert plan.source == "http"
    np.testing.assert_allclose(plan.p[0], heuristic_bindings(context, k)[0])
    entry = http.call_log[0]
    assert (entry["pairs"], entry["dropped"]) == (3 * 17, 3 * 2)


def test_more_than_a_fifth_dropped_falls_back(context, stub):
    def content(k):
        targets = list(es_targets(context, k).items())[1:4]
        return answer(*[candidate([*targets, (0, context.num_options - 1)])] * B)  # 1 of 4 masked

    script(stub, content)
    expect_fallback(context, planner(stub), "dropped")


def test_b_star_avoids_overcommit_and_is_deterministic(context, stub):
    k = int(context.agents[0])
    cloud = int(np.flatnonzero(context.option_tier[k] == 2)[0])
    es0 = int(np.flatnonzero(context.option_tier[k] == 0)[0])
    crowded = candidate([(s, es0) for s in heads(context)])
    spread = candidate([(s, cloud) for s in heads(context)], r_hat=0.1)
    script(stub, lambda region: answer(crowded, spread, crowded))
    runs = [planner(stub), planner(stub)]
    first, second = (http.plan(context) for http in runs)
    for http, plans in zip(runs, (first, second), strict=True):
        entry = next(e for e in http.call_log if e["agent"] == k)
        assert entry["chosen"] == 1 and entry["overcommit"][0] > 0 == entry["overcommit"][1]
        assert (plans[k].p[heads(context)].argmax(axis=1) == cloud).all()
        assert overcommit_share(plans[k].p[None], context, k)[0] == 0.0
    for region in first:
        np.testing.assert_array_equal(first[region].p, second[region].p)
        np.testing.assert_array_equal(first[region].z_plan, second[region].z_plan)


def outcome(context: PlanContext, k: int, plan, utility: float) -> WindowOutcome:
    """A closed window with every real slot placed on an ES (the longest PAST)."""
    es = np.flatnonzero(context.option_tier[k] == 0)
    choice = np.where(context.slot_valid, es[np.arange(context.num_slots) % es.size], context.num_options - 1)
    s = context.num_slots
    return WindowOutcome(
        agent=k,
        context=context,
        plan=plan,
        utility=utility,
        kpis=np.zeros(3),
        choice=choice,
        slot_rho=np.zeros(s),
        slot_sojourn_s=np.zeros(s),
        steps=60,
        duration_s=600.0,
    )


def test_prompt_fits_1500_tokens_on_small_with_three_traces(context, stub):
    script(stub, lambda k: "nope")
    http = planner(stub)
    plans = http.plan(context)
    for k in context.agents.tolist():
        for u in (0.5, 0.6, 0.7, 0.8):
            http.record(outcome(context, k, plans[k], u))
        messages = http.messages(context, k)
        user = messages[1]["content"]
        assert "PAST[" in user and user.count('"ESd"') + user.count('"ESm"') + user.count('"ESs"') == 3 * 48
        assert user.index("[[0.8,") < user.index("[0.7,") < user.index("[0.6,") and "[0.5," not in user
        assert messages_tokens(messages) <= 1500
    assert http.offline.r_hat(0) == pytest.approx(0.65)  # record reached the offline backend
    bare = planner(stub, with_traces=False)
    bare.record(outcome(context, 0, plans[0], 0.5))
    assert "PAST" not in bare.messages(context, 0)[1]["content"]


@pytest.mark.parametrize("parallel", [1, 4])
def test_transcript_replays_without_a_server(context, stub, tmp_path, parallel):
    script(stub, lambda k: answer(*[candidate(es_targets(context, k).items())] * B))
    path = str(tmp_path / "t{seed}.jsonl")
    recorded = planner(stub, transcript_path=path, parallel=parallel).plan(context)
    assert (tmp_path / "t0.jsonl").exists()
    replayer = make_planner("http", seed=0, options={"replay_path": path, "parallel": parallel})
    replayed = replayer.plan(context)
    for k in recorded:
        np.testing.assert_array_equal(recorded[k].p, replayed[k].p)
    assert replayer.stats.http_calls == 0


def test_options_are_checked(monkeypatch, stub):
    monkeypatch.delenv("EDGEPLACE_LLM_BASE_URL", raising=False)
    monkeypatch.delenv("EDGEPLACE_LLM_MODEL", raising=False)
    with pytest.raises(PolicyUnavailable, match="base_url"):
        make_planner("http", options={"model": "m"})
    with pytest.raises(PolicyUnavailable, match="model"):
        make_planner("http", options={"base_url": stub.base_url})
    with pytest.raises(ValueError, match="unknown options \\['timeout'\\]"):
        planner(stub, timeout=3)
    for name, value in (
        ("timeout_s", 0),
        ("candidates", 0),
        ("parallel", 1.5),
        ("with_traces", "no"),
        ("offline", "http"),
    ):
        with pytest.raises(ValueError, match=name):
            planner(stub, **{name: value})


def test_env_runs_with_the_http_planner(stub):
    """Each agent's reply binds its heads to the ES with the most free cpu in the prompt's NODES."""
    from edgeplace.algos.baselines.metaverse_dag.greedy import GreedyPolicy

    named: dict[int, dict[int, int]] = {}

    def reply(call, body):
        system, user = (m["content"] for m in body["messages"])
        region = int(REGION.search(system).group(1))
        nodes = json.loads(re.search(r"^NODES\S* (.*)$", user, re.M).group(1))
        dags = json.loads(re.search(r"^DAGS\S* (.*)$", user, re.M).group(1))
        best = max((row for row in nodes if row[1] == "ES" and row[6]), key=lambda row: row[3])[0]
        named[region] = {row[0][0]: best for row in dags}
        return completion(answer(*[candidate(named[region].items())] * B))

    stub.reply = reply
    config = {"planner": "http", "planner_options": {"base_url": stub.base_url, "model": "stub"}}
    env = MetaverseDagEnv(config)
    greedy = GreedyPolicy(config)
    obs, _ = env.reset(seed=1)
    assert sorted(named) == list(range(len(env.possible_agents)))
    for _ in range(3):
        for index, agent in enumerate(env.possible_agents):
            prior = obs[agent][MvObsKey.PLAN_PRIOR]
            slots = np.array(sorted(named[index]))
            assert (prior[slots].argmax(axis=1) == [named[index][s] for s in slots]).all()
        actions = greedy.act_batch(env.possible_agents, [obs[a] for a in env.possible_agents])
        obs, *_ = env.step(dict(zip(env.possible_agents, actions, strict=True)))
    stats = env.planning.planner.stats
    assert stats.fallbacks == 0 and stats.plans == len(env.possible_agents)
