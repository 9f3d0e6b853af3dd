"""Rewards (spec d, "Rewards and delayed credit"): the windowed training reward and its shaping on
hand-computed cases, Eq. 20 per cohort, and the env's slot and epoch rewards."""

from __future__ import annotations

import numpy as np
import pytest

from edgeplace.algos.baselines.lm_inference.reference import make_env
from edgeplace.envs.lm_inference.agents import PLANNER, SCHEDULER
from edgeplace.envs.lm_inference.kpis import cohort_kpis
from edgeplace.envs.lm_inference.rewards import (
    WindowedReward,
    cohort_rewards,
    potential,
    reference_prompt_s,
)
from edgeplace.envs.lm_inference.simulator import LmInferenceSim
from edgeplace.policy import act
from tests.envs.lm_inference.conftest import (
    GPU,
    LM1,
    LM3,
    LM4,
    PARAMS,
    SHORT,
    VM2,
    VM3,
    MaskedRandom,
    config,
    step,
    workload,
)

TAU = 900.0
LM1_1VGPU_S = 1.0 * (0.5 + 0.5) * (1 + 0.25 / 2)  # B (sigma + (1 - sigma) / g) (1 + omega / c)


def test_the_reference_prompt_times_are_the_specs_one_vgpu_times():
    np.testing.assert_allclose(reference_prompt_s(PARAMS), [1.13, 3.38, 1.69, 28.1], rtol=5e-3)  # 3 digits


def test_the_windowed_reward_is_one_minus_j_of_recent_resolutions_and_holds_without_any(cluster):
    # Slot 0: 2 LM1 prompts served locally on VM3 (init 15 s, then 2 x 1.125 s): success at 17.25 s.
    # Slot 1: an LM3 request stays at VM2, which cannot host it: it fails at 30 s.
    sim = LmInferenceSim(cluster, workload(8, (0, VM3, LM1, 2), (1, VM2, LM3, 1)), PARAMS)
    windowed = WindowedReward(5, PARAMS)
    latency_norm = (15.0 + 2 * LM1_1VGPU_S) / TAU
    rewards = []
    for slot in range(7):
        step(sim, {VM3: config(LM1=(GPU, 2, 1))} if slot == 0 else None)
        rewards.append(windowed.update(sim.log, slot))
    both = 1 - (0.5 * latency_norm + 0.5 * (1 - 0.0))  # rho = (1, 0): F_norm 0 over the 2 types
    expected = [1 - 0.5 * latency_norm, *[both] * 4, 0.5, 0.5]  # slot 5: the failure alone; 6: held
    assert rewards == pytest.approx(expected)
    assert WindowedReward(5, PARAMS).update(LmInferenceSim(cluster, workload(2), PARAMS).log, 0) == 0.0


def test_the_potential_is_minus_the_backlogs_one_vgpu_work_over_n_tau():
    backlog = np.zeros((6, 4), dtype=np.int64)
    backlog[VM3, LM4], backlog[VM2, LM1] = 3, 2
    lm4_s = 25.0 * (0.15 + 0.85) * (1 + 0.25 / 2)
    assert potential(backlog, PARAMS) == pytest.approx(-(3 * lm4_s + 2 * LM1_1VGPU_S) / (6 * TAU))


def test_eq20_rewards_one_cohort_per_arrival_slot(cluster):
    sim = LmInferenceSim(cluster, workload(3, (0, VM3, LM1, 2), (1, VM2, LM3, 1)), PARAMS)
    step(sim, {VM3: config(LM1=(GPU, 2, 1))})
    step(sim)
    step(sim)
    latency_norm = (15.0 + 2 * LM1_1VGPU_S) / TAU
    # One LM per cohort: F_norm = 1; the failed cohort has no success, so T-bar_norm = 1.
    np.testing.assert_allclose(cohort_rewards(sim.log, 0, 3, PARAMS), [1 - 0.5 * latency_norm, 0.5, 0.0])


@pytest.mark.parametrize("shaping", [True, False])
def test_the_env_rewards_slots_with_the_window_plus_shaping_and_the_planner_with_its_epoch(shaping):
    env = make_env({**SHORT, "shaping": shaping})
    observations, _ = env.reset(seed=5)
    policy, slot_rewards, planner_rewards, backlogs = MaskedRandom(5), [], [], [env.view.backlog_prompts]
    while observations:
        deploying = SCHEDULER not in observations and PLANNER not in observations
        observations, rewards, _, truncated, _ = env.step(act(policy, observations))
        if deploying:
            slot_rewards.append(rewards)
            backlogs.append(env.view.backlog_prompts)
        if PLANNER in rewards:
            planner_rewards.append(rewards[PLANNER])
        if truncated["__all__"]:
            break
    log = env.sim.log
    held = 0.0
    for slot, rewards in enumerate(slot_rewards):
        window = (log.resolved_s >= (slot - 4) * 30.0) & (log.resolved_s < (slot + 1) * 30.0)
        held = 1 - cohort_kpis(log, window, PARAMS).objective if window.any() else held
        shaped = 0.99 * potential(backlogs[slot + 1], PARAMS) - potential(backlogs[slot], PARAMS)
        expected = held + shaped if shaping else held
        assert set(rewards) == {SCHEDULER, *env.deployers} | ({PLANNER} if slot % 10 == 9 else set())
        assert all(rewards[agent] == pytest.approx(expected) for agent in [SCHEDULER, *env.deployers]), slot
    epochs = [(log.resolved_s >= 300.0 * e) & (log.resolved_s < 300.0 * (e + 1)) for e in range(3)]
    assert planner_rewards == pytest.approx([1 - cohort_kpis(log, w, PARAMS).objective for w in epochs])
