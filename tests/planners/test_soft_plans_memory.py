"""The ``memory`` planner (TopoRAG, papers/llm-mappo.md, section d): traces from closed windows, retrieval
and fusion into the plan, candidates chosen by R-hat, drift refits, persistence and the bootstrap."""

from __future__ import annotations

import json

import numpy as np
import pytest

from edgeplace.algos.baselines.metaverse_dag import GreedyPolicy
from edgeplace.algos.llm_mappo.memory_bootstrap import FIT_REPORT, build_memory
from edgeplace.envs.base import ALL_AGENTS
from edgeplace.envs.metaverse_dag import MetaverseDagEnv, MvObsKey
from edgeplace.planners.soft_plans import PlanEvent, make_planner
from edgeplace.planners.soft_plans.memory import MemoryPlanner
from edgeplace.planners.soft_plans.memory_training import fit_scorer
from edgeplace.policy import act

SHORT = {"horizon": 6, "plan_period_s": 20.0}


def play(env: MetaverseDagEnv, episodes: int, first_seed: int = 0) -> list[dict]:
    policy = GreedyPolicy(env.cfg)
    trace = []
    for episode in range(episodes):
        observations, _ = env.reset(seed=first_seed + episode)
        while True:
            observations, _, _, truncated, _ = env.step(act(policy, observations))
            trace.append(observations)
            if truncated[ALL_AGENTS]:
                break
    return trace


def memory_env(**options) -> MetaverseDagEnv:
    return MetaverseDagEnv({**SHORT, "planner": "memory", "planner_options": {"refit": False, **options}})


@pytest.fixture(scope="module")
def filled(tmp_path_factory) -> tuple[MetaverseDagEnv, str]:
    env = memory_env()
    play(env, 4)
    directory = tmp_path_factory.mktemp("memory") / "planner"
    env.planning.planner.save(directory)
    return env, str(directory)


def test_every_closed_window_becomes_a_trace_with_its_context(filled):
    env, _ = filled
    planner: MemoryPlanner = env.planning.planner
    windows_per_episode = env.net.num_regions * 3
    assert len(planner.memory) == 4 * windows_per_episode == len(planner.archive)
    records = planner.memory.get(planner.memory.ids())
    assert records["timestamp_s"].max() == pytest.approx(4 * 60.0)  # the clock runs on over episodes
    assert set(records["agent_id"].tolist()) == set(range(env.net.num_regions))


def test_plans_fuse_retrieved_traces_and_pick_among_candidates(filled):
    env, directory = filled
    fresh = memory_env(memory_dir=directory)
    captured = []
    planner = fresh.planning.planner
    original = planner._dispatch

    def spy(context, region, q, found, pi, rng):
        captured.append((len(found.ids), pi.copy()))
        return original(context, region, q, found, pi, rng)

    planner._dispatch = spy
    observations, _ = fresh.reset(seed=11)
    assert all(n > 0 for n, _ in captured)
    assert all(np.isclose(pi.sum(), 1.0) and (pi > 0).sum() <= 3 for _, pi in captured)
    plan = fresh.planning.windows[0].plan
    assert plan.source == "memory" and plan.candidates == 3 and 0 < plan.r_hat < 1
    prior = observations["ec_0"][MvObsKey.PLAN_PRIOR]
    assert np.allclose(prior.sum(axis=1), 1.0)


def test_saved_planner_plans_alike_after_loading(filled):
    env, directory = filled
    first, second = memory_env(memory_dir=directory), memory_env(memory_dir=directory)
    a, _ = first.reset(seed=5)
    b, _ = second.reset(seed=5)
    for agent in a:
        assert np.array_equal(a[agent][MvObsKey.PLAN_Z], b[agent][MvObsKey.PLAN_Z])
        assert np.array_equal(a[agent][MvObsKey.PLAN_PRIOR], b[agent][MvObsKey.PLAN_PRIOR])


def test_drift_triggers_a_refit_that_reembeds_the_traces(filled):
    _, directory = filled
    env = MetaverseDagEnv(
        {
            **SHORT,
            "planner": "memory",
            "planner_options": {
                "memory_dir": directory,
                "drift_window": 2,
                "drift_threshold": 1e-6,
                "refit_epochs": 1,
            },
        }
    )
    planner: MemoryPlanner = env.planning.planner
    before = planner.memory.get(planner.memory.ids())["q_ctx"].copy()
    play(env, 1, first_seed=20)
    assert planner.refits >= 1
    after = planner.memory.get(planner.memory.ids())
    assert np.array_equal(np.sort(planner.archive.ids()), np.sort(planner.memory.ids()))
    assert not np.allclose(after["q_ctx"][: len(before)], before)


def test_training_lowers_the_held_out_loss(filled):
    env, directory = filled
    planner = MemoryPlanner(0, {"memory_dir": directory})
    report = fit_scorer(planner.scorer, planner.memory, planner.archive, epochs=8, r_max=env.cfg.r_max)
    assert len(report.train_loss) == 8 and report.train_loss[-1] < report.train_loss[0]
    assert set(report.val_mse) == {"<=30%", "30-60%", "60-85%"}


def test_options_and_memory_dir_are_checked(tmp_path):
    with pytest.raises(ValueError, match="unknown options.*'lr'"):
        make_planner("memory", options={"learning_rate": 1})
    with pytest.raises(ValueError, match="candidates must be an integer >= 1"):
        make_planner("memory", options={"candidates": 0})
    with pytest.raises(ValueError, match=r"memory_dir .* lacks \['traces.npz'"):
        make_planner("memory", options={"memory_dir": str(tmp_path)})


def test_bootstrap_builds_a_loadable_memory(tmp_path):
    out = build_memory(
        tmp_path / "boot", windows=16, epochs=2, env_config={"horizon": 6, "plan_period_s": 30.0}
    )
    report = json.loads((out / FIT_REPORT).read_text())
    assert report["windows"] >= 16 and len(report["train_loss"]) == 2
    env = MetaverseDagEnv(
        {
            "horizon": 6,
            "plan_period_s": 30.0,
            "planner": "memory",
            "planner_options": {"memory_dir": str(out)},
        }
    )
    env.reset(seed=0)
    records = env.planning.planner.memory.get(env.planning.planner.memory.ids())
    assert not np.allclose(records["w"], records["w"][0])  # bootstrap weights are drawn per window
    assert (records["psi"] >= 0.2).all() and (records["psi"] <= 0.8).all()
    with pytest.raises(ValueError, match="chooses its own planner"):
        build_memory(tmp_path / "x", windows=4, env_config={"planner": "heuristic"})


def test_reset_context_starts_a_new_clock_window():
    planner = MemoryPlanner(0, {"refit": False})
    env = MetaverseDagEnv({**SHORT, "planner": "memory", "planner_options": {"refit": False}})
    env.planning.planner = planner
    play(env, 2)
    stamps = np.sort(planner.memory.get(planner.memory.ids())["timestamp_s"])
    assert stamps[0] == pytest.approx(20.0) and stamps[-1] == pytest.approx(120.0)
    assert PlanEvent.RESET.value == "reset"
