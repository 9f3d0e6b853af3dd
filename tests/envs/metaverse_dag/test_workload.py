"""The metaverse-dag workload: DAG templates, arrivals and request sampling (papers/llm-mappo.md,
section b, "Service DAGs" and "Arrivals")."""

from __future__ import annotations

import numpy as np
import pytest

from edgeplace.workloads.metaverse_dag import (
    BURST_FACTOR,
    CLASSES,
    PARENT_WINDOW,
    ArrivalProcess,
    BurstProcess,
    cross_region_shares,
    diurnal,
    failed_servers,
    lognormal_payload_mb,
    max_edges,
    sample_requests,
    sample_templates,
)


def test_templates_are_seeded_and_follow_the_structure_rules():
    first = sample_templates(np.random.default_rng(0), None, 20)
    again = sample_templates(np.random.default_rng(0), None, 20)
    np.testing.assert_array_equal(first.parents, again.parents)
    np.testing.assert_array_equal(first.cpu, again.cpu)
    for c, spec in enumerate(CLASSES):
        n = first.num_ms[c]
        assert spec.ms_range[0] <= n <= spec.ms_range[1]
        parents = first.parents[c]
        for j in range(1, n):
            window = np.zeros(20, bool)
            window[max(0, j - PARENT_WINDOW) : j] = True
            assert parents[j].any() and not (parents[j] & ~window).any()
        assert not parents[0].any() and not parents[n:].any()
        np.testing.assert_allclose(first.work_share[c, :n].sum(), 1.0)
        f = first.payload_fraction[c][parents.T]
        assert ((f >= 0.01) & (f <= 0.05)).all() and (first.payload_fraction[c][~parents.T] == 0).all()
        assert spec.deadline_s[0] <= first.deadline_s[c] <= spec.deadline_s[1]
        assert first.sinks[c, n - 1]
        assert parents.sum() <= max_edges(n)


def test_fixed_counts_and_their_bounds():
    tpl = sample_templates(np.random.default_rng(1), (4, 6, 6), 6)
    assert tpl.num_ms.tolist() == [4, 6, 6]
    with pytest.raises(ValueError, match="ms_counts"):
        sample_templates(np.random.default_rng(1), (4, 7, 6), 6)


def test_diurnal_curve_goes_through_the_spec_points():
    np.testing.assert_allclose(
        diurnal(np.array([0, 4, 7, 9, 12, 14, 18, 21, 24])),
        [0.15, 0.08, 0.45, 0.8, 0.9, 0.85, 1.0, 0.9, 0.15],
    )
    assert diurnal(8.0) == pytest.approx(0.625) and diurnal(42.0) == pytest.approx(1.0)


def test_lognormal_payload_matches_its_moments():
    payload = lognormal_payload_mb(np.random.default_rng(0), 400_000)
    assert payload.mean() == pytest.approx(1.5, rel=0.02) and payload.std() == pytest.approx(1.3, rel=0.05)


def test_cross_region_shares_send_a_quarter_to_the_two_nearest():
    ec = np.array([[0.0, 0.0], [1.0, 0.0], [2.0, 0.0], [10.0, 0.0]])
    shares = cross_region_shares(ec)
    np.testing.assert_allclose(shares.sum(axis=1), 1.0)
    np.testing.assert_allclose(shares[0], [0.75, 0.125, 0.125, 0.0])
    np.testing.assert_allclose(cross_region_shares(ec[:1]), [[1.0]])


def test_load_sweep_rescales_to_the_mean_rate_and_drops_the_time_variation():
    rng = np.random.default_rng(0)
    base = np.array([100.0, 50.0, 10.0, 40.0])
    region = np.array([0, 0, 1, 1])
    process = ArrivalProcess(
        rng, base, rng.normal(size=(4, 2)), region, start_hour=3.0, disc_km=1.0, load=120.0
    )
    rates = process.rates(0.0)
    assert rates.mean() == pytest.approx(120.0)
    process.advance(rng, 600.0)
    np.testing.assert_array_equal(process.rates(600.0), rates)


def test_arrivals_are_seeded_and_bursts_multiply_the_region():
    def rates(seed: int) -> list[np.ndarray]:
        rng = np.random.default_rng(seed)
        process = ArrivalProcess(
            rng,
            np.full(6, 100.0),
            rng.normal(size=(6, 2)),
            np.repeat([0, 1], 3),
            start_hour=18.0,
            disc_km=1.0,
            load=None,
        )
        out = []
        for t in range(30):
            out.append(process.rates(10.0 * t))
            process.advance(rng, 10.0)
        return out

    np.testing.assert_array_equal(np.array(rates(0)), np.array(rates(0)))
    bursts = BurstProcess(np.random.default_rng(0), 3)
    bursts.on[:] = [True, False, True]
    np.testing.assert_array_equal(bursts.factor(), [BURST_FACTOR, 1.0, BURST_FACTOR])


def test_request_sampling_and_failures():
    served = np.array([[10.0, 0.0], [30.0, 0.0], [0.0, 5.0]])
    sample = sample_requests(np.random.default_rng(0), served, 4000)
    assert (sample.region == np.repeat([0, 1], 4000)).all()
    assert set(sample.origin[sample.region == 1]) == {2}
    assert np.mean(sample.origin[sample.region == 0] == 1) == pytest.approx(0.75, abs=0.03)
    assert np.bincount(sample.cls) / sample.cls.size == pytest.approx([0.40, 0.35, 0.25], abs=0.02)
    assert failed_servers(np.random.default_rng(0), 40, 0.25).sum() == 10
