"""The report every reproduction writes: ``report.md`` (title, settings, the targets table, the paper's
sections, the training runs, then the figures) and ``summary.json`` (the headline numbers), both written
atomically; and the number formats the paper sections share."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from edgeplace.atomic_io import write_text_atomic
from edgeplace.evaluation.comparison import (
    MEAN_DIFF,
    P_VALUE,
    TEST,
    N,
    PairedComparison,
    compare,
    paired_comparison,
)
from edgeplace.evaluation.report import table_markdown
from edgeplace.evaluation.statistics import CI_HIGH, CI_LOW, POLICY
from edgeplace.reproduce.steps import TrainedRun

if TYPE_CHECKING:
    from edgeplace.reproduce.protocol import Results

REPORT_FILE, SUMMARY_FILE = "report.md", "summary.json"
TARGET_HEADER = ("target", "measured", "met")
#: The training runs table: run, decisions, iterations, wall s, s / iteration, then the paper's KPIs.
RUNS_HEADER = ("run", "decisions", "iterations", "wall s", "s / iteration")


@dataclass(frozen=True)
class Target:
    """One row of the targets table: what the paper (or issue) claims, what we measured, and whether
    the claim holds. A target is met only when ``holds`` and every number it rests on is known: a
    missing (NaN) measurement fails its target."""

    what: str
    measured: str
    holds: bool
    numbers: Sequence[float]
    """The measurements the verdict rests on."""

    @property
    def met(self) -> bool:
        return bool(self.holds) and bool(np.isfinite(np.asarray(self.numbers, dtype=float)).all())


@dataclass(frozen=True)
class Report:
    """What a paper puts in its report; :func:`write_report` lays it out the same way for every paper."""

    paper: str
    """The paper's name in the title ("VAMAPPO")."""
    settings: str
    """The paragraph under the title (budget, seeds, what departs from the spec)."""
    targets_source: str
    """Where the targets come from ("issue 3"), in the targets heading."""
    targets: Sequence[Target]
    sections: Sequence[str]
    """The paper's Markdown sections (:func:`section`), in order."""
    figures: Sequence[Path]
    """PNGs linked at the end, by file name."""
    summary: Mapping[str, Any]
    """``summary.json`` entries besides the budget and the targets."""
    run_kpis: Mapping[str, str] = field(default_factory=dict)
    """metrics.csv column -> format of the last iteration's value in the runs table."""


def verdict(met: bool) -> str:
    """The ``met`` cell of a targets table."""
    return "yes" if met else "**no**"


def targets_table(targets: Sequence[Target]) -> str:
    return table_markdown(TARGET_HEADER, [[t.what, t.measured, verdict(t.met)] for t in targets])


def seconds_per_iteration(run: TrainedRun) -> float:
    """Median wall seconds per training iteration of a run (robust to a resume's pause)."""
    wall = np.diff(np.concatenate(([0.0], run.metrics["wall_s"].to_numpy(dtype=float))))
    return float(np.median(wall))


def runs_section(runs: Mapping[str, TrainedRun], kpis: Mapping[str, str]) -> str:
    """One row per training run: its size, wall time and the last iteration's ``kpis`` (n/a if absent)."""
    rows = []
    for name, run in runs.items():
        last = run.metrics.iloc[-1]
        size = [f"{int(last['timesteps']):,}", str(len(run.metrics)), f"{last['wall_s']:.0f}"]
        kpi_cells = [fmt_value(last.get(column, np.nan), fmt) for column, fmt in kpis.items()]
        rows.append([name, *size, f"{seconds_per_iteration(run):.1f}", *kpi_cells])
    header = [*RUNS_HEADER, *(f"{column} (last)" for column in kpis)]
    return section("Training runs", table_markdown(header, rows))


def write_report(out: Path, report: Report, results: Results) -> Path:
    """Write ``out/report.md`` and ``out/summary.json``; returns the report path."""
    sections = [
        f"# {report.paper} reproduction ({results.budget.name} budget)\n\n{report.settings}",
        section(f"Targets ({report.targets_source})", targets_table(report.targets)),
        *report.sections,
        runs_section(results.runs, report.run_kpis),
        section("Figures", "\n".join(f"![{path.stem}]({path.name})" for path in report.figures)),
    ]
    path = out / REPORT_FILE
    write_text_atomic(path, "\n\n".join(sections) + "\n")
    summary = {
        "budget": results.budget.name,
        "targets": [{"target": t.what, "measured": t.measured, "met": t.met} for t in report.targets],
        **report.summary,
    }
    write_text_atomic(out / SUMMARY_FILE, json.dumps(summary, indent=2, default=float))
    return path


# --- layout, formats and tests the sections share ------------------------------------------------
def section(title: str, *blocks: str) -> str:
    """A Markdown section: ``## title``, then ``blocks`` (tables, paragraphs) separated by blank lines."""
    return "\n\n".join([f"## {title}", *blocks])


def fmt_value(value: float | None, fmt: str) -> str:
    """``fmt.format(value)``, or "n/a" where the value is missing."""
    return "n/a" if value is None or not np.isfinite(value) else fmt.format(value)


def pct(value: float | None) -> str:
    return fmt_value(value, "{:.1%}")


def num(value: float | None, digits: int = 3) -> str:
    return fmt_value(value, f"{{:.{digits}f}}")


def pm(mean: float, std: float | None, fmt: str = "{:.2f}") -> str:
    """``mean ± std``, or the mean alone where there is no std."""
    return fmt.format(mean) + ("" if std is None else f" ± {fmt.format(std)}")


def mean_std(values: pd.Series, fmt: str = "{:.2f}") -> str:
    """``mean ± std`` (ddof 1) of ``values``."""
    return pm(values.mean(), values.std(), fmt)


def paired(frame: pd.DataFrame, policy: str, rival: str, metric: str) -> PairedComparison:
    """``policy`` against ``rival`` on ``metric``, paired by stream and tested over the independent units
    (:func:`edgeplace.evaluation.comparison.paired_comparison`)."""
    rows = frame[POLICY]
    return paired_comparison(frame[rows == policy], frame[rows == rival], metric, names=(policy, rival))


def comparison_table(frame: pd.DataFrame, metrics: Sequence[str], reference: str) -> str:
    """Every policy against ``reference`` on each of ``metrics``: the mean difference (policy - reference)
    with its paired bootstrap CI, the test, n of its units and p."""
    rows = [
        [
            metric,
            row[POLICY],
            f"{row[MEAN_DIFF]:+.4f} [{row[CI_LOW]:+.4f}, {row[CI_HIGH]:+.4f}]",
            row[TEST],
            row[N],
            fmt_value(row[P_VALUE], "{:.3g}"),
        ]
        for metric in metrics
        for _, row in compare(frame, metric, reference=reference).iterrows()
    ]
    return table_markdown(["metric", "method", "mean diff [95% CI]", "test", "n", "p-value"], rows)
