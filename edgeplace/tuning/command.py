"""``edgeplace tune``: validate a sweep file, run or resume it, print the summary and best checkpoint."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console

from edgeplace.scenarios import scenarios
from edgeplace.tuning.progress import TrialEvent, TrialEventKind
from edgeplace.tuning.spec import SweepSpec
from edgeplace.tuning.summary import summary_table
from edgeplace.tuning.sweep import export_best_checkpoint, run_sweep


def shipped_sweeps() -> dict[str, Path]:
    """The sweep files the registered scenarios ship, by file stem."""
    return {Path(str(path)).stem: Path(str(path)) for spec in scenarios() for path in spec.sweep_paths()}


def resolve_sweep_file(sweep: str) -> Path:
    """``sweep`` as a path if that file exists, else the shipped sweep of that name.

    Raises:
        FileNotFoundError: neither, naming the shipped sweeps.
    """
    path = Path(sweep)
    if path.is_file():
        return path
    shipped = shipped_sweeps()
    if sweep in shipped:
        return shipped[sweep]
    raise FileNotFoundError(f"sweep {sweep!r}: no such file, nor a shipped sweep; shipped: {sorted(shipped)}")


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
