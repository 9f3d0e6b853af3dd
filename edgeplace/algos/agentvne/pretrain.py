"""Supervised pre-training on NodeRank targets (papers/agentvne.md, section f, "Pre-training").

Masked MSE sum M (P - Y)^2 / sum M; Adam (lr 1e-3, weight decay 1e-5), batch 16, StepLR(50, 0.5),
100 epochs; the best-validation weights are kept. ``OUT/best.pt`` holds the best weights and
``OUT/last.pt`` everything needed to resume (model, optimiser, scheduler, RNG, history); both are written
atomically after every epoch, so an interrupted run resumes from its last finished epoch.

The loop is generic over a :class:`PretrainTask`: AgentVNE's similarity network in
:mod:`edgeplace.algos.agentvne.similarity_task`, GAL-VNE's node scorer in
:mod:`edgeplace.algos.agentvne.gal_vne`.
"""

from __future__ import annotations

import dataclasses
import io
from collections.abc import Mapping, Sequence
from contextlib import nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import torch
from torch import Tensor, nn

from edgeplace.algos.agentvne.dataset import VNEDataset, collect_dataset
from edgeplace.algos.agentvne.labels import LabelMode
from edgeplace.algos.agentvne.settings import DEFAULT_RATES
from edgeplace.atomic_io import write_bytes_atomic
from edgeplace.envs.agent_vne import AgentVNEConfig
from edgeplace.progress import episode_progress

BEST_FILE, LAST_FILE, DATASET_FILE = "best.pt", "last.pt", "dataset.npz"
_EVAL_BATCH = 256


@dataclass(frozen=True)
class PretrainConfig:
    """Optimisation schedule (spec f; the same for AgentVNE and GAL-VNE)."""

    epochs: int = 100
    batch_size: int = 16
    lr: float = 1e-3
    weight_decay: float = 1e-5
    lr_step_epochs: int = 50
    """StepLR step size, in epochs."""
    lr_gamma: float = 0.5
    """StepLR factor."""
    seed: int = 0
    """Seeds the initial weights, the batch order and dropout."""

    def __post_init__(self) -> None:
        for name in ("epochs", "batch_size", "lr_step_epochs"):
            if getattr(self, name) < 1:
                raise ValueError(f"pretrain config: {name} must be >= 1, got {getattr(self, name)}")
        if not (self.lr > 0 and self.weight_decay >= 0 and 0 < self.lr_gamma <= 1):
            raise ValueError(
                f"pretrain config: need lr > 0, weight_decay >= 0, 0 < lr_gamma <= 1, got {self.lr}, "
                f"{self.weight_decay}, {self.lr_gamma}"
            )


class PretrainTask(Protocol):
    """A model and its masked squared-error loss on dataset batches."""

    kind: str

    def describe(self) -> dict[str, Any]:
        """JSON-able facts that must match to resume or load (sizes, configs)."""
        ...

    def build_model(self) -> nn.Module: ...

    def loss_terms(self, model: nn.Module, batch: Mapping[str, Tensor]) -> tuple[Tensor, Tensor]:
        """(sum of masked squared errors, number of masked entries) of a batch."""
        ...


@dataclass
class PretrainResult:
    """Where the best weights are and how training went (one history row per epoch)."""

    best_path: Path
    best_epoch: int
    best_val_loss: float
    history: list[dict[str, float]] = field(default_factory=list)


def pretrain(
    task: PretrainTask,
    train: VNEDataset,
    val: VNEDataset,
    out_dir: Path,
    config: PretrainConfig | None = None,
    *,
    resume: bool = True,
    show_progress: bool = False,
) -> PretrainResult:
    """Train ``task``'s model, keeping the best-validation weights in ``out_dir/best.pt``.

    With ``resume`` and an ``out_dir/last.pt`` of the same task, continue after its last epoch (a
    finished run returns at once); without ``resume`` start afresh.
    """
    config = config or PretrainConfig()
    out_dir = Path(out_dir)
    torch.manual_seed(config.seed)
    model = task.build_model()
    optimizer = torch.optim.Adam(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, config.lr_step_epochs, config.lr_gamma)
    schedule = {k: v for k, v in dataclasses.asdict(config).items() if k != "epochs"}  # may grow on resume
    facts = {**task.describe(), "kind": task.kind, "pretrain_config": schedule}
    state = {"epoch": -1, "best_val": float("inf"), "best_epoch": -1, "history": []}
    if resume and (out_dir / LAST_FILE).is_file():
        saved = load_checkpoint(out_dir / LAST_FILE)
        if saved["facts"] != facts:
            raise ValueError(
                f"{out_dir / LAST_FILE}: a different pre-training run ({saved['facts']}); "
                f"use another directory or resume=False"
            )
        model.load_state_dict(saved["state_dict"])
        optimizer.load_state_dict(saved["optimizer"])
        scheduler.load_state_dict(saved["scheduler"])
        torch.set_rng_state(saved["torch_rng"])
        state = {name: saved[name] for name in state}
    start = state["epoch"] + 1
    bar = (
        episode_progress(config.epochs, f"pre-training {task.kind}")
        if show_progress
        else nullcontext(_no_bar)
    )
    with bar as advance:
        for _ in range(start):
            advance()
        for epoch in range(start, config.epochs):
            train_loss = _train_epoch(task, model, optimizer, train, config, epoch)
            scheduler.step()
            val_loss = evaluate_loss(task, model, val)
            state["history"].append({"epoch": epoch, "train_loss": train_loss, "val_loss": val_loss})
            state["epoch"] = epoch
            if val_loss < state["best_val"]:
                state["best_val"], state["best_epoch"] = val_loss, epoch
                best = {
                    "facts": facts,
                    "state_dict": model.state_dict(),
                    "epoch": epoch,
                    "val_loss": val_loss,
                }
                _save(out_dir / BEST_FILE, {**best, "env_config": dict(train.env_config)})
            resumable = {"optimizer": optimizer.state_dict(), "scheduler": scheduler.state_dict()}
            resumable["torch_rng"] = torch.get_rng_state()
            _save(
                out_dir / LAST_FILE, {"facts": facts, "state_dict": model.state_dict(), **resumable, **state}
            )
            advance()
    return PretrainResult(out_dir / BEST_FILE, state["best_epoch"], state["best_val"], state["history"])


def _train_epoch(
    task: PretrainTask,
    model: nn.Module,
    optimizer: torch.optim.Optimizer,
    data: VNEDataset,
    config: PretrainConfig,
    epoch: int,
) -> float:
    """One pass in a seeded order; returns the mean of the batch losses."""
    model.train()
    order = np.random.default_rng([config.seed, epoch]).permutation(len(data))
    losses = []
    for start in range(0, len(data), config.batch_size):
        error, count = task.loss_terms(model, data.batch(order[start : start + config.batch_size]))
        if count <= 0:
            continue
        loss = error / count
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(float(loss.detach()))
    return float(np.mean(losses)) if losses else float("nan")


def evaluate_loss(task: PretrainTask, model: nn.Module, data: VNEDataset) -> float:
    """Masked MSE over a whole dataset (eval mode, no gradients)."""
    model.eval()
    error, count = 0.0, 0.0
    with torch.no_grad():
        for start in range(0, len(data), _EVAL_BATCH):
            e, c = task.loss_terms(model, data.batch(np.arange(start, min(start + _EVAL_BATCH, len(data)))))
            error, count = error + float(e), count + float(c)
    return error / count if count > 0 else float("nan")


def _no_bar() -> None:
    """Progress callback when no bar is shown."""


def _save(path: Path, payload: dict[str, Any]) -> None:
    buffer = io.BytesIO()
    torch.save(payload, buffer)
    write_bytes_atomic(path, buffer.getvalue())


def load_checkpoint(path: Path, kind: str | None = None) -> dict[str, Any]:
    """A pre-training checkpoint (``best.pt`` or ``last.pt``); a directory means its ``best.pt``.
    With ``kind``, fail unless the checkpoint is of that kind."""
    path = Path(path)
    if path.is_dir():
        path = path / BEST_FILE
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no pre-training checkpoint there")
    payload = torch.load(path, map_location="cpu", weights_only=True)
    if kind is not None and payload.get("facts", {}).get("kind") != kind:
        raise ValueError(f"{path}: a {payload.get('facts', {}).get('kind')!r} checkpoint, expected {kind!r}")
    return payload


def prepare_dataset(
    env_config: Mapping[str, Any] | None,
    out_dir: Path,
    *,
    episodes: int = 100,
    arrivals: int = 50,
    rates: Sequence[float] = DEFAULT_RATES,
    seed: int = 0,
    label_mode: LabelMode | str = LabelMode.REALIZED,
) -> VNEDataset:
    """``out_dir/dataset.npz`` when it was made for this env config, arrival rates and label mode, else
    collect and save it (so a resumed run trains on the same data)."""
    rates = tuple(float(rate) for rate in rates)
    path = Path(out_dir) / DATASET_FILE
    env = AgentVNEConfig.from_env_config(env_config).to_env_config()
    if path.is_file():
        dataset = VNEDataset.load(path)
        wanted = (env, rates, str(LabelMode(label_mode)))
        if (dataset.env_config, dataset.rates, dataset.label_mode) == wanted:
            return dataset
    dataset = collect_dataset(
        env, episodes=episodes, arrivals=arrivals, rates=rates, seed=seed, label_mode=label_mode
    )
    dataset.save(path)
    return dataset
