"""Pod lifecycle and reconfiguration (spec c, "Pods"): init and termination times, restarts, FIFO
admission of PENDING pods, locks, in-place resizes and the pending rule that voids allocations."""

from __future__ import annotations

import pytest

from edgeplace.envs.lm_inference.pod import PodState
from edgeplace.envs.lm_inference.request_log import Outcome
from edgeplace.envs.lm_inference.simulator import LmInferenceSim
from tests.envs.lm_inference.conftest import (
    CPU,
    GPU,
    LM1,
    LM2,
    LM3,
    LM4,
    PARAMS,
    VM3,
    VM7,
    config,
    decide,
    step,
    workload,
)


def test_a_request_waits_for_its_pod_to_initialise(cluster):
    sim = LmInferenceSim(cluster, workload(2, (0, VM3, LM1, 1)), PARAMS)
    step(sim, {VM3: config(LM1=(CPU, 4, 0))})
    # INIT 10 s, then one prompt of 20 s on 4 cores; local, so no transfer.
    assert sim.log.outcome[0] == Outcome.SUCCESS
    assert sim.log.resolved_s[0] == pytest.approx(30.0)
    assert sim.log.service_s[0] == pytest.approx(20.0)


def test_termination_holds_resources_so_the_next_pod_waits_pending(cluster):
    sim = LmInferenceSim(cluster, workload(4), PARAMS)
    step(sim, {VM3: config(LM1=(CPU, 14, 0))})
    counts = decide(sim, {VM3: config(LM2=(CPU, 14, 0))})
    view = sim.view()
    assert (counts.terminations, counts.creations) == (1, 1)
    assert view.pod_state[VM3, [LM1, LM2]].tolist() == [PodState.TERMINATING, PodState.PENDING]
    assert view.pending[VM3] and view.transition_left_s[VM3, LM1] == pytest.approx(8.0)
    sim.advance()
    # LM1 frees its cores at 38 s; LM2 initialises 25 s, until 63 s.
    view = sim.view()
    assert view.pod_state[VM3, [LM1, LM2]].tolist() == [PodState.OFF, PodState.INIT]
    assert view.transition_left_s[VM3, LM2] == pytest.approx(3.0)
    step(sim)
    assert sim.view().pod_state[VM3, LM2] == PodState.READY


def test_a_mode_change_is_a_restart_of_termination_then_init(cluster):
    sim = LmInferenceSim(cluster, workload(4), PARAMS)
    step(sim, {VM3: config(LM2=(CPU, 4, 0))})
    counts = step(sim, {VM3: config(LM2=(GPU, 2, 1))})
    # Terminating ends at 30 + 15 s, then GPU init 35 s: READY at 80 s.
    view = sim.view()
    assert counts.restarts == 1
    assert view.pod_state[VM3, LM2] == PodState.INIT and view.vgpus[VM3, LM2] == 1
    assert view.transition_left_s[VM3, LM2] == pytest.approx(20.0)


def test_pending_pod_voids_allocations_but_not_terminations(cluster):
    sim = LmInferenceSim(cluster, workload(4), PARAMS)
    step(sim, {VM3: config(LM2=(CPU, 4, 0), LM4=(GPU, 2, 2))})
    # LM4 is still initialising (45 s): its shrink to 1 vGPU is ignored, so LM3 waits for a vGPU.
    counts = step(sim, {VM3: config(LM2=(CPU, 4, 0), LM3=(GPU, 2, 1), LM4=(GPU, 2, 1))})
    assert (counts.locked, counts.creations) == (1, 1)
    view = sim.view()
    assert view.pending[VM3] and view.pod_state[VM3, LM3] == PodState.PENDING
    counts = decide(sim, {VM3: config(LM1=(CPU, 4, 0), LM3=(GPU, 2, 1), LM4=(GPU, 2, 1))})
    # The LM1 creation and the LM4 restart are voided; the LM2 termination applies.
    assert (counts.voided, counts.creations, counts.restarts, counts.terminations) == (2, 0, 0, 1)
    assert sim.view().pod_state[VM3, [LM1, LM2, LM4]].tolist() == [
        PodState.OFF,
        PodState.TERMINATING,
        PodState.READY,
    ]


def test_a_shrink_applies_at_once_and_unblocks_a_pending_pod(cluster):
    sim = LmInferenceSim(cluster, workload(4), PARAMS)
    step(sim, {VM3: config(LM1=(CPU, 14, 0))})
    counts = decide(sim, {VM3: config(LM1=(CPU, 10, 0), LM2=(CPU, 4, 0))})
    view = sim.view()
    assert (counts.resizes, counts.creations) == (1, 1)
    assert view.cores[VM3, LM1] == 10 and view.pod_state[VM3, LM2] == PodState.INIT
    assert view.free_cores[VM3] == 0


def test_a_grow_is_capped_by_the_free_cores(cluster):
    sim = LmInferenceSim(cluster, workload(4), PARAMS)
    step(sim, {VM3: config(LM1=(CPU, 10, 0), LM2=(CPU, 4, 0))})
    # LM1 terminates (holding its 10 cores for 8 s), so LM2 can only keep its 4.
    step(sim, {VM3: config(LM2=(CPU, 14, 0))})
    assert sim.view().cores[VM3, LM2] == 4
    step(sim, {VM3: config(LM2=(CPU, 14, 0))})
    assert sim.view().cores[VM3, LM2] == 14


def test_vgpus_are_taken_first_fit_across_the_gpus_of_a_node(cluster):
    sim = LmInferenceSim(cluster, workload(2), PARAMS)
    step(sim, {VM7: config(LM1=(GPU, 2, 1), LM3=(GPU, 2, 2), LM4=(GPU, 2, 1))})
    slots = [pod.slots for pod in sim.nodes[VM7].pods]
    assert slots == [(0,), (), (1, 2), (3,)]
    assert [sorted(pod.gpus) for pod in sim.nodes[VM7].pods] == [[0], [], [0, 1], [1]]
