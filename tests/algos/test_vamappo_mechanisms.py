"""VAMAPPO's mechanisms on hand-computed cases (spec e4-e8)."""

import math

import numpy as np
import pytest
import torch

from edgeplace.algos.vamappo.mechanisms import (
    ClipSchedule,
    RunningStandardizer,
    adaptive_clip,
    coordinated_advantage,
    enhancement_weights,
    gate,
    linear_schedule,
    neighbour_cosines,
    normalize_per_group,
    predictive_uncertainty,
    structural_weight,
    top_k_sparsify,
)
from edgeplace.algos.vamappo.settings import VAMAPPOSettings


def test_coordinated_advantage_mixes_only_rows_with_a_successor():
    local = np.array([1.0, 2.0, 3.0])
    influence = np.array([4.0, -2.0, np.nan])
    weight = np.array([0.5, 1.0, np.nan])  # the last row has no successor
    out = coordinated_advantage(local, influence, weight, caf_lambda=0.3)
    np.testing.assert_allclose(out, [0.7 * 1 + 0.3 * 0.5 * 4, 0.7 * 2 + 0.3 * 1.0 * -2, 3.0])


def test_structural_weight_is_tanh_of_transfer_time():
    # 2.5 MB over 50 MB/s is 0.05 s = tau: tanh(1)
    np.testing.assert_allclose(structural_weight(np.array([2.5, 0.0]), 50.0, 0.05), [math.tanh(1.0), 0.0])


def test_normalize_per_group_standardises_each_agent_separately():
    values = np.array([1.0, 3.0, 10.0, 10.0, 20.0])
    out = normalize_per_group(values, np.array([0, 0, 1, 1, 1]))
    np.testing.assert_allclose(out[:2], [-1.0, 1.0])
    assert abs(out[2:].mean()) < 1e-12 and out[2:].std() == pytest.approx(1.0)


def test_enhancement_weights_grow_with_advantage_and_saturate():
    w = enhancement_weights(np.array([0.0, 1.0, -1.0, 10.0]), gamma=0.99, temperature=2.0, w_max=3.0)
    np.testing.assert_allclose(w, [1.0, math.exp(0.495), math.exp(0.495), 3.0])


def test_predictive_uncertainty_is_mean_plus_half_variance_plus_floor():
    samples = np.array([[1.0, 0.0], [3.0, 0.0]])  # T=2 passes, K=2 samples
    np.testing.assert_allclose(predictive_uncertainty(samples, floor=0.05), [2.0 + 0.5 + 0.05, 0.05])


def test_linear_schedule_clamps_progress():
    assert linear_schedule(0.08, 0.02, 0.5) == pytest.approx(0.05)
    assert linear_schedule(0.08, 0.02, 2.0) == pytest.approx(0.02)
    assert linear_schedule(0.08, 0.02, -1.0) == pytest.approx(0.08)


def test_running_standardizer_adopts_first_batch_then_moves_slowly_and_clips():
    z = RunningStandardizer(decay=0.9, clip=3.0)
    z.update(np.array([1.0, 3.0]))
    assert (z.mean, z.var) == (2.0, 1.0)
    np.testing.assert_allclose(z(np.array([2.0, 3.0, 100.0])), [0.0, 1.0, 3.0])
    z.update(np.array([12.0, 12.0]))
    assert z.mean == pytest.approx(0.9 * 2.0 + 0.1 * 12.0)
    assert z.var == pytest.approx(0.9 * 1.0 + 0.1 * 0.0)


def test_gate_nominal_value_and_bounds():
    nominal = gate(torch.tensor([2.0]), torch.tensor(0.0), beta_consistency=0.5)
    assert nominal.item() == pytest.approx(1.0 / (1.0 + math.exp(-2.0)))  # ~0.88, spec's nominal alpha
    extreme = gate(torch.tensor([-50.0, 50.0]), torch.tensor(1.0), beta_consistency=0.5)
    assert extreme.tolist() == pytest.approx([0.1, 1.0])
    agreeing = gate(torch.tensor([0.0]), torch.tensor(1.0), beta_consistency=0.5)
    assert agreeing.item() == pytest.approx(1.0 / (1.0 + math.exp(-0.5)))


def test_adaptive_clip_range():
    assert adaptive_clip([1.0, 1.0, 1.0], 0.1, 0.3, 2.0) == pytest.approx(0.3)  # steady: eps_max
    steps = [1.0, 3.0]  # mean 2, var 1: squared CV 0.25
    assert adaptive_clip(steps, 0.1, 0.3, 2.0) == pytest.approx(0.1 + 0.2 * math.exp(-0.5))
    erratic = adaptive_clip([0.0, 0.0, 0.0, 100.0], 0.1, 0.3, 2.0)
    assert 0.1 <= erratic < 0.12  # squared CV 3: eps near eps_min


def test_clip_schedule_holds_initial_clip_for_the_first_three_iterations():
    schedule = ClipSchedule(window=10, initial=0.2)
    assert [schedule.record(v) for v in (1.0, 3.0)] == [0.2, 0.2]
    third = schedule.record(2.0)  # mean 2, var 2/3: squared CV 1/6
    assert third == pytest.approx(0.1 + 0.2 * math.exp(-2.0 / 6.0))
    for _ in range(20):
        schedule.record(5.0)
    assert len(schedule.steps) == 10 and schedule.current == pytest.approx(0.3)


def test_top_k_keeps_the_largest_magnitudes():
    grad = torch.tensor([0.1, -5.0, 0.3, 4.0, -0.2, 0.0, 1.0, 0.05, -0.4, 2.0])
    np.testing.assert_allclose(top_k_sparsify(grad, 0.2).numpy(), [0, -5.0, 0, 4.0, 0, 0, 0, 0, 0, 0])
    assert torch.equal(top_k_sparsify(grad, 1.0), grad)
    assert torch.count_nonzero(top_k_sparsify(grad, 0.01)) == 1  # at least one entry survives


def test_neighbour_cosines_pair_each_agent_with_the_next_and_the_last_with_the_previous():
    grads = torch.tensor([[1.0, 0.0], [0.0, 1.0], [0.0, 2.0]])
    np.testing.assert_allclose(neighbour_cosines(grads).numpy(), [0.0, 1.0, 1.0], atol=1e-6)
    assert neighbour_cosines(torch.ones(1, 3)).tolist() == [0.0]


def test_settings_reject_unknown_keys_and_bad_values():
    with pytest.raises(ValueError, match="unknown keys \\['caf'\\]"):
        VAMAPPOSettings.from_dict({"caf": True})
    with pytest.raises(ValueError, match="top_k_ratio"):
        VAMAPPOSettings(top_k_ratio=0.0)
    with pytest.raises(ValueError, match="mc_passes"):
        VAMAPPOSettings(mc_passes=1)


def test_top_k_sparsifies_each_agent_row_separately():
    grads = torch.tensor([[3.0, -1.0, 0.5, 2.0], [0.1, 0.2, -0.3, 0.0]])
    np.testing.assert_allclose(top_k_sparsify(grads, 0.5).numpy(), [[3.0, 0, 0, 2.0], [0, 0.2, -0.3, 0]])
