"""Paired comparisons of policies that played the same streams, tested over the real independent units.

Every policy plays identical streams (common random numbers), so a comparison pairs the rows of two
policies by stream and never pools them as if they were independent samples. Which test applies
follows the design (:mod:`edgeplace.evaluation.design`):

- neither side has several training seeds: a **paired t-test over clusters** — per cluster (request
  set, or stream where the frame names none) the mean difference over its paired streams; n = clusters;
- a side has several training seeds (a claim about an algorithm): a t-test **over training seeds** of
  the per-seed means over the shared streams — Welch's when both sides have several, a one-sample test
  of the differences to the other side when one has a single replicate (a baseline); n = training seeds
  of each side.

The confidence interval of the difference is the paired :func:`hierarchical_bootstrap`: clusters are
drawn once per resample for both sides, each side's training seeds on their own.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import astuple, dataclass

import numpy as np
import pandas as pd

from edgeplace.evaluation.design import UnitTable, stream_matrix, unit_table
from edgeplace.evaluation.statistics import (
    CI_HIGH,
    CI_LOW,
    POLICY,
    WelchResult,
    hierarchical_bootstrap,
    paired_t_test,
    require_columns,
    welch_t_test,
)

# Columns of the frame returned by `compare` (after the grouping column).
REFERENCE = "reference"  # name of the reference policy
MEAN_DIFF = "mean_diff"  # mean(policy) - mean(reference), in the metric's unit
STATISTIC = "statistic"  # t statistic
P_VALUE = "p_value"  # two-sided p-value
TEST = "test"  # which test: "paired t over request sets", "Welch t over training seeds", ...
N = "n"  # units the test is over (per side where the sides differ), e.g. "25 request sets"
PAIRS = "paired_streams"  # (seed, episode) streams both policies played
COMPARISON_COLUMNS = (REFERENCE, MEAN_DIFF, CI_LOW, CI_HIGH, STATISTIC, P_VALUE, TEST, N, PAIRS)

TRAINING_SEEDS = "training seeds"


@dataclass(frozen=True)
class PairedComparison:
    """A policy against a reference on the streams both played."""

    mean_diff: float
    """mean(policy) - mean(reference), in the metric's unit."""
    ci_low: float
    ci_high: float
    statistic: float
    p_value: float
    test: str
    """The test, e.g. "paired t over request sets"."""
    n: str
    """The units the test is over, e.g. "25 request sets" or "3 vs 1 training seeds"."""
    streams: int
    """(seed, episode) streams both played."""

    @property
    def p_and_n(self) -> str:
        """``p = 0.0031, n = 25 request sets``: what a report puts beside a difference."""
        p = "n/a" if not np.isfinite(self.p_value) else f"{self.p_value:.3g}"
        return f"p = {p}, n = {self.n}"


def _seed_level_test(policy: UnitTable, reference: UnitTable) -> tuple[WelchResult, str, str]:
    """The test over training seeds of the per-seed means; its name and n."""
    a, b = policy.replicate_means, reference.replicate_means
    counts = f"{a.size} vs {b.size} {TRAINING_SEEDS}" if a.size != b.size else f"{a.size} {TRAINING_SEEDS}"
    if a.size > 1 and b.size > 1:
        return welch_t_test(a, b), f"Welch t over {TRAINING_SEEDS}", counts
    return paired_t_test(a - b if a.size > 1 else a[0] - b), f"one-sample t over {TRAINING_SEEDS}", counts


def paired_comparison(
    policy_rows: pd.DataFrame,
    reference_rows: pd.DataFrame,
    metric: str,
    *,
    names: tuple[object, object] = ("policy", "reference"),
    confidence: float = 0.95,
    resamples: int = 10_000,
    seed: int = 0,
) -> PairedComparison:
    """``metric`` of one policy's rows against a reference's, paired by stream (see the module docstring).

    Only streams both played with a finite value count; each side's training seeds must all have played
    them.

    Raises: ValueError naming both policies when they share no stream (they were evaluated on different
    seeds or episodes), or naming one for repeated rows or infinite values.
    """
    shared = stream_matrix(policy_rows, metric, names[0]).columns.intersection(
        stream_matrix(reference_rows, metric, names[1]).columns, sort=True
    )
    if shared.empty:
        raise ValueError(
            f"{names[0]!r} and {names[1]!r} share no (seed, episode) stream with a finite {metric!r}: a "
            "paired comparison needs both evaluated on the same seeds and episodes"
        )
    policy = unit_table(policy_rows, metric, names[0], shared)
    reference = unit_table(reference_rows, metric, names[1], shared)
    if not np.array_equal(policy.clusters, reference.clusters):
        raise ValueError(f"{names[0]!r} and {names[1]!r} tag the same streams with different request sets")
    if policy.replicates.size == 1 and reference.replicates.size == 1:
        result = paired_t_test(policy.means[0] - reference.means[0])
        test, n = f"paired t over {policy.cluster_unit}", f"{policy.clusters.size} {policy.cluster_unit}"
    else:
        result, test, n = _seed_level_test(policy, reference)
    low, high = hierarchical_bootstrap(
        [(policy.means, 1.0), (reference.means, -1.0)], confidence=confidence, resamples=resamples, seed=seed
    )
    mean_diff = float(policy.replicate_means.mean() - reference.replicate_means.mean())
    return PairedComparison(mean_diff, low, high, result.statistic, result.p_value, test, n, shared.size)


def compare(
    df: pd.DataFrame,
    metric: str,
    *,
    reference: str,
    by: str = POLICY,
    policies: Sequence[object] | None = None,
    confidence: float = 0.95,
    resamples: int = 10_000,
    seed: int = 0,
) -> pd.DataFrame:
    """Each policy (default: every one but ``reference``, in order of first appearance) against
    ``reference`` on ``metric``, by :func:`paired_comparison`.

    Returns one row per policy with the columns ``by`` and :data:`COMPARISON_COLUMNS`.
    Raises: KeyError naming a missing column or an unknown policy; ValueError as `paired_comparison`.
    """
    require_columns(df, [by, metric])
    groups = dict(tuple(df.groupby(by, sort=False)))
    chosen = [p for p in groups if p != reference] if policies is None else list(policies)
    for name in (reference, *chosen):
        if name not in groups:
            raise KeyError(f"policy {name!r} not in column {by!r}; available: {list(groups)}")
    rows = []
    for policy in chosen:
        result = paired_comparison(
            groups[policy],
            groups[reference],
            metric,
            names=(policy, reference),
            confidence=confidence,
            resamples=resamples,
            seed=seed,
        )
        values = dict(zip(COMPARISON_COLUMNS[1:], astuple(result), strict=True))  # same order
        rows.append({by: policy, REFERENCE: reference, **values})
    return pd.DataFrame(rows, columns=[by, *COMPARISON_COLUMNS])
