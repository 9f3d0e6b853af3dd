"""Summary statistics of per-episode evaluation results.

Evaluation yields one row per (policy, seed, episode): a ``pandas.DataFrame`` with the columns
``POLICY`` (str), ``SEED`` (int), ``EPISODE`` (int) and one numeric column per KPI (e.g.
``sla_satisfaction``, ``utility``, ``latency_s``). This module reduces such a frame to per-policy
means, sample standard deviations and percentile-bootstrap confidence intervals, and compares
policies with Welch's t-test. Only numpy, scipy and pandas are used.
"""

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

# Columns of the per-episode frame.
POLICY = "policy"  # policy name (str); the default grouping column
SEED = "seed"  # evaluation seed (int)
EPISODE = "episode"  # episode index within a seed (int)

# Columns added by `summarize`: EPISODES, then `stat_column(metric, s)` for s in SUMMARY_STATS.
EPISODES = "episodes"  # number of per-episode rows of the policy
MEAN = "mean"  # sample mean
STD = "std"  # sample standard deviation (ddof=1)
CI_LOW = "ci_low"  # lower bound of the bootstrap confidence interval of the mean
CI_HIGH = "ci_high"  # upper bound of the bootstrap confidence interval of the mean
SUMMARY_STATS = (MEAN, STD, CI_LOW, CI_HIGH)

# Columns of the frame returned by `compare` (after the grouping column).
REFERENCE = "reference"  # name of the reference policy
MEAN_DIFF = "mean_diff"  # mean(policy) - mean(reference), in the metric's unit
STATISTIC = "statistic"  # Welch t statistic
P_VALUE = "p_value"  # two-sided p-value

# Bound on resample indices held at once by `bootstrap_ci` (int64: 32 MiB, plus as much for values).
_MAX_CHUNK_ELEMENTS = 1 << 22


@dataclass(frozen=True)
class WelchResult:
    """Outcome of a two-sided Welch t-test of ``a`` against ``b``."""

    statistic: float
    """t statistic; positive when ``a`` has the larger mean."""
    p_value: float
    """Two-sided p-value."""
    mean_diff: float
    """``mean(a) - mean(b)``, in the unit of the samples."""


def stat_column(metric: str, stat: str) -> str:
    """Name of the `summarize` column holding statistic ``stat`` (one of SUMMARY_STATS) of ``metric``."""
    return f"{metric}_{stat}"


def _as_finite_1d(values: np.ndarray | Sequence[float], name: str) -> np.ndarray:
    """``values`` as a float64 array of shape (n,); raises ValueError if not 1-D or not all finite."""
    array = np.asarray(values, dtype=np.float64)
    if array.ndim != 1:
        raise ValueError(f"{name} must be 1-D, got shape {array.shape}")
    if not np.isfinite(array).all():
        raise ValueError(f"{name} contains NaN or infinite entries")
    return array


def _resample_means(values: np.ndarray, resamples: int, rng: np.random.Generator) -> np.ndarray:
    """Means of ``resamples`` bootstrap resamples of ``values``.

    Shapes: values (n,) -> (resamples,). Indices are drawn as (rows, n) blocks of at most
    ``_MAX_CHUNK_ELEMENTS`` entries to bound memory.
    """
    n = values.size
    rows_per_chunk = max(1, _MAX_CHUNK_ELEMENTS // n)
    means = np.empty(resamples, dtype=np.float64)
    for start in range(0, resamples, rows_per_chunk):
        stop = min(start + rows_per_chunk, resamples)
        indices = rng.integers(0, n, size=(stop - start, n))  # (rows, n)
        means[start:stop] = values[indices].mean(axis=1)
    return means


def bootstrap_ci(
    values: np.ndarray | Sequence[float],
    *,
    confidence: float = 0.95,
    resamples: int = 10_000,
    seed: int = 0,
) -> tuple[float, float]:
    """Percentile-bootstrap confidence interval of the mean of ``values``.

    Draws ``resamples`` samples of size n with replacement and returns the ``(1 - confidence) / 2``
    and ``(1 + confidence) / 2`` quantiles of their means. The result depends only on the inputs and
    ``seed``. A single value gives the degenerate interval ``(x, x)``.

    Shapes: values (n,) with n >= 1, all finite.
    Returns: ``(low, high)`` in the unit of ``values``.
    Raises: ValueError if ``values`` is empty, not 1-D or not finite, or if ``confidence`` is not
    in (0, 1) or ``resamples`` < 1.
    """
    array = _as_finite_1d(values, "bootstrap_ci: values")
    if array.size == 0:
        raise ValueError("bootstrap_ci: values is empty; the mean of no samples has no interval")
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"bootstrap_ci: confidence must be in (0, 1), got {confidence}")
    if resamples < 1:
        raise ValueError(f"bootstrap_ci: resamples must be >= 1, got {resamples}")
    if array.size == 1:
        return float(array[0]), float(array[0])
    means = _resample_means(array, resamples, np.random.default_rng(seed))
    alpha = 1.0 - confidence
    low, high = np.quantile(means, [alpha / 2.0, 1.0 - alpha / 2.0])
    return float(low), float(high)


def welch_t_test(a: np.ndarray | Sequence[float], b: np.ndarray | Sequence[float]) -> WelchResult:
    """Two-sided Welch t-test (unequal variances) of sample ``a`` against sample ``b``.

    Same test as ``scipy.stats.ttest_ind(a, b, equal_var=False)``, computed from the sample means
    and standard deviations (``ttest_ind_from_stats``, which does not warn when one sample is
    constant), except in the cases the test leaves undefined:

    - either sample has fewer than two values: ``statistic`` and ``p_value`` are NaN (no variance
      estimate); ``mean_diff`` is NaN too if a sample is empty;
    - both samples are constant (zero variance): equal constants give ``statistic=0.0,
      p_value=1.0, mean_diff=0.0`` exactly (no rounding noise from the means), different constants
      give ``statistic=±inf, p_value=0.0`` (perfectly separated samples).

    Shapes: a (n_a,), b (n_b,), all finite.
    Raises: ValueError if a sample is not 1-D or not finite.
    """
    a = _as_finite_1d(a, "welch_t_test: a")
    b = _as_finite_1d(b, "welch_t_test: b")
    mean_diff = float(a.mean() - b.mean()) if a.size and b.size else float("nan")
    if a.size < 2 or b.size < 2:
        return WelchResult(statistic=float("nan"), p_value=float("nan"), mean_diff=mean_diff)
    if np.ptp(a) == 0.0 and np.ptp(b) == 0.0:
        if a[0] == b[0]:
            return WelchResult(statistic=0.0, p_value=1.0, mean_diff=0.0)
        diff = float(a[0] - b[0])
        return WelchResult(statistic=float(np.copysign(np.inf, diff)), p_value=0.0, mean_diff=diff)
    result = stats.ttest_ind_from_stats(
        a.mean(), a.std(ddof=1), a.size, b.mean(), b.std(ddof=1), b.size, equal_var=False
    )
    return WelchResult(statistic=float(result.statistic), p_value=float(result.pvalue), mean_diff=mean_diff)


def _require_columns(df: pd.DataFrame, columns: Sequence[str]) -> None:
    """Raise KeyError naming the first of ``columns`` missing from ``df`` and the available ones."""
    for column in columns:
        if column not in df.columns:
            raise KeyError(f"column {column!r} not in the frame; available columns: {list(df.columns)}")


def _metric_values(group: pd.DataFrame, metric: str, policy: object) -> np.ndarray:
    """Non-NaN values of ``metric`` in ``group``, shape (n,); raises ValueError on infinities."""
    values = group[metric].dropna().to_numpy(dtype=np.float64)
    if not np.isfinite(values).all():
        raise ValueError(f"metric {metric!r} of policy {policy!r} contains infinite values")
    return values


def _metric_stats(values: np.ndarray, *, confidence: float, resamples: int, seed: int) -> tuple[float, ...]:
    """(mean, std, ci_low, ci_high) of ``values`` (n,), in SUMMARY_STATS order; all NaN if n = 0."""
    if values.size == 0:
        return (float("nan"),) * len(SUMMARY_STATS)
    std = float(values.std(ddof=1)) if values.size > 1 else float("nan")
    low, high = bootstrap_ci(values, confidence=confidence, resamples=resamples, seed=seed)
    return float(values.mean()), std, low, high


def summarize(
    df: pd.DataFrame,
    metrics: Sequence[str],
    *,
    by: str = POLICY,
    confidence: float = 0.95,
    resamples: int = 10_000,
    seed: int = 0,
) -> pd.DataFrame:
    """Per-policy mean, sample std and bootstrap confidence interval of each metric.

    One row per value of ``by``, in order of first appearance. Columns: ``by``, ``EPISODES`` (rows of
    that policy), then for each metric ``stat_column(metric, s)`` for s in SUMMARY_STATS, i.e.
    ``<metric>_mean``, ``<metric>_std`` (sample std, ddof=1; NaN for a single value),
    ``<metric>_ci_low`` and ``<metric>_ci_high`` (see `bootstrap_ci`, one ``seed`` for all cells).
    NaN metric values (a KPI undefined in some episode) are skipped per metric; a metric with no
    values for a policy gets NaN statistics.

    Raises: KeyError naming a missing column; ValueError if ``df`` has no rows or a metric holds
    infinite values.
    """
    _require_columns(df, [by, *metrics])
    if df.empty:
        raise ValueError("summarize: the frame has no rows")
    rows = []
    for policy, group in df.groupby(by, sort=False):
        row: dict[str, object] = {by: policy, EPISODES: len(group)}
        for metric in metrics:
            values = _metric_values(group, metric, policy)
            metric_stats = _metric_stats(values, confidence=confidence, resamples=resamples, seed=seed)
            row.update({stat_column(metric, s): v for s, v in zip(SUMMARY_STATS, metric_stats, strict=True)})
        rows.append(row)
    return pd.DataFrame(rows)


def compare(df: pd.DataFrame, metric: str, *, reference: str, by: str = POLICY) -> pd.DataFrame:
    """Welch t-test of each policy against ``reference`` on the per-episode values of ``metric``.

    One row per policy other than ``reference``, in order of first appearance, with columns ``by``,
    ``REFERENCE``, ``MEAN_DIFF`` (policy mean minus reference mean), ``STATISTIC`` and ``P_VALUE``
    (see `welch_t_test`). NaN metric values are skipped.

    Raises: KeyError naming a missing column or an unknown ``reference`` policy; ValueError if the
    metric holds infinite values.
    """
    _require_columns(df, [by, metric])
    groups = dict(tuple(df.groupby(by, sort=False)))
    if reference not in groups:
        raise KeyError(f"reference policy {reference!r} not in column {by!r}; available: {list(groups)}")
    reference_values = _metric_values(groups[reference], metric, reference)
    rows = []
    for policy, group in groups.items():
        if policy == reference:
            continue
        result = welch_t_test(_metric_values(group, metric, policy), reference_values)
        rows.append(
            {
                by: policy,
                REFERENCE: reference,
                MEAN_DIFF: result.mean_diff,
                STATISTIC: result.statistic,
                P_VALUE: result.p_value,
            }
        )
    return pd.DataFrame(rows, columns=[by, REFERENCE, MEAN_DIFF, STATISTIC, P_VALUE])
