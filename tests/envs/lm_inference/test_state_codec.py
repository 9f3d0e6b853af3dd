"""The decision context as one vector: a mid-episode view and epoch telemetry round-trip exactly."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from edgeplace.envs.lm_inference.simulator import LmInferenceSim
from edgeplace.envs.lm_inference.state_codec import decode_state, encode_state, state_size
from edgeplace.envs.lm_inference.telemetry import epoch_telemetry
from edgeplace.workloads.lm_inference import draw_prompts
from tests.envs.lm_inference.conftest import CPU, GPU, PARAMS, VM2, VM3, VM7, config, decide, step


def test_a_view_and_its_telemetry_round_trip_exactly(cluster):
    prompts = draw_prompts(np.random.default_rng(0), 12, 6, 4)
    sim = LmInferenceSim(cluster, prompts, PARAMS)
    configs = {VM2: config(LM1=(CPU, 11, 0), LM2=(CPU, 11, 0)), VM3: config(LM4=(GPU, 2, 2))}
    step(sim, {**configs, VM7: config(LM3=(GPU, 2, 2), LM4=(GPU, 2, 2))})
    for _ in range(10):
        step(sim)
    decide(sim)  # mid-slot: requests in transit, pods serving
    view, telemetry = sim.view(), epoch_telemetry(sim, 0, 10)
    assert view.backlog_prompts.any() and view.oldest_age_s.any() and view.inbound_prompts.any()
    vector = encode_state(view, telemetry)
    assert vector.shape == (state_size(6),)
    decoded, decoded_telemetry = decode_state(vector, 6)
    for field in dataclasses.fields(view):
        a, b = getattr(view, field.name), getattr(decoded, field.name)
        assert np.asarray(a).dtype == np.asarray(b).dtype and np.array_equal(a, b), field.name
    for field in dataclasses.fields(telemetry):
        assert np.array_equal(getattr(telemetry, field.name), getattr(decoded_telemetry, field.name))
    assert decode_state(encode_state(view), 6)[1] is None


def test_a_vector_of_another_size_is_refused(cluster):
    with pytest.raises(ValueError, match=r"state: expected \(300,\) for 6 nodes"):
        decode_state(np.zeros(10), 6)
