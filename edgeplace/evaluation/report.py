"""Evaluation reports: a JSON record, a Markdown page and PNG bar plots in one directory.

`write_evaluation_report` turns the per-episode frame (one row per policy, seed and episode; see
`edgeplace.evaluation.statistics`) into:

- ``results.json``: title, metadata, bootstrap settings, per-policy summary, per-episode records
  and, given a reference policy, paired comparisons with it (`comparison.compare`: the test, n of
  its units, the bootstrap CI of the difference); NaN and infinities are written as null;
- ``results.md``: title, metadata list, the summary table (`markdown_table`), the bar plots as
  images and the comparison table;
- ``bar_<metric>.png`` per metric and ``metrics_bar.png`` with all metrics (see `plots`).

Every file is written atomically (temporary file in the same directory, then ``os.replace``).
"""

import json
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from edgeplace.atomic_io import write_bytes_atomic
from edgeplace.evaluation.comparison import MEAN_DIFF, P_VALUE, TEST, N, compare
from edgeplace.evaluation.plots import (
    DEFAULT_FORMAT,
    bar_plot,
    format_value,
    metrics_bar_plot,
)
from edgeplace.evaluation.statistics import (
    CI_HIGH,
    CI_LOW,
    CLUSTER_UNIT,
    CLUSTERS,
    EPISODES,
    POLICY,
    REPLICATES,
    SUMMARY_STATS,
    stat_column,
    summarize,
)

RESULTS_JSON = "results.json"
RESULTS_MD = "results.md"
METRICS_BAR_PNG = "metrics_bar.png"


@dataclass(frozen=True)
class EvaluationReport:
    """Files written by `write_evaluation_report` and the summary they show."""

    results_json: Path
    """``results.json``: metadata, summary, per-episode records, comparisons."""
    table_md: Path
    """``results.md``: the human-readable report."""
    plots: list[Path]
    """PNG files: ``bar_<metric>.png`` in metric order, then ``metrics_bar.png``."""
    summary: pd.DataFrame
    """The `summarize` frame: one row per policy."""


def _escape_cell(text: object) -> str:
    """``text`` as a Markdown table cell: ``|`` escaped, newlines turned into spaces."""
    return str(text).replace("|", r"\|").replace("\n", " ")


def table_markdown(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """Markdown table from escaped cells: header line, separator line, one line per row."""
    lines = [header, ["---"] * len(header), *rows]
    return "\n".join("| " + " | ".join(cells) + " |" for cells in lines)


def _summary_cell(row: pd.Series, metric: str, value_format: str) -> str:
    """``mean ± std [ci_low, ci_high]`` of ``metric`` in a `summarize` row."""
    mean, std, low, high = (format_value(row[stat_column(metric, s)], value_format) for s in SUMMARY_STATS)
    return f"{mean} ± {std} [{low}, {high}]"


def markdown_table(
    summary: pd.DataFrame,
    metrics: Sequence[str],
    *,
    labels: Mapping[str, str] | None = None,
    formats: Mapping[str, str] | None = None,
    by: str = POLICY,
) -> str:
    """Markdown table of a `summarize` frame: one row per policy, one column per metric, then episodes.

    Each metric cell reads ``mean ± std [ci_low, ci_high]``, e.g. ``0.942 ± 0.031 [0.936, 0.948]``.
    ``labels`` maps metrics to column headers (default: the metric name); ``formats`` maps metrics
    to ``str.format`` patterns (default ``DEFAULT_FORMAT``; e.g. ``"{:.1%}"`` for rates). NaN
    renders as ``n/a``. ``|`` in labels and policy names is escaped.

    Raises: KeyError naming a summary column that is missing.
    """
    labels, formats = labels or {}, formats or {}
    required = [by, EPISODES, CLUSTERS, CLUSTER_UNIT, REPLICATES]
    required += [stat_column(m, s) for m in metrics for s in SUMMARY_STATS]
    missing = [c for c in required if c not in summary.columns]
    if missing:
        raise KeyError(f"summary columns {missing} missing; available columns: {list(summary.columns)}")
    header = [_escape_cell(by), *(_escape_cell(labels.get(m, m)) for m in metrics), EPISODES, "units"]
    rows = [
        [
            _escape_cell(row[by]),
            *(_summary_cell(row, m, formats.get(m, DEFAULT_FORMAT)) for m in metrics),
            str(int(row[EPISODES])),
            units_cell(row),
        ]
        for _, row in summary.iterrows()
    ]
    return table_markdown(header, rows)


def units_cell(row: pd.Series) -> str:
    """The independent units of a `summarize` row: ``25 request sets``, ``3 training seeds x 5 episodes``."""
    clusters = f"{int(row[CLUSTERS])} {row[CLUSTER_UNIT]}"
    replicates = int(row[REPLICATES])
    return clusters if replicates == 1 else f"{replicates} training seeds x {clusters}"


def _comparison_table(
    comparisons: Mapping[str, pd.DataFrame], labels: Mapping[str, str], formats: Mapping[str, str], by: str
) -> str:
    """Markdown table of the paired comparisons: metric, policy, mean difference to the reference with
    its CI, the test, n of its units, p."""
    header = ["metric", _escape_cell(by), "mean diff (policy - reference) [CI]", "test", "n", "p-value"]
    rows = []
    for metric, frame in comparisons.items():
        fmt = formats.get(metric, DEFAULT_FORMAT)
        for _, row in frame.iterrows():
            low, high = format_value(row[CI_LOW], fmt), format_value(row[CI_HIGH], fmt)
            diff = f"{format_value(row[MEAN_DIFF], fmt)} [{low}, {high}]"
            cells = [labels.get(metric, metric), row[by], diff, row[TEST], row[N]]
            rows.append([*map(_escape_cell, cells), format_value(row[P_VALUE], "{:.3g}")])
    return table_markdown(header, rows)


def _to_json(value: object) -> object:
    """``value`` as JSON-ready Python data.

    NaN, infinities, ``pd.NA`` and ``pd.NaT`` become None; numpy scalars and arrays become Python
    numbers and lists; mappings and sequences are converted recursively; anything else is ``str()``.
    """
    if value is None or isinstance(value, str | bool):
        return value
    if value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, np.generic):
        return _to_json(value.item())
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, Mapping):
        return {str(k): _to_json(v) for k, v in value.items()}
    if isinstance(value, list | tuple | np.ndarray):
        return [_to_json(v) for v in value]
    return str(value)


def _summary_records(summary: pd.DataFrame, metrics: Sequence[str], by: str) -> list[dict[str, object]]:
    """One JSON record per policy: ``{by, episodes, metrics: {metric: {mean, std, ci_low, ci_high}}}``."""
    return [
        {
            by: row[by],
            EPISODES: row[EPISODES],
            CLUSTERS: row[CLUSTERS],
            CLUSTER_UNIT: row[CLUSTER_UNIT],
            REPLICATES: row[REPLICATES],
            "metrics": {m: {s: row[stat_column(m, s)] for s in SUMMARY_STATS} for m in metrics},
        }
        for _, row in summary.iterrows()
    ]


def _metadata_list(metadata: Mapping[str, object]) -> str:
    """Markdown bullet list ``- **key**: value``; non-string values are written as JSON."""
    return "\n".join(
        f"- **{k}**: {v if isinstance(v, str) else json.dumps(_to_json(v))}" for k, v in metadata.items()
    )


def _results_markdown(
    title: str,
    metadata: Mapping[str, object],
    table: str,
    images: Sequence[tuple[str, str]],
    comparison: str | None,
    confidence: float,
) -> str:
    """The ``results.md`` page; ``images`` holds (caption, PNG file name relative to the page) pairs."""
    parts = [f"# {title}"]
    if metadata:
        parts += ["## Setup", _metadata_list(metadata)]
    parts += [
        "## Results",
        f"Mean ± sample std over episodes [{confidence:.0%} percentile-bootstrap CI of the mean, "
        "resampling the independent units: training seeds, then clusters (request sets the episodes "
        "replay, or else episodes)].",
        table,
        "## Plots",
        "\n\n".join(f"![{caption}]({name})" for caption, name in images),
    ]
    if comparison is not None:
        parts += [
            "## Comparison with the reference (paired on identical streams, tested over independent units)",
            comparison,
        ]
    return "\n\n".join(parts) + "\n"


def _plot_file_name(metric: str) -> str:
    """``bar_<metric>.png`` with characters other than letters, digits, ``._-`` replaced by ``_``."""
    return f"bar_{re.sub(r'[^A-Za-z0-9._-]', '_', metric)}.png"


def _write_plots(
    summary: pd.DataFrame,
    metrics: Sequence[str],
    out_dir: Path,
    labels: Mapping[str, str],
    formats: Mapping[str, str],
    by: str,
) -> list[Path]:
    """``bar_<metric>.png`` per metric, then ``metrics_bar.png``; returns their paths in that order."""
    paths = [
        bar_plot(
            summary,
            m,
            out_dir / _plot_file_name(m),
            label=labels.get(m, m),
            value_format=formats.get(m, DEFAULT_FORMAT),
            by=by,
        )
        for m in metrics
    ]
    combined = metrics_bar_plot(
        summary, metrics, out_dir / METRICS_BAR_PNG, labels=labels, formats=formats, by=by
    )
    return [*paths, combined]


def _results_record(
    df: pd.DataFrame,
    summary: pd.DataFrame,
    metrics: Sequence[str],
    comparisons: Mapping[str, pd.DataFrame] | None,
    by: str,
) -> dict[str, object]:
    """The data part of ``results.json``: metrics, summary, per-episode records, comparisons."""
    return {
        "metrics": list(metrics),
        "summary": _summary_records(summary, metrics, by),
        "episodes": df.to_dict(orient="records"),
        "comparisons": None
        if comparisons is None
        else {m: c.to_dict(orient="records") for m, c in comparisons.items()},
    }


def write_evaluation_report(
    df: pd.DataFrame,
    metrics: Sequence[str],
    out_dir: Path | str,
    *,
    title: str,
    labels: Mapping[str, str] | None = None,
    formats: Mapping[str, str] | None = None,
    metadata: Mapping[str, object] | None = None,
    reference: str | None = None,
    by: str = POLICY,
    confidence: float = 0.95,
    resamples: int = 10_000,
    seed: int = 0,
) -> EvaluationReport:
    """Summarise per-episode results and write ``results.json``, ``results.md`` and PNG plots.

    ``df`` has one row per (policy, seed, episode) and a numeric column per entry of ``metrics``.
    ``labels`` and ``formats`` are as in `markdown_table`; ``metadata`` (scenario, checkpoints,
    budget, ...) is copied into both documents. Given ``reference``, every other policy is compared
    with it per metric (`compare`). ``confidence``, ``resamples`` and ``seed`` set the bootstrap.
    ``out_dir`` is created if missing; existing files of the same names are replaced.

    Raises (before anything is written): ValueError if ``metrics`` is empty; KeyError for a missing
    column or an unknown ``reference``.
    """
    if not metrics:
        raise ValueError("write_evaluation_report: metrics is empty")
    labels, formats, metadata = labels or {}, formats or {}, metadata or {}
    summary = summarize(df, metrics, by=by, confidence=confidence, resamples=resamples, seed=seed)
    comparisons = (
        None if reference is None else {m: compare(df, m, reference=reference, by=by) for m in metrics}
    )
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)

    plots = _write_plots(summary, metrics, out_dir, labels, formats, by)
    record = {
        "title": title,
        "metadata": metadata,
        "bootstrap": {"confidence": confidence, "resamples": resamples, "seed": seed},
        "reference": reference,
        **_results_record(df, summary, metrics, comparisons, by),
    }
    results_json = out_dir / RESULTS_JSON
    write_bytes_atomic(
        results_json, (json.dumps(_to_json(record), indent=2, allow_nan=False) + "\n").encode()
    )

    table = markdown_table(summary, metrics, labels=labels, formats=formats, by=by)
    images = [(labels.get(m, m), p.name) for m, p in zip(metrics, plots[: len(metrics)], strict=True)]
    comparison = None if comparisons is None else _comparison_table(comparisons, labels, formats, by)
    table_md = out_dir / RESULTS_MD
    write_bytes_atomic(
        table_md, _results_markdown(title, metadata, table, images, comparison, confidence).encode()
    )
    return EvaluationReport(results_json=results_json, table_md=table_md, plots=plots, summary=summary)
