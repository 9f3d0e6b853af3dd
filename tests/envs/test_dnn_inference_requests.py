"""The dnn-inference request outline that the env, the baselines and Serve share: a slot's requests as
a :class:`RequestBatch` observe as the env observes them (bit for bit), decode back from the
observations, and a request's :class:`RequestOutcome` on a server state is the env's admission."""

from __future__ import annotations

import numpy as np
import pytest
from gymnasium.utils.env_checker import data_equivalence

from edgeplace.algos.baselines.stacking import stack_observations
from edgeplace.envs.dnn_inference import DnnInferenceEnv, DnnObsKey, SlotRequests, admit_slot
from edgeplace.envs.dnn_inference.request_batch import RequestBatch
from edgeplace.envs.dnn_inference.request_outcome import RequestOutcome
from edgeplace.envs.dnn_inference.system_model import ServerLoad

CONFIG = {"horizon": 3, "agents_per_service": 3}
#: The entries the request decoder reads.
READ_KEYS = (DnnObsKey.REQUEST, DnnObsKey.SERVERS)


def slot_batch(slot: SlotRequests) -> RequestBatch:
    """The slot's requests in agent order, each on the slot's background. Shapes: fields (A,), (A, V)."""
    count = len(slot.service)
    return RequestBatch(
        service=slot.service,
        local=slot.local,
        deadline_s=slot.deadline_s,
        data_mb=slot.data_mb,
        background_tflop=np.repeat(slot.background_tflop[None], count, axis=0),
        background_memory_mb=np.repeat(slot.background_memory_mb[None], count, axis=0),
    )


def test_observed_requests_are_the_envs_observations_bit_for_bit():
    env = DnnInferenceEnv(CONFIG)
    obs, _ = env.reset(seed=5)
    for t in range(env.config.horizon):
        agents = np.arange(len(env.possible_agents))
        served = env.observer.observe_requests(slot_batch(env.slot_requests(t)), agents)
        for n, agent in enumerate(env.possible_agents):
            assert set(served) == set(obs[agent])
            assert data_equivalence({key: served[key][n] for key in served}, obs[agent], exact=True), agent
        obs, *_ = env.step({agent: env.action_spaces[agent].sample() for agent in env.possible_agents})


def test_decoded_observations_are_the_slots_requests():
    env = DnnInferenceEnv(CONFIG)
    obs, _ = env.reset(seed=1)
    decoded = env.layout.decode_batch(list(obs), stack_observations(list(obs.values()), READ_KEYS))
    expected = slot_batch(env.slot_requests(0))
    np.testing.assert_array_equal(decoded.service, expected.service)
    np.testing.assert_array_equal(decoded.local, expected.local)
    for field in ("deadline_s", "data_mb", "background_tflop", "background_memory_mb"):
        np.testing.assert_allclose(getattr(decoded, field), getattr(expected, field), rtol=1e-6)
    np.testing.assert_array_equal(decoded.select(np.array([2, 0])).local, expected.local[[2, 0]])
    with pytest.raises(ValueError, match="max_nodes"):
        DnnInferenceEnv(CONFIG | {"max_nodes": 20}).layout.decode_batch(
            list(obs), stack_observations(list(obs.values()), READ_KEYS)
        )


def first_requests(slot: SlotRequests, count: int) -> SlotRequests:
    """The slot restricted to its first ``count`` requests."""
    return SlotRequests(
        slot.service[:count],
        slot.local[:count],
        slot.data_mb[:count],
        slot.deadline_s[:count],
        slot.background_tflop,
        slot.background_memory_mb,
    )


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_outcome_of_a_request_is_the_envs_admission_after_the_earlier_ones(seed):
    """Request 0 alone on the slot state, then request 1 on the state request 0 left: the admission of
    the slot [0, 1] (delays, acceptance), and their rewards add up to the slot's reward."""
    env = DnnInferenceEnv(CONFIG)
    env.reset(seed=seed)
    slot, rng, params = env.slot_requests(0), np.random.default_rng(seed), env.config.params
    server = rng.integers(env.network.num_servers)  # one server, one model: request 1 shares the instance
    actions = np.array([[rng.integers(16), 0, server], [rng.integers(16), 0, server]])
    admitted = admit_slot(env.network, params, first_requests(slot, 2), actions)
    alone = admit_slot(env.network, params, first_requests(slot, 1), actions[:1])
    batch, row = slot_batch(slot), np.zeros(1, dtype=np.int64)

    first = RequestOutcome.alone(env.network, params, batch.select(row), *actions[:1].T)
    assert first.accepted[0] == admitted.accepted[0] and first.delay_s[0] == admitted.delay_s[0]
    assert first.reward[0] == pytest.approx(alone.reward) and first.cost[0] == pytest.approx(
        alone.agent_cost[0]
    )

    load = ServerLoad.background(batch.background_tflop[:1], batch.background_memory_mb[:1])
    load.commit(row, batch.service[:1], actions[:1, 1], actions[:1, 2], first.terms, first.accepted)
    second = RequestOutcome.evaluate(env.network, params, load, row, batch.select(row + 1), *actions[1:].T)
    assert second.accepted[0] == admitted.accepted[1]
    assert second.delay_s[0] == pytest.approx(admitted.delay_s[1], rel=1e-12)
    assert first.reward[0] + second.reward[0] == pytest.approx(admitted.reward, rel=1e-9)
