"""The episodic case memory (spec d): retrieval by context similarity into fixed slots (3 best by J,
the worst, the most recent), eviction that keeps the best cases, JSONL save and load, and the env's
memory scopes and memory file."""

from __future__ import annotations

import json

import numpy as np
import pytest

from edgeplace.algos.baselines.lm_inference.reference import make_env
from edgeplace.envs.base import KPI_INFO_KEY
from edgeplace.envs.lm_inference.agents import PLANNER
from edgeplace.envs.lm_inference.case_memory import RETRIEVED, Case, CaseMemory
from edgeplace.envs.lm_inference.catalogue import catalogue
from edgeplace.envs.lm_inference.observation import LmObs
from tests.envs.lm_inference.conftest import PARAMS, SHORT, MaskedRandom, play

NEAR, FAR = np.array([1.0, 0.0]), np.array([0.0, 1.0])


def case(objective: float, epoch: int, context: np.ndarray = NEAR) -> Case:
    return Case(np.full(3, objective), context, objective, epoch)


def test_retrieval_fills_best_three_worst_and_most_recent_among_similar_contexts():
    memory = CaseMemory(min_similar=2)
    for epoch, objective in enumerate([0.5, 0.2, 0.9, 0.4, 0.3]):
        memory.add(case(objective, epoch))
    memory.add(case(0.05, 5, FAR))  # dissimilar: left out while enough similar cases exist
    slots = memory.retrieve(NEAR)
    assert len(slots) == RETRIEVED
    assert [c.objective for c in slots] == [0.2, 0.3, 0.4, 0.9, 0.3]  # best 3, worst, most recent (epoch 4)


def test_with_too_few_similar_cases_the_nearest_are_used_and_empty_slots_stay_none():
    memory = CaseMemory()
    assert memory.retrieve(NEAR) == [None] * RETRIEVED
    memory.add(case(0.7, 0, FAR))
    slots = memory.retrieve(NEAR)
    assert [s.objective if s else None for s in slots] == [0.7, None, None, 0.7, 0.7]


def test_eviction_drops_the_oldest_case_outside_the_best():
    memory = CaseMemory(capacity=4, keep_best=2)
    for epoch, objective in enumerate([0.1, 0.9, 0.2, 0.8, 0.7]):
        memory.add(case(objective, epoch))
    assert [c.epoch for c in memory.cases] == [0, 2, 3, 4]  # epoch 1 (J 0.9) was the oldest non-best
    memory.add(case(0.05, 5))
    assert [c.epoch for c in memory.cases] == [0, 3, 4, 5]  # epoch 2 (J 0.2) fell out of the best 2


def test_save_then_load_gives_back_every_field_in_order(tmp_path, cluster):
    memory = CaseMemory(capacity=8, keep_best=2)
    plan = tuple(catalogue(cluster, n, PARAMS)[n + 1] for n in range(6))
    for epoch in range(12):
        memory.add(Case(np.arange(3) / (epoch + 1), NEAR * 0.1 * epoch, 1.0 / (epoch + 1), epoch, plan))
    memory.add(case(0.123456789012345678, 12))  # no plan
    path = tmp_path / "memory.jsonl"
    memory.save(path)
    loaded = CaseMemory(capacity=8, keep_best=2)
    assert len(loaded.load(path)) == len(memory.cases) == 8
    for got, want in zip(loaded.cases, memory.cases, strict=True):
        np.testing.assert_array_equal(got.features, want.features)
        np.testing.assert_array_equal(got.context, want.context)
        assert (got.objective, got.epoch, got.plan) == (want.objective, want.epoch, want.plan)
    assert loaded.next_epoch == 13


def test_loading_more_than_the_capacity_evicts_as_adding_does(tmp_path):
    rng = np.random.default_rng(0)
    objectives = rng.random(300)
    full = CaseMemory(capacity=300, keep_best=16)
    for epoch, objective in enumerate(objectives):
        full.add(case(float(objective), epoch))
    path = tmp_path / "memory.jsonl"
    full.save(path)
    memory, added = CaseMemory(), CaseMemory()
    memory.load(path)
    for c in full.cases:
        added.add(c)
    assert [c.epoch for c in memory.cases] == [c.epoch for c in added.cases]
    assert len(memory.cases) == 256
    assert set(np.argsort(objectives)[:16].tolist()) <= {c.epoch for c in memory.cases}  # the 16 best stay


GOOD_LINE = {"epoch": 1, "objective": 0.5, "features": [1, 2, 3], "context": [1, 0], "plan": None}
BAD_POD = {"mode": [1, 0, 0, 0], "cores": [0, 0, 0, 0], "vgpus": [0, 0, 0, 0]}  # a CPU pod without cores


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("{not json", "line 2: Expecting property name"),
        ("", "line 2: Expecting value"),
        (json.dumps({**GOOD_LINE, "features": [1, 2]}), "line 2: field 'features': expected 3 numbers"),
        (json.dumps({**GOOD_LINE, "context": [1]}), "line 2: field 'context': expected 2 numbers"),
        (json.dumps({**GOOD_LINE, "epoch": -1}), "line 2: field 'epoch'"),
        (json.dumps({**GOOD_LINE, "objective": float("nan")}), "line 2: field 'objective'"),
        (
            json.dumps({**GOOD_LINE, "plan": [BAD_POD]}),
            "line 2: field 'plan': node 0: .*'cores' must be >= 1",
        ),
        (
            json.dumps({k: v for k, v in GOOD_LINE.items() if k != "plan"}),
            r"line 2: fields missing \['plan'\]",
        ),
    ],
)
def test_a_bad_line_is_rejected_naming_the_file_line_and_field_and_nothing_is_added(tmp_path, line, message):
    path = tmp_path / "memory.jsonl"
    path.write_text("\n".join([json.dumps(GOOD_LINE), line, json.dumps(GOOD_LINE)]) + "\n")
    target = CaseMemory(feature_size=3, context_size=2)
    with pytest.raises(ValueError, match=f"memory.jsonl'?, {message}"):
        target.load(path)
    assert target.cases == []
    with pytest.raises(ValueError, match="cannot read it"):
        target.load(tmp_path / "missing.jsonl")


def test_cases_of_another_size_than_the_memorys_are_refused():
    memory = CaseMemory()
    memory.add(case(0.5, 0))  # the first case sets F = 3, C = 2
    with pytest.raises(ValueError, match="field 'features': expected 3 numbers"):
        memory.add(Case(np.zeros(4), NEAR, 0.5, 1))


# --- the env's memory ---------------------------------------------------------------------------


def memory_of(env) -> list[tuple[int, float]]:
    return [(c.epoch, c.objective) for c in env.memory.cases]


def test_scope_episode_replays_a_seed_and_scope_env_keeps_the_cases_across_resets():
    env = make_env(SHORT)
    seen, _, infos = play(env, MaskedRandom(5), seed=5)
    assert [epoch for epoch, _ in memory_of(env)] == [0, 1, 2]
    again, _, infos_again = play(env, MaskedRandom(5), seed=5)
    assert [epoch for epoch, _ in memory_of(env)] == [0, 1, 2]  # emptied at the reset
    assert infos[PLANNER][KPI_INFO_KEY] == infos_again[PLANNER][KPI_INFO_KEY]
    for first, second in zip(seen, again, strict=True):
        if PLANNER in first:
            np.testing.assert_array_equal(first[PLANNER][LmObs.MEMORY], second[PLANNER][LmObs.MEMORY])

    kept = make_env({**SHORT, "memory_scope": "env"})
    play(kept, MaskedRandom(5), seed=5)
    first_cases = memory_of(kept)
    later, _, _ = play(kept, MaskedRandom(5), seed=5)
    assert memory_of(kept)[:3] == first_cases and [e for e, _ in memory_of(kept)] == list(range(6))
    planner_turns = [obs[PLANNER] for obs in later if PLANNER in obs]
    assert planner_turns[0][LmObs.MEMORY_MASK].sum() == 0  # no epoch summary yet at slot 0
    assert planner_turns[1][LmObs.MEMORY_MASK].all()  # the first episode's cases fill the slots


def test_a_memory_file_seeds_every_episode_and_a_bad_one_names_the_field(tmp_path):
    env = make_env(SHORT)
    play(env, MaskedRandom(6), seed=6)
    path = tmp_path / "env-memory.jsonl"
    env.memory.save(path)
    seeded = make_env({**SHORT, "memory_file": str(path)})
    for _ in range(2):
        seeded.reset(seed=1)
        assert memory_of(seeded) == memory_of(env)
    play(seeded, MaskedRandom(6), seed=6)
    assert [e for e, _ in memory_of(seeded)] == list(range(6))  # new cases follow the file's
    with pytest.raises(ValueError, match="memory_file: case memory file '.*missing.jsonl': cannot read"):
        make_env({**SHORT, "memory_file": str(tmp_path / "missing.jsonl")})
    path.write_text('{"epoch": 0}\n')
    with pytest.raises(ValueError, match=r"memory_file: .*env-memory.jsonl', line 1: fields missing"):
        make_env({**SHORT, "memory_file": str(path)})
    with pytest.raises(ValueError, match=r"memory_scope must be one of \['episode', 'env'\], got 'run'"):
        make_env({**SHORT, "memory_scope": "run"})
    with pytest.raises(ValueError, match="memory_file must be a path or null, got 3"):
        make_env({**SHORT, "memory_file": 3})
