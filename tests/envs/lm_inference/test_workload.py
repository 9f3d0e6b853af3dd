"""The prompt workload (spec c, "Workload"): K = 0 with probability 0.7, else U{1..8}, per (slot,
origin, LM); the regime variant redraws p_request per epoch; everything seeded."""

from __future__ import annotations

import numpy as np
import pytest

from edgeplace.workloads.lm_inference import MAX_PROMPTS, REGIME_LEVELS, draw_prompts, regime_rates


def test_steady_workload_has_the_spec_distribution():
    prompts = draw_prompts(np.random.default_rng(0), 2000, 6, 4)  # 48,000 pairs
    assert prompts.shape == (2000, 6, 4) and prompts.dtype == np.int64
    # Binomial standard errors: 0.002 for the request rate, 0.005 for each K share; allow 4 of them.
    assert (prompts > 0).mean() == pytest.approx(0.3, abs=0.01)
    shares = np.bincount(prompts[prompts > 0], minlength=MAX_PROMPTS + 1)[1:] / (prompts > 0).sum()
    np.testing.assert_allclose(shares, 1 / MAX_PROMPTS, atol=0.02)
    assert prompts.max() == MAX_PROMPTS


def test_workload_is_a_function_of_the_seed():
    first = draw_prompts(np.random.default_rng(4), 50, 6, 4)
    np.testing.assert_array_equal(first, draw_prompts(np.random.default_rng(4), 50, 6, 4))
    assert not np.array_equal(first, draw_prompts(np.random.default_rng(5), 50, 6, 4))


def test_regime_rates_start_at_default_and_mostly_persist():
    rates = regime_rates(np.random.default_rng(1), 400, 4)
    assert (rates[0] == 0.3).all()
    assert set(np.unique(rates)) <= set(REGIME_LEVELS)
    # A rate changes only when redrawn (p 0.2) to another level (p 2/3): 0.133 per epoch and LM.
    changed = (rates[1:] != rates[:-1]).mean()
    assert changed == pytest.approx(0.2 * 2 / 3, abs=0.03)


def test_regime_workload_follows_its_epoch_rates():
    rng = np.random.default_rng(2)
    prompts = draw_prompts(rng, 50 * 40, 6, 4, workload="regime")
    rates = regime_rates(np.random.default_rng(2), 40, 4)
    requested = (prompts > 0).reshape(40, 50 * 6, 4).mean(axis=1)  # (E, I) observed rate per epoch
    low, high = rates == 0.15, rates == 0.45
    assert requested[low].mean() < 0.2 < 0.4 < requested[high].mean()


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [({"slots": 0}, "slots"), ({"origins": -1}, "origins"), ({"workload": "bursty"}, "workload")],
)
def test_bad_arguments_name_the_field(kwargs, field):
    arguments = {"slots": 10, "origins": 6, "lms": 4} | kwargs
    with pytest.raises(ValueError, match=field):
        draw_prompts(np.random.default_rng(0), **arguments)
