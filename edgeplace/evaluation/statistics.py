"""Summary statistics of per-episode evaluation results, over the design's independent units.

Evaluation yields one row per (policy, seed, episode): a ``pandas.DataFrame`` with the columns
``POLICY`` (str), ``SEED`` (int), ``EPISODE`` (int), optionally ``REQUEST_SET`` and ``TRAINING_SEED``
(see :mod:`edgeplace.evaluation.design`), and one numeric column per KPI (e.g. ``sla_satisfaction``,
``utility``, ``latency_s``). This module reduces such a frame to per-policy means, sample standard
deviations over episodes and confidence intervals from a bootstrap that resamples the independent units
(training seeds, then request sets or episodes), not the episodes of a request set as if they were
independent. Paired comparisons of policies are in :mod:`edgeplace.evaluation.comparison`. Only numpy,
scipy and pandas are used.
"""

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from edgeplace.evaluation.design import EPISODE as EPISODE  # re-exported: the frame's columns
from edgeplace.evaluation.design import REQUEST_SET, STREAM, training_seeds, unit_table
from edgeplace.evaluation.design import SEED as SEED

# Columns of the per-episode frame besides `design`'s SEED, EPISODE, REQUEST_SET and TRAINING_SEED.
POLICY = "policy"  # policy name (str); the default grouping column

# Columns added by `summarize`: EPISODES, CLUSTERS, CLUSTER_UNIT, REPLICATES, then
# `stat_column(metric, s)` for s in SUMMARY_STATS.
EPISODES = "episodes"  # number of per-episode rows of the policy
CLUSTERS = "clusters"  # independent clusters of streams: distinct request sets, or streams
CLUSTER_UNIT = "cluster_unit"  # what a cluster is, plural: "request sets" or "episodes"
REPLICATES = "training_seeds"  # independently trained copies (1 for a baseline)
MEAN = "mean"  # mean over training seeds of the mean over clusters
STD = "std"  # sample standard deviation over episodes (ddof=1)
CI_LOW = "ci_low"  # lower bound of the bootstrap confidence interval of the mean
CI_HIGH = "ci_high"  # upper bound of the bootstrap confidence interval of the mean
SUMMARY_STATS = (MEAN, STD, CI_LOW, CI_HIGH)

# Bound on resample indices held at once by the bootstrap (int64: 32 MiB, plus as much for weights).
_MAX_CHUNK_ELEMENTS = 1 << 22


@dataclass(frozen=True)
class WelchResult:
    """Outcome of a two-sided t-test of ``a`` against ``b`` (Welch's, or one-sample on differences)."""

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


def _resample_weights(n: int, rows: int, rng: np.random.Generator) -> np.ndarray:
    """How often each of ``n`` units is drawn in ``rows`` resamples of size n with replacement, over n.

    Shapes: -> (rows, n) float64, each row summing to 1.
    """
    draws = rng.integers(0, n, size=(rows, n)) + n * np.arange(rows)[:, None]
    return np.bincount(draws.ravel(), minlength=rows * n).reshape(rows, n) / n


def hierarchical_bootstrap(
    sides: Sequence[tuple[np.ndarray, float]],
    *,
    confidence: float = 0.95,
    resamples: int = 10_000,
    seed: int = 0,
) -> tuple[float, float]:
    """Percentile-bootstrap confidence interval of ``sum(sign * mean(means))`` over ``sides``.

    Each side is ``(means, sign)`` with ``means`` of shape (R, C): replicate r's mean in cluster c (see
    `design.unit_table`). A resample draws the C clusters with replacement once, shared by every side
    (paired: the sides saw the same clusters), and each side's R replicates with replacement on its own
    (independently trained); its estimate is ``sum(sign * mean over drawn replicates of the mean over
    drawn clusters)``. One side with R = 1 is the ordinary bootstrap of a mean over C units. The result
    depends only on the inputs and ``seed`` (not on how the resamples are chunked); a single cluster and
    replicate per side gives the degenerate interval.

    Returns: ``(low, high)``, the ``(1 - confidence) / 2`` and ``(1 + confidence) / 2`` quantiles.
    Raises: ValueError if the sides disagree on C, a side is empty or not finite, ``confidence`` is not in
    (0, 1) or ``resamples`` < 1.
    """
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"bootstrap: confidence must be in (0, 1), got {confidence}")
    if resamples < 1:
        raise ValueError(f"bootstrap: resamples must be >= 1, got {resamples}")
    tables = [np.asarray(means, dtype=np.float64) for means, _ in sides]
    clusters = {table.shape[1] for table in tables}
    if len(clusters) != 1 or 0 in clusters or any(t.ndim != 2 or t.shape[0] == 0 for t in tables):
        raise ValueError(
            f"bootstrap: sides must be non-empty (R, C) tables of one C, got {[t.shape for t in tables]}"
        )
    if not all(np.isfinite(t).all() for t in tables):
        raise ValueError("bootstrap: means contain NaN or infinite entries")
    (n_clusters,) = clusters
    if n_clusters == 1 and all(t.shape[0] == 1 for t in tables):
        value = float(sum(sign * t[0, 0] for t, (_, sign) in zip(tables, sides, strict=True)))
        return value, value
    cluster_rng, *side_rngs = np.random.default_rng(seed).spawn(1 + len(tables))
    rows = max(1, _MAX_CHUNK_ELEMENTS // max(n_clusters, *(t.shape[0] for t in tables)))
    estimates = np.zeros(resamples)
    for start in range(0, resamples, rows):
        stop = min(start + rows, resamples)
        cluster_weights = _resample_weights(n_clusters, stop - start, cluster_rng)  # (b, C)
        for table, (_, sign), rng in zip(tables, sides, side_rngs, strict=True):
            per_replicate = table @ cluster_weights.T  # (R, b)
            replicate_weights = _resample_weights(table.shape[0], stop - start, rng)  # (b, R)
            estimates[start:stop] += sign * np.einsum("br,rb->b", replicate_weights, per_replicate)
    alpha = 1.0 - confidence
    low, high = np.quantile(estimates, [alpha / 2.0, 1.0 - alpha / 2.0])
    return float(low), float(high)


def bootstrap_ci(
    values: np.ndarray | Sequence[float],
    *,
    confidence: float = 0.95,
    resamples: int = 10_000,
    seed: int = 0,
) -> tuple[float, float]:
    """Percentile-bootstrap confidence interval of the mean of independent ``values``.

    Shapes: values (n,) with n >= 1, all finite. Returns ``(low, high)`` in the unit of ``values``; a
    single value gives ``(x, x)``. See `hierarchical_bootstrap`.
    Raises: ValueError if ``values`` is empty, not 1-D or not finite, or the bootstrap settings are invalid.
    """
    array = _as_finite_1d(values, "bootstrap_ci: values")
    if array.size == 0:
        raise ValueError("bootstrap_ci: values is empty; the mean of no samples has no interval")
    return hierarchical_bootstrap(
        [(array[None, :], 1.0)], confidence=confidence, resamples=resamples, seed=seed
    )


def _degenerate(diff: float) -> WelchResult:
    """The test of samples without spread: equal means give t = 0, p = 1; different ones t = ±inf, p = 0."""
    if diff == 0.0:
        return WelchResult(statistic=0.0, p_value=1.0, mean_diff=0.0)
    return WelchResult(statistic=float(np.copysign(np.inf, diff)), p_value=0.0, mean_diff=diff)


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
        return _degenerate(float(a[0] - b[0]))
    result = stats.ttest_ind_from_stats(
        a.mean(), a.std(ddof=1), a.size, b.mean(), b.std(ddof=1), b.size, equal_var=False
    )
    return WelchResult(statistic=float(result.statistic), p_value=float(result.pvalue), mean_diff=mean_diff)


def paired_t_test(differences: np.ndarray | Sequence[float]) -> WelchResult:
    """Two-sided one-sample t-test of mean(``differences``) = 0: the paired t-test when each entry is the
    difference of a pair (``scipy.stats.ttest_1samp``).

    Fewer than two differences give NaN ``statistic`` and ``p_value``; constant differences give
    ``t = 0, p = 1`` when zero and ``t = ±inf, p = 0`` otherwise.
    Shapes: differences (n,), all finite. Raises: ValueError if not 1-D or not finite.
    """
    d = _as_finite_1d(differences, "paired_t_test: differences")
    mean_diff = float(d.mean()) if d.size else float("nan")
    if d.size < 2:
        return WelchResult(statistic=float("nan"), p_value=float("nan"), mean_diff=mean_diff)
    if np.ptp(d) == 0.0:
        return _degenerate(float(d[0]))
    result = stats.ttest_1samp(d, 0.0)
    return WelchResult(statistic=float(result.statistic), p_value=float(result.pvalue), mean_diff=mean_diff)


def require_columns(df: pd.DataFrame, columns: Sequence[str]) -> None:
    """Raise KeyError naming the first of ``columns`` missing from ``df`` and the available ones."""
    for column in columns:
        if column not in df.columns:
            raise KeyError(f"column {column!r} not in the frame; available columns: {list(df.columns)}")


def _metric_stats(
    group: pd.DataFrame, metric: str, policy: object, *, confidence: float, resamples: int, seed: int
) -> tuple[float, ...]:
    """(mean, std, ci_low, ci_high) of ``metric`` in one policy's rows, in SUMMARY_STATS order; all NaN
    where no stream has a value."""
    table = unit_table(group, metric, policy)
    if table.streams == 0:
        return (float("nan"),) * len(SUMMARY_STATS)
    values = group[metric].dropna().to_numpy(dtype=np.float64)
    std = float(values.std(ddof=1)) if values.size > 1 else float("nan")
    low, high = hierarchical_bootstrap(
        [(table.means, 1.0)], confidence=confidence, resamples=resamples, seed=seed
    )
    return float(table.replicate_means.mean()), std, low, high


def _units(group: pd.DataFrame) -> dict[str, object]:
    """The CLUSTERS, CLUSTER_UNIT and REPLICATES cells of one policy's rows."""
    if REQUEST_SET in group:
        clusters, unit = group[REQUEST_SET].nunique(), "request sets"
    else:
        clusters, unit = len(group.drop_duplicates(list(STREAM))), "episodes"
    replicates = np.unique(training_seeds(group)).size
    return {CLUSTERS: int(clusters), CLUSTER_UNIT: unit, REPLICATES: int(replicates)}


def summarize(
    df: pd.DataFrame,
    metrics: Sequence[str],
    *,
    by: str = POLICY,
    confidence: float = 0.95,
    resamples: int = 10_000,
    seed: int = 0,
) -> pd.DataFrame:
    """Per-policy mean, sample std and bootstrap confidence interval of each metric, over the design's
    independent units.

    One row per value of ``by``, in order of first appearance. Columns: ``by``, ``EPISODES`` (rows of
    that policy), ``CLUSTERS`` (distinct request sets, or streams where the frame has no
    ``REQUEST_SET``), ``CLUSTER_UNIT`` (``"request sets"`` or ``"episodes"``), ``REPLICATES``
    (training seeds; 1 without ``TRAINING_SEED``), then for each metric ``stat_column(metric, s)`` for
    s in SUMMARY_STATS: ``<metric>_mean`` (mean over training seeds of the mean over clusters of the
    mean over their streams: the plain mean of the rows when every cluster has as many streams),
    ``<metric>_std`` (sample std over rows, ddof=1; NaN for a single value), ``<metric>_ci_low`` and
    ``<metric>_ci_high`` (`hierarchical_bootstrap` over training seeds and clusters, one ``seed`` for
    all cells). NaN metric values (a KPI undefined in some episode) drop that stream for the metric; a
    metric with no values for a policy gets NaN statistics.

    Raises: KeyError naming a missing column; ValueError if ``df`` has no rows, a metric holds infinite
    values or a (training seed, stream) repeats.
    """
    require_columns(df, [by, *STREAM, *metrics])
    if df.empty:
        raise ValueError("summarize: the frame has no rows")
    rows = []
    for policy, group in df.groupby(by, sort=False):
        row: dict[str, object] = {by: policy, EPISODES: len(group), **_units(group)}
        for metric in metrics:
            metric_stats = _metric_stats(
                group, metric, policy, confidence=confidence, resamples=resamples, seed=seed
            )
            row.update({stat_column(metric, s): v for s, v in zip(SUMMARY_STATS, metric_stats, strict=True)})
        rows.append(row)
    return pd.DataFrame(rows)
