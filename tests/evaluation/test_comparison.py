"""Tests of paired comparisons: pairing by stream, clusters of replayed request sets, training seeds."""

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from edgeplace.evaluation.comparison import (
    MEAN_DIFF,
    P_VALUE,
    PAIRS,
    TEST,
    N,
    compare,
    paired_comparison,
)
from edgeplace.evaluation.design import REQUEST_SET, TRAINING_SEED
from edgeplace.evaluation.statistics import CI_HIGH, CI_LOW, POLICY, welch_t_test


def _streams(seeds: int, episodes: int) -> pd.DataFrame:
    seed, episode = np.meshgrid(np.arange(seeds), np.arange(episodes), indexing="ij")
    return pd.DataFrame({"seed": seed.ravel(), "episode": episode.ravel()})


def _two_policies(shared_noise: float, gap: float, rng: np.random.Generator, seeds=4, episodes=25):
    """Policies a and b on the same streams: a stream's noise is shared, b is ``gap`` above a."""
    streams = _streams(seeds, episodes)
    noise = rng.normal(0.0, shared_noise, size=len(streams))
    a = streams.assign(**{POLICY: "a", "u": noise + rng.normal(0.0, 0.1, size=len(streams))})
    b = streams.assign(**{POLICY: "b", "u": noise + gap + rng.normal(0.0, 0.1, size=len(streams))})
    return pd.concat([a, b], ignore_index=True)


def test_pairs_rows_by_stream_like_a_paired_t_test():
    frame = _two_policies(shared_noise=1.0, gap=0.2, rng=np.random.default_rng(0))
    shuffled = frame.sample(frac=1.0, random_state=1)  # pairing is by (seed, episode), not row order
    row = compare(shuffled, "u", reference="a").iloc[0]
    a, b = (frame[frame[POLICY] == p].sort_values(["seed", "episode"])["u"].to_numpy() for p in "ab")
    expected = stats.ttest_rel(b, a)
    assert row[P_VALUE] == pytest.approx(expected.pvalue)
    assert row[MEAN_DIFF] == pytest.approx((b - a).mean())
    assert (row[TEST], row[N], row[PAIRS]) == ("paired t over episodes", "100 episodes", 100)
    assert row[CI_LOW] < row[MEAN_DIFF] < row[CI_HIGH]


def test_pairing_finds_a_gap_that_pooled_rows_hide():
    frame = _two_policies(shared_noise=2.0, gap=0.1, rng=np.random.default_rng(2))
    paired = compare(frame, "u", reference="a").iloc[0]
    pooled = welch_t_test(frame.loc[frame[POLICY] == "b", "u"], frame.loc[frame[POLICY] == "a", "u"])
    assert paired[P_VALUE] < 1e-6 < 0.05 < pooled.p_value


def test_replayed_request_sets_are_the_units():
    frame = _two_policies(shared_noise=0.5, gap=0.1, rng=np.random.default_rng(3), seeds=2, episodes=50)
    frame[REQUEST_SET] = frame["episode"] % 25  # episodes e and e + 25 replay one set
    row = compare(frame, "u", reference="a").iloc[0]
    per_set = frame.pivot_table(index=REQUEST_SET, columns=POLICY, values="u")
    expected = stats.ttest_1samp(per_set["b"] - per_set["a"], 0.0)
    assert (row[TEST], row[N], row[PAIRS]) == ("paired t over request sets", "25 request sets", 100)
    assert row["statistic"] == pytest.approx(expected.statistic)
    assert row[P_VALUE] == pytest.approx(expected.pvalue)


def _learned(name: str, training_seeds, level: float, rng: np.random.Generator) -> pd.DataFrame:
    """A policy trained with ``training_seeds`` (per-seed offset ~ N(0, 1)) on 10 shared streams."""
    streams = _streams(10, 1)
    shared = np.random.default_rng(99).normal(size=len(streams))  # the streams' own difficulty
    return pd.concat(
        [
            streams.assign(
                **{
                    POLICY: name,
                    TRAINING_SEED: seed,
                    "u": level + rng.normal() + shared + rng.normal(0, 0.1, 10),
                }
            )
            for seed in training_seeds
        ],
        ignore_index=True,
    )


def test_training_seeds_are_the_units_of_an_algorithm_claim():
    rng = np.random.default_rng(4)
    frame = pd.concat(
        [
            _learned("x", (0, 1, 2), 1.0, rng),
            _learned("y", (0, 1, 2), 0.0, rng),
            _learned("base", (-1,), 0.0, rng),
        ]
    )
    x_vs_y, x_vs_base = (compare(frame, "u", reference=r, policies=["x"]).iloc[0] for r in ("y", "base"))
    means = frame.groupby([POLICY, TRAINING_SEED])["u"].mean()
    expected = welch_t_test(means["x"].to_numpy(), means["y"].to_numpy())
    assert (x_vs_y[TEST], x_vs_y[N]) == ("Welch t over training seeds", "3 training seeds")
    assert x_vs_y[P_VALUE] == pytest.approx(expected.p_value)
    one_sample = stats.ttest_1samp(means["x"].to_numpy() - means["base"].iloc[0], 0.0)
    assert (x_vs_base[TEST], x_vs_base[N]) == ("one-sample t over training seeds", "3 vs 1 training seeds")
    assert x_vs_base[P_VALUE] == pytest.approx(one_sample.pvalue)
    # 30 pooled rows would claim far more certainty than 3 training seeds carry
    pooled = welch_t_test(frame.loc[frame[POLICY] == "x", "u"], frame.loc[frame[POLICY] == "y", "u"])
    assert pooled.p_value < x_vs_y[P_VALUE]


def test_only_shared_finite_streams_are_paired():
    frame = _two_policies(shared_noise=1.0, gap=0.5, rng=np.random.default_rng(5))
    frame = frame[~((frame[POLICY] == "a") & (frame["seed"] == 3))]  # a skipped seed 3
    frame.loc[(frame[POLICY] == "b") & (frame["episode"] == 0), "u"] = np.nan  # b undefined on episode 0
    result = paired_comparison(frame[frame[POLICY] == "b"], frame[frame[POLICY] == "a"], "u")
    assert result.streams == 3 * 24
    assert "n = 72 episodes" in result.p_and_n


def test_refuses_policies_that_share_no_stream():
    frame = _two_policies(shared_noise=1.0, gap=0.5, rng=np.random.default_rng(6))
    frame.loc[frame[POLICY] == "b", "seed"] += 100
    with pytest.raises(ValueError, match="'b' and 'a' share no"):
        compare(frame, "u", reference="a")
    with pytest.raises(KeyError, match="'c'"):
        compare(frame, "u", reference="c")


def test_refuses_one_stream_tagged_with_two_request_sets():
    frame = _two_policies(shared_noise=1.0, gap=0.5, rng=np.random.default_rng(7))
    frame[REQUEST_SET] = np.where(frame[POLICY] == "a", frame["episode"], frame["episode"] + 1)
    with pytest.raises(ValueError, match="different request sets"):
        compare(frame, "u", reference="a")
