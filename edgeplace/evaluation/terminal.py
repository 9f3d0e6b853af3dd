"""The evaluation summary as a rich table that fits a terminal: one row per policy, the scenario's
primary KPIs as the mean over its 95% CI, and the independent units behind it. The full Markdown
report stays in its file."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd
from rich.table import Table

from edgeplace.evaluation.report import units_cell
from edgeplace.evaluation.statistics import CI_HIGH, CI_LOW, EPISODES, MEAN, POLICY, stat_column


def summary_table(summary: pd.DataFrame, kpis: Sequence[str], *, title: str) -> Table:
    """``summary`` (a `summarize` frame) for ``kpis``: columns wrap to the console's width.

    Cells are the mean over its ``[ci_low, ci_high]`` (3 significant digits); headers wrap at the
    KPI name's underscores; a KPI without values shows ``n/a``; under the episodes, the independent
    units (``25 request sets``).
    """
    table = Table(title=title, title_justify="left")
    table.add_column("policy", no_wrap=True)
    table.add_column("episodes", justify="right")
    for kpi in kpis:
        table.add_column(kpi.replace("_", " "), justify="right")
    for _, row in summary.iterrows():
        episodes = f"{int(row[EPISODES])}\n{units_cell(row)}"
        table.add_row(str(row[POLICY]), episodes, *(_cell(row, kpi) for kpi in kpis))
    return table


def _cell(row: pd.Series, kpi: str) -> str:
    mean, low, high = (row[stat_column(kpi, stat)] for stat in (MEAN, CI_LOW, CI_HIGH))
    if pd.isna(mean):
        return "n/a"
    return f"{mean:.3g}\n[{low:.3g}, {high:.3g}]"
