"""Atomic training checkpoints with edgeplace metadata, and how to find and read them.

Layout of a run directory::

    OUT/checkpoints/iter_000010/            RLlib's ``algo.save_to_path`` plus edgeplace.json
    OUT/checkpoints/LATEST                  name of the newest complete checkpoint

A checkpoint is written to a hidden temporary directory and renamed into place, and LATEST is
replaced atomically afterwards, so a crash never leaves a half-written checkpoint behind LATEST.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from edgeplace.algos.train_config import TrainConfig
from edgeplace.atomic_io import write_directory_atomic, write_text_atomic

METADATA_FILE = "edgeplace.json"
LATEST_FILE = "LATEST"
CHECKPOINT_DIR = "checkpoints"
#: Where RLlib keeps the MultiRLModule inside an algorithm checkpoint.
MODULE_SUBDIR = Path("learner_group") / "learner" / "rl_module"


class CheckpointError(ValueError):
    """A path is not an edgeplace checkpoint (the message names the path and what is missing)."""


def checkpoint_metadata(
    config: TrainConfig, agent_modules: Mapping[str, str], iteration: int, timesteps: int, wall_s: float
) -> dict[str, Any]:
    """The ``edgeplace.json`` of a trial checkpoint (the same keys ``edgeplace train`` writes)."""
    return {
        "name": config.algo,
        "scenario": config.scenario,
        "env_config": dict(config.env_config),
        "agent_modules": dict(agent_modules),
        "train_config": config.to_dict(),
        "iteration": iteration,
        "timesteps": timesteps,
        "wall_s": wall_s,
    }


def save_checkpoint(algo: Any, run_dir: Path, iteration: int, metadata: Mapping[str, Any], keep: int) -> Path:
    """Save ``algo`` as ``run_dir/checkpoints/iter_NNNNNN`` atomically; prune to the ``keep`` newest."""
    root = run_dir / CHECKPOINT_DIR

    def fill(directory: Path) -> None:
        algo.save_to_path(str(directory))
        (directory / METADATA_FILE).write_text(json.dumps(dict(metadata), indent=2, sort_keys=True))

    final = write_directory_atomic(root / f"iter_{iteration:06d}", fill)
    write_text_atomic(root / LATEST_FILE, final.name)
    for old in sorted(root.glob("iter_*"))[:-keep]:
        shutil.rmtree(old, ignore_errors=True)
    return final


def latest_checkpoint(run_dir: Path) -> Path | None:
    """The newest complete checkpoint of a run directory, or None if it has none."""
    marker = run_dir / CHECKPOINT_DIR / LATEST_FILE
    if not marker.is_file():
        return None
    path = marker.parent / marker.read_text().strip()
    return path if (path / METADATA_FILE).is_file() else None


def resolve_checkpoint(path: str | Path) -> Path:
    """Accept a checkpoint directory or a run directory (then its latest checkpoint)."""
    path = Path(path)
    if (path / METADATA_FILE).is_file():
        return path
    latest = latest_checkpoint(path)
    if latest is None:
        raise CheckpointError(f"{path}: not an edgeplace checkpoint or run directory (no {METADATA_FILE})")
    return latest


def read_metadata(checkpoint: Path) -> dict[str, Any]:
    """The edgeplace metadata of a checkpoint (scenario, env config, agent -> module mapping, ...)."""
    try:
        return json.loads((checkpoint / METADATA_FILE).read_text())
    except FileNotFoundError:
        raise CheckpointError(f"{checkpoint}: missing {METADATA_FILE}") from None
    except json.JSONDecodeError as err:
        raise CheckpointError(f"{checkpoint / METADATA_FILE}: invalid JSON ({err})") from None
