"""Tests of bootstrap intervals, t-tests and per-policy summaries over the design's units."""

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from edgeplace.evaluation import statistics
from edgeplace.evaluation.design import REQUEST_SET, TRAINING_SEED
from edgeplace.evaluation.statistics import (
    CLUSTER_UNIT,
    CLUSTERS,
    EPISODES,
    POLICY,
    REPLICATES,
    bootstrap_ci,
    hierarchical_bootstrap,
    paired_t_test,
    stat_column,
    summarize,
    welch_t_test,
)


def _naive_bootstrap_ci(
    values: np.ndarray, confidence: float, resamples: int, seed: int
) -> tuple[float, float]:
    """Reference implementation: one resample per loop iteration (the clusters' generator is the first
    child of the seed's)."""
    rng = np.random.default_rng(seed).spawn(2)[0]
    means = [values[rng.integers(0, values.size, size=values.size)].mean() for _ in range(resamples)]
    alpha = 100.0 * (1.0 - confidence)
    low, high = np.percentile(means, [alpha / 2.0, 100.0 - alpha / 2.0])
    return float(low), float(high)


def test_bootstrap_ci_contains_mean_and_narrows_with_more_samples():
    rng = np.random.default_rng(1)
    small, large = rng.normal(5.0, 2.0, size=20), rng.normal(5.0, 2.0, size=2000)
    widths = []
    for values in (small, large):
        low, high = bootstrap_ci(values, resamples=2000)
        assert low < values.mean() < high
        widths.append(high - low)
    assert widths[1] < widths[0] / 5  # width ~ 1/sqrt(n): 10x more data -> ~10x narrower


def test_bootstrap_ci_is_deterministic_per_seed():
    values = np.random.default_rng(2).exponential(size=50)
    assert bootstrap_ci(values, seed=3) == bootstrap_ci(values, seed=3)
    assert bootstrap_ci(values, seed=3) != bootstrap_ci(values, seed=4)


@pytest.mark.parametrize("n", [7, 8])
def test_bootstrap_ci_matches_naive_loop(n):
    values = np.random.default_rng(5).normal(size=n)
    expected = _naive_bootstrap_ci(values, confidence=0.9, resamples=500, seed=11)
    np.testing.assert_allclose(bootstrap_ci(values, confidence=0.9, resamples=500, seed=11), expected)


def test_bootstrap_ci_chunking_bounds_memory_without_changing_the_statistic(monkeypatch):
    values = np.random.default_rng(6).normal(size=16)
    monkeypatch.setattr(statistics, "_MAX_CHUNK_ELEMENTS", 16 * 3)  # 3 resamples per chunk
    chunked = bootstrap_ci(values, resamples=4000, seed=0)
    np.testing.assert_allclose(chunked, _naive_bootstrap_ci(values, 0.95, 4000, 0))


def test_bootstrap_ci_edge_cases():
    assert bootstrap_ci(np.array([0.25])) == (0.25, 0.25)
    with pytest.raises(ValueError, match="empty"):
        bootstrap_ci(np.array([]))
    with pytest.raises(ValueError, match="NaN"):
        bootstrap_ci(np.array([1.0, np.nan]))
    with pytest.raises(ValueError, match="confidence"):
        bootstrap_ci(np.array([1.0, 2.0]), confidence=1.0)


def test_welch_t_test_matches_scipy():
    rng = np.random.default_rng(7)
    a, b = rng.normal(0.0, 1.0, size=30), rng.normal(0.3, 2.0, size=45)
    expected = stats.ttest_ind(a, b, equal_var=False)
    result = welch_t_test(a, b)
    assert result.statistic == pytest.approx(expected.statistic)
    assert result.p_value == pytest.approx(expected.pvalue)
    assert result.mean_diff == pytest.approx(a.mean() - b.mean())


def test_welch_t_test_detects_clear_difference():
    rng = np.random.default_rng(8)
    result = welch_t_test(rng.normal(1.0, 0.1, size=20), rng.normal(0.0, 0.1, size=20))
    assert result.p_value < 0.05
    assert result.statistic > 0


def test_welch_t_test_constant_samples():
    same = welch_t_test(np.full(5, 0.1), np.full(7, 0.1))
    assert (same.statistic, same.p_value, same.mean_diff) == (0.0, 1.0, 0.0)
    apart = welch_t_test(np.full(5, 1.0), np.full(5, 2.0))
    assert (apart.statistic, apart.p_value, apart.mean_diff) == (-np.inf, 0.0, -1.0)
    single = welch_t_test(np.array([1.0]), np.array([1.0, 2.0]))
    assert np.isnan(single.p_value) and single.mean_diff == -0.5


@pytest.fixture
def episodes() -> pd.DataFrame:
    """Two policies, b first: b utility [1, 2, 3, 6], a utility [4, 4]; sla with one NaN."""
    return pd.DataFrame(
        {
            POLICY: ["b", "a", "b", "a", "b", "b"],
            "seed": [0, 0, 0, 0, 1, 1],
            "episode": [0, 0, 1, 1, 0, 1],
            "utility": [1.0, 4.0, 2.0, 4.0, 3.0, 6.0],
            "sla_satisfaction": [1.0, 0.5, np.nan, 0.5, 0.0, 0.5],
        }
    )


def test_summarize_columns_and_values(episodes):
    summary = summarize(episodes, ["utility", "sla_satisfaction"], resamples=200)
    metric_columns = [
        stat_column(m, s) for m in ("utility", "sla_satisfaction") for s in statistics.SUMMARY_STATS
    ]
    assert list(summary.columns) == [POLICY, EPISODES, CLUSTERS, CLUSTER_UNIT, REPLICATES, *metric_columns]
    assert "utility_mean" in summary.columns and "sla_satisfaction_ci_high" in summary.columns
    assert list(summary[POLICY]) == ["b", "a"]  # order of first appearance
    b, a = summary.iloc[0], summary.iloc[1]
    assert b[EPISODES] == 4 and a[EPISODES] == 2
    assert b["utility_mean"] == pytest.approx(3.0)
    assert b["utility_std"] == pytest.approx(np.sqrt((4 + 1 + 0 + 9) / 3))  # ddof=1
    assert (a["utility_mean"], a["utility_std"]) == (4.0, 0.0)
    assert (a["utility_ci_low"], a["utility_ci_high"]) == (4.0, 4.0)
    assert b["sla_satisfaction_mean"] == pytest.approx(0.5)  # NaN skipped: mean of 1, 0, 0.5
    assert b["utility_ci_low"] <= 3.0 <= b["utility_ci_high"]


def test_summarize_missing_column_names_it(episodes):
    with pytest.raises(KeyError, match="latency_s") as info:
        summarize(episodes, ["utility", "latency_s"])
    assert "utility" in str(info.value)  # lists the available columns


def test_summarize_counts_the_independent_units(episodes):
    summary = summarize(episodes, ["utility"], resamples=200).set_index(POLICY)
    assert summary.loc["b", CLUSTERS] == 4 and summary.loc["b", CLUSTER_UNIT] == "episodes"
    assert (summary[REPLICATES] == 1).all()


def _replayed_sets(noise_seeds: int, sets: int, rng: np.random.Generator) -> pd.DataFrame:
    """One policy on ``sets`` request sets under ``noise_seeds`` noise seeds: a set's own level plus noise."""
    level = rng.normal(0.0, 1.0, size=sets)
    seed, episode = np.meshgrid(np.arange(noise_seeds), np.arange(sets), indexing="ij")
    return pd.DataFrame(
        {
            POLICY: "p",
            "seed": seed.ravel(),
            "episode": episode.ravel(),
            REQUEST_SET: episode.ravel(),
            "utility": level[episode.ravel()] + rng.normal(0.0, 0.1, size=seed.size),
        }
    )


def test_summarize_resamples_request_sets_not_their_replays():
    frame = _replayed_sets(noise_seeds=8, sets=25, rng=np.random.default_rng(3))
    row = summarize(frame, ["utility"], resamples=500, seed=4).iloc[0]
    per_set = frame.groupby(REQUEST_SET)["utility"].mean().to_numpy()
    assert (row[CLUSTERS], row[CLUSTER_UNIT], row[EPISODES]) == (25, "request sets", 200)
    assert (row["utility_ci_low"], row["utility_ci_high"]) == pytest.approx(
        bootstrap_ci(per_set, resamples=500, seed=4)
    )
    naive = bootstrap_ci(frame["utility"].to_numpy(), resamples=500, seed=4)
    assert naive[1] - naive[0] < 0.5 * (row["utility_ci_high"] - row["utility_ci_low"])


def test_summarize_over_training_seeds_averages_each_seed_once():
    rng = np.random.default_rng(5)
    frames = [
        _replayed_sets(2, 5, rng).assign(**{TRAINING_SEED: s, "utility": lambda f, s=s: f["utility"] + s})
        for s in range(3)
    ]
    frame = pd.concat(frames[:2] + [frames[2].iloc[:6]], ignore_index=True)  # seed 2 played 3 sets of 5
    row = summarize(frame, ["utility"], resamples=200).iloc[0]
    assert row[REPLICATES] == 3
    streams = frames[2].iloc[:6][["seed", "episode"]].apply(tuple, axis=1)  # every seed's shared streams
    shared = frame[frame[["seed", "episode"]].apply(tuple, axis=1).isin(set(streams))]
    per_seed = shared.groupby([TRAINING_SEED, REQUEST_SET])["utility"].mean().groupby(level=0).mean()
    assert row["utility_mean"] == pytest.approx(per_seed.mean())


def test_summarize_refuses_a_repeated_stream(episodes):
    with pytest.raises(ValueError, match="policy 'a'.*more than one row"):
        summarize(pd.concat([episodes, episodes[episodes[POLICY] == "a"].iloc[:1]]), ["utility"])


def test_hierarchical_bootstrap_is_chunk_invariant_and_paired(monkeypatch):
    rng = np.random.default_rng(9)
    policy, reference = rng.normal(size=(3, 12)), rng.normal(size=(1, 12))
    sides = [(policy, 1.0), (reference, -1.0)]
    whole = hierarchical_bootstrap(sides, resamples=900, seed=2)
    monkeypatch.setattr(statistics, "_MAX_CHUNK_ELEMENTS", 12 * 7)  # 7 resamples per chunk
    assert hierarchical_bootstrap(sides, resamples=900, seed=2) == pytest.approx(whole)
    shifted = [(reference + 0.5, 1.0), (reference, -1.0)]  # the same clusters drawn for both sides
    assert hierarchical_bootstrap(shifted, resamples=300) == pytest.approx((0.5, 0.5))


def test_hierarchical_bootstrap_widens_with_training_seed_spread():
    rng = np.random.default_rng(10)
    clusters = rng.normal(size=20)
    close = clusters[None, :] + rng.normal(0.0, 0.01, size=(4, 1))
    spread = clusters[None, :] + rng.normal(0.0, 2.0, size=(4, 1))
    width = [np.diff(hierarchical_bootstrap([(m, 1.0)], resamples=2000))[0] for m in (close, spread)]
    assert width[1] > 3 * width[0]
    with pytest.raises(ValueError, match="one C"):
        hierarchical_bootstrap([(close, 1.0), (close[:, :5], -1.0)])


def test_paired_t_test_matches_scipy_and_edge_cases():
    rng = np.random.default_rng(11)
    a, b = rng.normal(size=15), rng.normal(size=15)
    expected = stats.ttest_rel(a, b)
    result = paired_t_test(a - b)
    assert (result.statistic, result.p_value) == pytest.approx((expected.statistic, expected.pvalue))
    assert (paired_t_test(np.zeros(4)).statistic, paired_t_test(np.zeros(4)).p_value) == (0.0, 1.0)
    assert paired_t_test(np.full(3, -1.0)).p_value == 0.0
    assert np.isnan(paired_t_test(np.array([1.0])).p_value)
