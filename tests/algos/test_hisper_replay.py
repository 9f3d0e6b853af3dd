import numpy as np
import pytest
from gymnasium.utils.env_checker import data_equivalence

from edgeplace.algos.hisper.joint_view import JointStateLayout, static_masks
from edgeplace.algos.hisper.replay import Column, JointReplayBuffer
from edgeplace.envs.dnn_inference import DnnInferenceEnv, DnnObsKey, global_state

COLUMNS = {"state": Column((2,), "float32"), "actions": Column((3, 2), "int16"), "done": Column((), "bool")}


def rows(start: int, count: int) -> dict[str, np.ndarray]:
    """Row t: state (t, -t), actions all t, done iff t is odd (so every column identifies its row)."""
    t = np.arange(start, start + count)
    return {
        "state": np.stack([t, -t], axis=1).astype(np.float32),
        "actions": np.broadcast_to(t[:, None, None], (count, 3, 2)).astype(np.int16),
        "done": t % 2 == 1,
    }


def assert_aligned(sample: dict[str, np.ndarray]) -> None:
    t = sample["state"][:, 0]
    np.testing.assert_array_equal(sample["state"][:, 1], -t)
    np.testing.assert_array_equal(
        sample["actions"], np.broadcast_to(t[:, None, None], sample["actions"].shape)
    )
    np.testing.assert_array_equal(sample["done"], t % 2 == 1)


def test_sampled_rows_are_whole_joint_transitions():
    buffer = JointReplayBuffer(10, COLUMNS, seed=0)
    buffer.add(rows(0, 7))
    sample = buffer.sample(64)
    assert sample["state"].shape == (64, 2) and sample["actions"].shape == (64, 3, 2)
    assert_aligned(sample)
    assert set(sample["state"][:, 0].astype(int)) <= set(range(7))


def test_ring_buffer_overwrites_the_oldest_rows():
    buffer = JointReplayBuffer(5, COLUMNS, seed=0)
    buffer.add(rows(0, 4))
    buffer.add(rows(4, 3))  # rows 0 and 1 are overwritten
    assert len(buffer) == 5 and buffer.next_row == 2 and buffer.rows_added == 7
    assert sorted(buffer.storage["state"][:, 0].astype(int)) == [2, 3, 4, 5, 6]
    buffer.add(rows(10, 12))  # more rows than the capacity: only the newest 5 survive
    assert sorted(buffer.storage["state"][:, 0].astype(int)) == [17, 18, 19, 20, 21]
    assert_aligned(buffer.sample(20))


def test_same_seed_same_samples_and_state_round_trip():
    a, b = JointReplayBuffer(8, COLUMNS, seed=3), JointReplayBuffer(8, COLUMNS, seed=3)
    for buffer in (a, b):
        buffer.add(rows(0, 11))
    np.testing.assert_array_equal(a.sample(16)["state"], b.sample(16)["state"])
    c = JointReplayBuffer(8, COLUMNS, seed=99)
    c.set_state(a.get_state())
    assert (len(c), c.next_row, c.rows_added) == (len(a), a.next_row, a.rows_added)
    np.testing.assert_array_equal(c.sample(16)["state"], a.sample(16)["state"])


def test_bad_rows_raise_naming_the_column():
    buffer = JointReplayBuffer(4, COLUMNS)
    with pytest.raises(ValueError, match="missing columns \\['done'\\]"):
        buffer.add({k: v for k, v in rows(0, 2).items() if k != "done"})
    bad = rows(0, 2) | {"actions": np.zeros((2, 3, 3), np.int16)}
    with pytest.raises(ValueError, match="'actions'"):
        buffer.add(bad)
    with pytest.raises(ValueError, match="empty"):
        buffer.sample(1)


def test_joint_view_recovers_every_agent_observation_from_the_global_state():
    env = DnnInferenceEnv({"agents_per_service": 2, "horizon": 3})
    observations, _ = env.reset(seed=5)
    layout = JointStateLayout.from_layout(env.layout, env.possible_agents)
    state = global_state(observations, env.possible_agents)
    assert state.shape == (layout.state_dim,)
    rebuilt = layout.observations(state, static_masks(observations, env.possible_agents, layout.sizes))
    for agent in env.possible_agents:
        for key in DnnObsKey:  # the mask: a tuple of int8 parts, as the env's
            assert data_equivalence(rebuilt[agent][key], observations[agent][key], exact=True), (agent, key)
