"""Queues and service (spec c, "Queues"): FIFO service one prompt at a time, deadlines that drop a
request from the queue or from service, interruption and resume, GPU sharing, transfers,
infeasible routes and the utilisation the controllers read."""

from __future__ import annotations

import numpy as np
import pytest

from edgeplace.envs.lm_inference.lm_types import LM_TABLE
from edgeplace.envs.lm_inference.request_log import Outcome
from edgeplace.envs.lm_inference.simulator import LmInferenceSim
from edgeplace.envs.lm_inference.time_model import prompt_time_s
from tests.envs.lm_inference.conftest import (
    CPU,
    GPU,
    LM1,
    LM2,
    LM3,
    LM4,
    PARAMS,
    VM2,
    VM3,
    VM7,
    config,
    step,
    workload,
)


def run(
    sim: LmInferenceSim, configs_by_slot: dict[int, dict] | None = None, slots: int | None = None
) -> None:
    for t in range(slots or sim.num_slots):
        step(sim, (configs_by_slot or {}).get(t))


def test_a_request_never_served_fails_at_its_deadline(cluster):
    sim = LmInferenceSim(cluster, workload(32, (0, VM3, LM1, 2)), PARAMS)
    run(sim, slots=29)  # up to 870 s
    assert sim.log.outcome[0] == Outcome.UNRESOLVED and sim.view().backlog_prompts[VM3, LM1] == 2
    run(sim, slots=1)  # slot 29 runs to 900 s inclusive: the deadline (local, so no download time)
    assert sim.log.outcome[0] == Outcome.EXPIRED
    assert sim.log.resolved_s[0] == pytest.approx(PARAMS.deadline_s)
    assert sim.view().backlog_prompts[VM3, LM1] == 0


def test_a_request_past_its_deadline_is_dropped_from_service_and_the_next_one_served(cluster):
    # LM2 on 1 core takes 160 s a prompt: 8 prompts cannot finish by 900 s.
    prompts = workload(60, (0, VM3, LM2, 8), (25, VM3, LM2, 1))
    sim = LmInferenceSim(cluster, prompts, PARAMS)
    run(sim, {0: {VM3: config(LM2=(CPU, 1, 0))}})
    assert sim.log.outcome.tolist() == [Outcome.EXPIRED, Outcome.SUCCESS]
    ready_s = LM_TABLE.init_cpu_s[LM2]
    assert sim.log.service_s[0] == pytest.approx(PARAMS.deadline_s - ready_s)  # its lost partial included
    # The second request starts when the first is dropped (900 s) and takes one 160 s prompt.
    assert sim.log.resolved_s[1] == pytest.approx(PARAMS.deadline_s + 160.0)


def test_terminating_a_serving_pod_loses_only_the_partial_prompt_and_the_request_resumes(cluster):
    prompt_s = 50 * (0.2 + 0.8 / 5)  # LM1 on 5 cores: 18 s
    sim = LmInferenceSim(cluster, workload(5, (0, VM3, LM1, 3)), PARAMS)
    pods = config(LM1=(CPU, 5, 0))
    step(sim, {VM3: pods})  # READY at 10 s, prompt 1 done at 28 s, prompt 2 running at 30 s
    step(sim, {VM3: config()})  # terminated at 30 s: 2 s of prompt 2 lost
    assert sim.view().backlog_prompts[VM3, LM1] == 2 and sim.view().queued_requests[VM3, LM1] == 1
    step(sim, {VM3: pods})  # re-created at 60 s, READY at 70 s
    step(sim)
    assert sim.log.outcome[0] == Outcome.SUCCESS
    assert sim.log.resolved_s[0] == pytest.approx(70 + 2 * prompt_s)
    assert sim.log.service_s[0] == pytest.approx(3 * prompt_s + 2.0)


def test_pods_sharing_a_gpu_slow_each_other_only_while_both_are_busy(cluster):
    prompts = workload(4, (2, VM3, LM3, 1), (2, VM3, LM4, 1))
    sim = LmInferenceSim(cluster, prompts, PARAMS)
    run(sim, {0: {VM3: config(LM3=(GPU, 3, 1), LM4=(GPU, 3, 1))}})
    lm3_shared = prompt_time_s(LM3, GPU, 3, 1, PARAMS, shared=True)
    lm4_alone = prompt_time_s(LM4, GPU, 3, 1, PARAMS)
    # Both start at 60 s. LM3 ends at 60 + its shared time; LM4 then runs alone at full speed, having
    # done lm3_shared * (1 - theta) / lm4_alone of its prompt.
    assert sim.log.resolved_s[0] == pytest.approx(60 + lm3_shared)
    lm4_end = 60 + lm3_shared + lm4_alone - lm3_shared * (1 - PARAMS.sharing_slowdown)
    assert sim.log.resolved_s[1] == pytest.approx(lm4_end)


def test_pods_on_different_gpus_do_not_share(cluster):
    prompts = workload(4, (2, VM7, LM3, 1), (2, VM7, LM4, 1))
    sim = LmInferenceSim(cluster, prompts, PARAMS)
    run(sim, {0: {VM7: config(LM3=(GPU, 2, 2), LM4=(GPU, 2, 2))}})
    expected = 60 + prompt_time_s(np.array([LM3, LM4]), GPU, 2, 2, PARAMS)
    np.testing.assert_allclose(sim.log.resolved_s, expected)


def test_remote_requests_pay_both_transfers(cluster):
    sim = LmInferenceSim(cluster, workload(3, (1, VM2, LM3, 8)), PARAMS)
    step(sim, {VM7: config(LM3=(GPU, 2, 1))})
    destinations = np.full((6, 4), VM7)
    step(sim, destinations=destinations)
    up = 0.3 + 2e-3 + 8 * 8 * LM_TABLE.upload_mb[LM3] / 100.0  # VM2 (UoB) -> VM7 (M Shed)
    down = 0.3 + 2e-3 + 8 * 8 * LM_TABLE.download_mb[LM3] / 100.0
    assert sim.log.upload_s[0] == pytest.approx(up) and sim.log.download_s[0] == pytest.approx(down)
    serve = 8 * prompt_time_s(LM3, GPU, 2, 1, PARAMS)
    assert sim.log.latency_s(PARAMS.slot_s)[0] == pytest.approx(up + serve + down)


def test_a_request_routed_where_its_lm_can_never_run_fails_at_once(cluster):
    sim = LmInferenceSim(cluster, workload(1, (0, VM3, LM4, 3)), PARAMS)
    step(sim, destinations=np.full((6, 4), VM2))
    assert sim.log.outcome[0] == Outcome.INFEASIBLE and sim.log.resolved_s[0] == 0.0


def test_utilisation_is_the_busy_share_of_the_previous_slot(cluster):
    sim = LmInferenceSim(cluster, workload(2, (0, VM3, LM1, 1)), PARAMS)
    step(sim, {VM3: config(LM1=(CPU, 4, 0))})
    view = sim.view()
    # Busy 10 s -> 30 s on 4 of 14 cores; LM1 holds 3 of 20 GB.
    assert view.eta_cpu[VM3] == pytest.approx(1 - 4 * 20 / (14 * 30))
    assert view.eta_gpu[VM3] == 1.0 and view.eta_cpu[VM2] == 1.0
    assert view.eta_mem[VM3] == pytest.approx(1 - 3 / 20)
