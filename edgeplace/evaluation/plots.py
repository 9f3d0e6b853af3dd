"""PNG plots of evaluation summaries and training curves.

Figures are built with ``matplotlib.figure.Figure`` directly (no pyplot, no backend switch) and
written atomically: rendered to memory, written to a temporary file in the target directory, then
moved into place with ``os.replace``, so readers never see a half-written file.
"""

import io
import math
from collections.abc import Mapping, Sequence
from pathlib import Path

import matplotlib
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from edgeplace.atomic_io import write_bytes_atomic
from edgeplace.evaluation.statistics import CI_HIGH, CI_LOW, MEAN, POLICY, stat_column

DPI = 150
"""Resolution of every PNG written here (dots per inch)."""

DEFAULT_FORMAT = "{:.3f}"
"""Format of metric values (``str.format`` pattern) when none is given for a metric."""

_STYLE = {"font.size": 11, "axes.titlesize": 13, "axes.labelsize": 11, "xtick.labelsize": 10}
_BAR_COLOR = "#4C72B0"
_SUBPLOT_COLUMNS = 3  # at most this many subplots per row in `metrics_bar_plot`


def save_figure(fig: Figure, path: Path) -> Path:
    """Render ``fig`` as PNG at DPI and write it atomically to ``path``; returns ``path``."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=DPI)
    write_bytes_atomic(path, buffer.getvalue())
    return path


def format_value(value: float, value_format: str) -> str:
    """``value`` rendered with ``value_format`` (e.g. ``"{:.1%}"``), or ``"n/a"`` for NaN."""
    return "n/a" if math.isnan(value) else value_format.format(value)


def _annotate_values(ax: Axes, x: np.ndarray, means: np.ndarray, ends: np.ndarray, labels: list[str]) -> None:
    """Write ``labels`` past each error bar end ``ends``: above for means >= 0, below otherwise.

    Shapes: x, means, ends (P,); len(labels) == P.
    """
    for xi, mean, end, label in zip(x, means, ends, labels, strict=True):
        above = mean >= 0
        ax.annotate(
            label,
            (xi, end),
            xytext=(0, 3 if above else -3),
            textcoords="offset points",
            ha="center",
            va="bottom" if above else "top",
            fontsize=9,
        )


def _set_policy_ticks(ax: Axes, x: np.ndarray, names: list[str]) -> None:
    """Label bar positions ``x`` with policy ``names``, slanted when there are more than three."""
    slanted = len(names) > 3
    ax.set_xticks(x, names, rotation=30 if slanted else 0, ha="right" if slanted else "center")


def _draw_bars(ax: Axes, summary: pd.DataFrame, metric: str, label: str, value_format: str, by: str) -> None:
    """Bars of ``<metric>_mean`` per row of ``summary`` with asymmetric CI error bars and value labels."""
    means = summary[stat_column(metric, MEAN)].to_numpy(dtype=np.float64)  # (P,)
    lows = summary[stat_column(metric, CI_LOW)].to_numpy(dtype=np.float64)  # (P,)
    highs = summary[stat_column(metric, CI_HIGH)].to_numpy(dtype=np.float64)  # (P,)
    x = np.arange(len(summary))
    errors = np.nan_to_num(np.clip([means - lows, highs - means], 0.0, None))  # (2, P): below, above
    ax.bar(x, np.nan_to_num(means), yerr=errors, capsize=4, color=_BAR_COLOR, ecolor="black")
    ends = np.nan_to_num(np.where(means < 0, means - errors[0], means + errors[1]))  # (P,) error bar ends
    value_labels = [format_value(m, value_format) for m in means]
    _annotate_values(ax, x, np.nan_to_num(means), ends, value_labels)
    _set_policy_ticks(ax, x, [str(p) for p in summary[by]])
    ax.set_title(label)
    ax.axhline(0.0, color="black", linewidth=0.8)
    ax.margins(y=0.15)


def bar_plot(
    summary: pd.DataFrame,
    metric: str,
    path: Path,
    *,
    label: str | None = None,
    value_format: str = DEFAULT_FORMAT,
    by: str = POLICY,
) -> Path:
    """Bar chart of one metric from a `summarize` frame: mean per policy with its CI as error bars.

    ``label`` (default: ``metric``) titles the plot and its y axis; ``value_format`` renders the value
    written above each bar. Returns ``path``, a 150 dpi PNG.
    """
    with matplotlib.rc_context(_STYLE):
        fig = Figure(figsize=(max(4.0, 1.1 * len(summary) + 2.0), 4.0), layout="tight")
        _draw_bars(fig.add_subplot(), summary, metric, label or metric, value_format, by)
        return save_figure(fig, path)


def metrics_bar_plot(
    summary: pd.DataFrame,
    metrics: Sequence[str],
    path: Path,
    *,
    labels: Mapping[str, str] | None = None,
    formats: Mapping[str, str] | None = None,
    by: str = POLICY,
) -> Path:
    """One figure with a `bar_plot`-style subplot per metric, up to three per row. Returns ``path``.

    Raises: ValueError if ``metrics`` is empty.
    """
    if not metrics:
        raise ValueError("metrics_bar_plot: metrics is empty")
    labels, formats = labels or {}, formats or {}
    ncols = min(len(metrics), _SUBPLOT_COLUMNS)
    nrows = math.ceil(len(metrics) / ncols)
    width = max(4.0, 1.1 * len(summary) + 2.0)
    with matplotlib.rc_context(_STYLE):
        fig = Figure(figsize=(width * ncols, 4.0 * nrows), layout="tight")
        for i, metric in enumerate(metrics):
            ax = fig.add_subplot(nrows, ncols, i + 1)
            value_format = formats.get(metric, DEFAULT_FORMAT)
            _draw_bars(ax, summary, metric, labels.get(metric, metric), value_format, by)
        return save_figure(fig, path)


def _plottable_columns(metrics: pd.DataFrame, ys: Sequence[str]) -> list[str]:
    """Those of ``ys`` that are columns of ``metrics`` with at least one non-NaN value."""
    return [y for y in ys if y in metrics.columns and metrics[y].notna().any()]


def learning_curve_plot(
    metrics: pd.DataFrame,
    path: Path,
    *,
    x: str = "timesteps",
    ys: Sequence[str],
    title: str,
) -> Path | None:
    """Training curves: one subplot per column of ``ys`` against column ``x``, sharing the x axis.

    ``metrics`` holds one row per training iteration (e.g. read from the training metrics CSV).
    Columns of ``ys`` that are absent or all NaN are skipped; NaN rows of a column are dropped so
    metrics logged every k iterations still draw as lines. Returns ``path`` (a 150 dpi PNG), or
    None without writing anything when no column of ``ys`` has data.

    Raises: KeyError if column ``x`` is missing.
    """
    if x not in metrics.columns:
        raise KeyError(f"x column {x!r} not in the metrics; available columns: {list(metrics.columns)}")
    columns = _plottable_columns(metrics, ys)
    if not columns:
        return None
    with matplotlib.rc_context(_STYLE):
        fig = Figure(figsize=(7.0, 2.6 * len(columns) + 0.6), layout="tight")
        axes = fig.subplots(len(columns), 1, sharex=True, squeeze=False)[:, 0]  # (len(columns),)
        for ax, column in zip(axes, columns, strict=True):
            points = metrics[[x, column]].dropna()
            ax.plot(points[x], points[column], marker="o" if len(points) < 30 else None, markersize=3)
            ax.set_ylabel(column)
            ax.grid(alpha=0.3)
        axes[-1].set_xlabel(x)
        fig.suptitle(title)
        return save_figure(fig, path)


def sweep_plot(
    frame: pd.DataFrame, x: str, metric: str, path: Path, *, title: str, log_x: bool = False
) -> Path:
    """One line per policy of ``metric`` against the swept column ``x``: the mean over the rows of each
    (policy, x) with a band of one sample std (no band where a point has one row); ``log_x`` draws x on
    a log scale (a sweep of factors).

    ``frame`` holds columns POLICY, ``x`` and ``metric`` (e.g. one row per policy, seed and swept
    value). Returns ``path`` (a 150 dpi PNG).

    Raises: KeyError naming a missing column.
    """
    missing = [column for column in (POLICY, x, metric) if column not in frame.columns]
    if missing:
        raise KeyError(f"sweep_plot: columns {missing} not in the frame; available: {list(frame.columns)}")
    grouped = frame.groupby([POLICY, x], sort=False)[metric]
    stats = pd.DataFrame({"mean": grouped.mean(), "std": grouped.std(ddof=1).fillna(0.0)}).reset_index()
    with matplotlib.rc_context(_STYLE):
        fig = Figure(figsize=(7.0, 4.2), layout="tight")
        ax = fig.subplots()
        for policy, points in stats.groupby(POLICY, sort=False):
            points = points.sort_values(x)
            ax.plot(points[x], points["mean"], marker="o", markersize=4, label=str(policy))
            ax.fill_between(
                points[x], points["mean"] - points["std"], points["mean"] + points["std"], alpha=0.15
            )
        if log_x:
            ax.set_xscale("log")
        ax.set_xlabel(x)
        ax.set_ylabel(metric)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8, ncols=2)
        ax.set_title(title)
        return save_figure(fig, path)
