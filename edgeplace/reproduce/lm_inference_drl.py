"""The hierarchical DRL baseline's steps in the lm-inference reproduction: one resumable training run
per DRL budget (``runs/drl-<slots>``, on the learned hierarchy's first training seed) and its policy as
an evaluation's policies. The tiers alternate in phases inside one run (two RLlib algorithms), so
these runs are not edgeplace training steps; a finished phase is never trained again."""

from __future__ import annotations

from collections.abc import Mapping
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.console import Console

from edgeplace.algos.lm_inference.drl.policy import load_drl_policy
from edgeplace.algos.lm_inference.drl.train import DrlRun, train_drl
from edgeplace.progress import training_progress
from edgeplace.reproduce.cache import file_sha256
from edgeplace.reproduce.steps import RUNS_DIR, Policies

if TYPE_CHECKING:
    from edgeplace.reproduce.lm_inference import Budget

__all__ = ["DrlRun", "drl_name", "drl_policies", "train_drl_runs"]


def drl_name(slots: int) -> str:
    """The run (and policy) name of the DRL budget ``slots``."""
    return f"drl-{slots // 1000}k" if slots % 1000 == 0 else f"drl-{slots}"


def train_drl_runs(budget: Budget, out: Path, console: Console) -> dict[int, DrlRun]:
    """Every DRL budget of ``budget`` trained (or resumed) into ``out/runs/drl-<slots>``; by slots."""
    runs = {}
    for slots in budget.drl_slots:
        name = drl_name(slots)
        console.print(f"[bold]training[/] {name}: hierarchical DRL, {slots:,} slots")
        with training_progress(slots) as on_phase:
            runs[slots] = train_drl(
                dict(budget.env_options),
                out / RUNS_DIR / name,
                budget_slots=slots,
                phase_slots=budget.drl_phase_slots,
                seed=budget.first_seed,
                on_phase=on_phase,
                settings=dict(budget.drl_options),
            )
    return runs


def drl_policies(runs: Mapping[int, DrlRun], env_config: Mapping[str, Any]) -> dict[str, Policies]:
    """Each DRL run's policy (named like its run) for envs of ``env_config``, by evaluation name; its
    sources are the run's latest phase checkpoint and that checkpoint's metadata digest."""
    out = {}
    for slots, run in runs.items():
        if run.checkpoint is None:
            raise FileNotFoundError(f"{run.run_dir}: the DRL run saved no checkpoint")
        name, checkpoint = drl_name(slots), run.checkpoint
        sources = {"run": name, "checkpoint": checkpoint.name, "metadata_sha256": _metadata_sha(checkpoint)}
        load = partial(load_drl_policy, checkpoint, name=name, env_config=dict(env_config))
        out[name] = Policies(lambda load=load: [load()], {"drl": sources})
    return out


def _metadata_sha(checkpoint: Path) -> str:
    """SHA-256 of the JSON files directly in a phase checkpoint (its metadata)."""
    files = sorted(checkpoint.glob("*.json"))
    return ",".join(file_sha256(f) for f in files)
