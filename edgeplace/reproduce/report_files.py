"""The files every reproduction writes: ``report.md`` (Markdown sections, then the figures) and
``summary.json`` (the headline numbers, machine-readable), both written atomically."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from edgeplace.atomic_io import write_text_atomic

REPORT_FILE, SUMMARY_FILE = "report.md", "summary.json"


def write_report_files(
    out: Path, sections: Sequence[str], figures: Sequence[Path], summary: Mapping[str, Any]
) -> Path:
    """Write ``out/report.md`` (``sections`` separated by blank lines, then a Figures section linking
    each PNG of ``figures`` by file name) and ``out/summary.json``; returns the report path."""
    figure_links = "## Figures\n\n" + "\n".join(f"![{path.stem}]({path.name})" for path in figures)
    report = out / REPORT_FILE
    write_text_atomic(report, "\n\n".join([*sections, figure_links]) + "\n")
    write_text_atomic(out / SUMMARY_FILE, json.dumps(summary, indent=2, default=float))
    return report


def records(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[dict[str, str]]:
    """Table rows as JSON records keyed by ``header``."""
    return [dict(zip(header, row, strict=True)) for row in rows]
