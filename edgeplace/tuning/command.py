"""``edgeplace tune``: validate a sweep file, run or resume it, print the summary and best checkpoint."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console

from edgeplace.tuning.progress import TrialEvent, TrialEventKind
from edgeplace.tuning.spec import SweepSpec
from edgeplace.tuning.summary import summary_table
from edgeplace.tuning.sweep import export_best_checkpoint, run_sweep


def tune_command(config_path: Path, *, address: str | None, resume: bool, console: Console) -> None:
    """Run the sweep of ``config_path`` (on ``address`` or a local Ray); ``resume`` continues it."""
    spec = SweepSpec.from_yaml(config_path)
    console.print(f"sweep [bold]{spec.name}[/] -> {spec.experiment_path}")

    def report(event: TrialEvent) -> None:
        if event.kind is not TrialEventKind.RESULT:
            console.print(event.describe())

    result = run_sweep(spec, address=address, resume=resume, on_progress=report)
    console.print(summary_table(result))
    if result.interrupted:
        console.print(f"[yellow]interrupted:[/] resume with `edgeplace tune {config_path} --resume`")
    if result.best_checkpoint is None:
        console.print("[red]no trial saved a checkpoint[/]")
        return
    best = result.best_checkpoint.path
    if spec.export_best_to is not None:
        best = str(export_best_checkpoint(result, spec.export_best_to))
    console.print(f"best checkpoint: {best}")
