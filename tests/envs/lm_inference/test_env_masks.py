"""The learned agents' masks (spec d): the planner's feasibility, the scheduler's feasibility and roles,
the deployers' catalogue, locks and the pending rule; a masked action raises and changes nothing."""

from __future__ import annotations

import numpy as np
import pytest

from edgeplace.algos.baselines.lm_inference.reference import make_env
from edgeplace.envs.base import MaskedActionError
from edgeplace.envs.lm_inference.agents import PLANNER, SCHEDULER
from edgeplace.envs.lm_inference.lm_types import NUM_LMS
from edgeplace.envs.lm_inference.masks import KEEP, ActionMasks
from edgeplace.envs.lm_inference.observation import LmObs
from edgeplace.envs.lm_inference.pod import PodState
from edgeplace.envs.lm_inference.reconfigure import pod_change
from edgeplace.obs_keys import ObsKey
from tests.envs.lm_inference.conftest import GPU, LM1, LM3, LM4, PARAMS, SHORT, VM2, VM3, VM7, blank_view

N = 6


def weight_index(lm: int, node: int) -> int:
    return lm * N + node


def pair_index(origin: int, lm: int) -> int:
    return origin * NUM_LMS + lm


def test_the_planner_may_weight_only_nodes_that_can_host_the_lm(cluster):
    parts = ActionMasks(cluster, PARAMS).planner
    for lm in range(NUM_LMS):
        for node in range(N):
            expected = [1, 0, 0, 0, 0] if not cluster.can_host[node, lm] else [1] * 5
            assert parts[weight_index(lm, node)].tolist() == expected
    assert parts[weight_index(LM3, VM2)].tolist() == [1, 0, 0, 0, 0]


@pytest.mark.parametrize("role_mask", [True, False])
def test_the_scheduler_may_route_to_feasible_nodes_holding_the_lm_in_role(role_mask):
    env = make_env({**SHORT, "scheduler_role_mask": role_mask})
    env.reset(seed=0)
    weights = np.zeros((NUM_LMS, N), dtype=np.int64)
    weights[LM1, VM3], weights[LM4, [VM3, VM7]] = 4, (1, 3)  # LM2, LM3: all-zero rows (uniform)
    observations, *_ = env.step({PLANNER: weights.ravel()})
    mask = observations[SCHEDULER][ObsKey.ACTION_MASK]
    feasible = env.cluster.can_host
    for origin in range(N):
        lm1 = [VM3] if role_mask else list(range(N))
        assert np.flatnonzero(mask[pair_index(origin, LM1)]).tolist() == lm1
        assert (
            np.flatnonzero(mask[pair_index(origin, LM3)]).tolist()
            == np.flatnonzero(feasible[:, LM3]).tolist()
        )
        lm4 = [VM3, VM7] if role_mask else np.flatnonzero(feasible[:, LM4]).tolist()
        assert np.flatnonzero(mask[pair_index(origin, LM4)]).tolist() == lm4
    routing = observations[SCHEDULER][LmObs.ROUTING]  # (2, I, N): p and roles
    np.testing.assert_allclose(routing[0, LM4, [VM3, VM7]], [0.25, 0.75])
    assert routing[1, LM1].tolist() == [0, 1, 0, 0, 0, 0]


def test_deployer_masks_follow_the_simulators_lock_and_pending_rules(cluster):
    """Cross-check against :func:`pod_change`: an entry is allowed iff it changes no locked pod and,
    while a pod is PENDING, allocates nothing (create, restart, grow)."""
    masks = ActionMasks(cluster, PARAMS)
    state = np.zeros((N, NUM_LMS), dtype=np.int64)
    mode, cores, vgpus = (np.zeros((N, NUM_LMS), dtype=np.int64) for _ in range(3))
    state[VM3, LM4], mode[VM3, LM4], cores[VM3, LM4], vgpus[VM3, LM4] = PodState.INIT, GPU, 2, 1
    state[VM7, LM3], mode[VM7, LM3], cores[VM7, LM3], vgpus[VM7, LM3] = PodState.READY, GPU, 2, 2
    state[VM7, LM4], mode[VM7, LM4], cores[VM7, LM4], vgpus[VM7, LM4] = PodState.PENDING, GPU, 2, 2
    pending = state == PodState.PENDING
    view = blank_view(
        cluster, pod_state=state, mode=mode, cores=cores, vgpus=vgpus, pending=pending.any(axis=1)
    )
    allowed = masks.deployers(view).astype(bool)
    for node in (VM2, VM3, VM7):
        entries = masks.table.entries[node]
        assert allowed[node, KEEP] and not allowed[node, 1 + len(entries) :].any()
        locked = np.isin(view.pod_state[node], (PodState.PENDING, PodState.INIT, PodState.TERMINATING))
        for k, entry in enumerate(entries):
            changes = [pod_change(view.node_config(node).pod(lm), entry.pod(lm)) for lm in range(NUM_LMS)]
            touches_lock = any(c.value != "none" and locked[lm] for lm, c in enumerate(changes))
            voided = pending[node].any() and any(c.allocates for c in changes)
            assert allowed[node, 1 + k] == (not touches_lock and not voided), (node, entry)
    assert allowed[VM3].sum() < 38 and allowed[VM7].sum() < 87  # the rules do mask something


def test_a_masked_action_raises_and_leaves_the_env_unchanged():
    env, twin = make_env(SHORT), make_env(SHORT)
    for e in (env, twin):
        e.reset(seed=1)
        e.step({PLANNER: np.zeros(NUM_LMS * N, dtype=np.int64)})
    routes = np.repeat(np.arange(N)[:, None], NUM_LMS, axis=1)  # local, but VM2 cannot host LM3 / LM4
    with pytest.raises(MaskedActionError, match=r"scheduler: sub-action 2 0 is masked out"):
        env.step({SCHEDULER: routes.ravel()})  # pair (VM2, LM3) -> VM2
    routes[VM2, [LM3, LM4]] = VM3
    observations, *_ = env.step({SCHEDULER: routes.ravel()})
    twin.step({SCHEDULER: routes.ravel()})
    deployers = {agent: KEEP for agent in observations}
    with pytest.raises(MaskedActionError, match="deployer_VM2: action 8 is masked out"):
        env.step({**deployers, "deployer_VM2": 8})  # VM2's catalogue has 6 entries
    after, rewards, *_ = env.step(deployers)
    twin_after, twin_rewards, *_ = twin.step(deployers)
    assert rewards == twin_rewards
    np.testing.assert_array_equal(after[SCHEDULER][LmObs.STATE], twin_after[SCHEDULER][LmObs.STATE])
