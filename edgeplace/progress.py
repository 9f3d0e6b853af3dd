"""Rich progress bars for long CLI work (training iterations, evaluation episodes)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)


def _progress() -> Progress:
    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        TextColumn("{task.fields[status]}"),
    )


@contextmanager
def training_progress(total_timesteps: int, start: int = 0) -> Iterator[Callable[[dict[str, float]], None]]:
    """A bar over agent timesteps; the yielded callback takes each iteration's metrics row."""
    with _progress() as bar:
        task = bar.add_task("training", total=total_timesteps, completed=start, status="")

        def update(row: dict[str, float]) -> None:
            status = (
                f"iter {int(row['iteration'])}  return {row.get('episode_return_mean', float('nan')):.2f}"
            )
            sla = row.get("kpi_sla_satisfaction")
            if sla is not None:
                status += f"  SLA {sla:.1%}"
            bar.update(task, completed=min(int(row["timesteps"]), total_timesteps), status=status)

        yield update


@contextmanager
def episode_progress(total_episodes: int, description: str = "evaluating") -> Iterator[Callable[[], None]]:
    """A bar over evaluation episodes; the yielded callback advances it by one."""
    with _progress() as bar:
        task = bar.add_task(description, total=total_episodes, status="")
        yield lambda: bar.advance(task)
