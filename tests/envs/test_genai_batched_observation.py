"""The observer's batched path, which Serve's placer uses, builds exactly the env's observations."""

from __future__ import annotations

import numpy as np
import pytest

from edgeplace.envs.genai_chain import GenAIChainConfig, GenAIChainEnv
from edgeplace.envs.genai_chain.observation import ChainObserver, ChainProgress
from edgeplace.envs.genai_chain.system_model import RequestProfile
from edgeplace.obs_keys import ObsKey
from edgeplace.workloads.genai_chain import NUM_STAGES


def random_progress(observer: ChainObserver, config: GenAIChainConfig, rng: np.random.Generator, stage: int):
    """A request at ``stage`` with a random route, size, predecessor and history."""
    num_nodes = observer.num_nodes
    request = RequestProfile.build(
        rng.integers(1, 4, NUM_STAGES),
        rng.uniform(),
        rng.uniform(0, 3),
        int(rng.integers(num_nodes)),
        config.params,
    )
    index = int(rng.integers(config.requests_per_episode))
    return ChainProgress(
        request,
        index,
        config.requests_per_episode,
        stage=stage,
        prev_node=int(rng.integers(num_nodes)) if stage else -1,
        elapsed_s=float(rng.uniform(0, 5)) if stage else 0.0,
        pred_quality=float(rng.uniform()) if stage else 0.0,
    )


@pytest.mark.parametrize("topology", ["synthetic:genai-small", "waxman:nodes=40,seed=3"])
def test_every_row_of_a_batch_is_the_env_observation_bit_for_bit(topology):
    env = GenAIChainEnv({"topology": topology})
    observer, rng = env.observer, np.random.default_rng(0)
    assert observer.max_nodes > observer.num_nodes, "padding rows are covered"
    progresses = [random_progress(observer, env.config, rng, stage) for stage in list(range(NUM_STAGES)) * 4]
    loads = rng.uniform(0, 40, (len(progresses), observer.num_nodes))
    telemetry = rng.exponential(0.1, (len(progresses), observer.num_nodes))
    batch = observer.observe_batch(progresses, loads, telemetry)
    assert set(batch) == set(ObsKey)
    for row, progress in enumerate(progresses):
        single = observer.observe(progress, loads[row], telemetry[row])
        for key, value in single.items():
            assert batch[key][row].dtype == value.dtype and batch[key][row].shape == value.shape, key
            assert batch[key][row].tobytes() == value.tobytes(), f"row {row} (stage {progress.stage}): {key}"
    assert all(observer.space[key].contains(batch[key][0]) for key in batch)
    one = observer.observe_batch(progresses[-1:], loads[-1:], telemetry[-1:])
    assert all(one[key].tobytes() == batch[key][-1:].tobytes() for key in batch), "a batch of one"


def test_batched_observations_are_fresh_arrays():
    env = GenAIChainEnv({"topology": "synthetic:genai-small"})
    observer, rng = env.observer, np.random.default_rng(1)
    progresses = [random_progress(observer, env.config, rng, stage=0) for _ in range(2)]
    loads = np.zeros((2, observer.num_nodes))
    first = observer.observe_batch(progresses, loads, loads)
    for value in first.values():
        value[...] = 7
    again = observer.observe_batch(progresses, loads, loads)
    assert not any((value == 7).all() for value in again.values())
    np.testing.assert_array_equal(again[ObsKey.ITEM_NODE][1], observer.item_node)


def test_an_empty_batch_is_refused():
    observer = GenAIChainEnv({"topology": "synthetic:genai-small"}).observer
    with pytest.raises(ValueError, match="progresses"):
        observer.observe_batch([], np.zeros((0, observer.num_nodes)), np.zeros((0, observer.num_nodes)))
