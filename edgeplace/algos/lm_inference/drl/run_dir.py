"""The files of a DRL training run and their atomic updates.

Layout::

    RUN/state.json                      the last finished phase: its index, slots, checkpoint (commit point)
    RUN/curve.csv                       one row per finished phase (:class:`CurveColumn`)
    RUN/checkpoints/phase_NNNNNN/       both tiers after phase NNNNNN: upper/ and lower/ (RLlib
                                        ``save_to_path``) and drl.json (env config, settings, modules)

A phase's checkpoint is written to a hidden temporary directory and renamed into place, then the curve,
then ``state.json``; a crash at any point leaves ``state.json`` naming a complete checkpoint, and curve
rows past it are dropped when the run resumes.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

import pandas as pd

from edgeplace.atomic_io import write_directory_atomic, write_text_atomic

STATE_FILE = "state.json"
CURVE_FILE = "curve.csv"
CHECKPOINT_DIR = "checkpoints"
METADATA_FILE = "drl.json"
KEEP_CHECKPOINTS = 2
"""Phase checkpoints kept (the newest)."""


class CurveColumn(StrEnum):
    """Columns of ``curve.csv``."""

    PHASE = "phase"
    TIER = "tier"
    """The tier trained in the phase (``upper`` or ``lower``)."""
    SLOTS = "slots"
    """Slots trained so far, both tiers, at the phase's end."""
    PHASE_SLOTS = "phase_slots"
    EPISODES = "episodes"
    """Tier-env episodes finished in the phase."""
    COHORT_REWARD = "cohort_reward"
    """Mean Eq. 20 reward of their measured cohorts (NaN when none finished)."""
    OBJECTIVE = "objective"
    """Mean J (Eq. 10) of their measured cohorts."""
    WALL_S = "wall_s"
    """Seconds the phase took."""


@dataclass(frozen=True)
class RunState:
    """What ``state.json`` holds."""

    phases: int
    """Finished phases."""
    slots: int
    """Slots trained in them."""
    checkpoint: str
    """The last phase's checkpoint directory name."""
    seed: int
    env_config: dict[str, Any]


def phase_name(phase: int) -> str:
    """The checkpoint directory name of ``phase``."""
    return f"phase_{phase:06d}"


def read_state(run_dir: Path) -> RunState | None:
    """The run's state, or None where no phase has finished."""
    path = run_dir / STATE_FILE
    if not path.is_file():
        return None
    try:
        return RunState(**json.loads(path.read_text()))
    except (json.JSONDecodeError, TypeError) as err:
        raise ValueError(f"{path}: not a DRL run state ({err})") from None


def read_curve(run_dir: Path, phases: int) -> pd.DataFrame:
    """The curve rows of the first ``phases`` phases (empty with the columns when none)."""
    path = run_dir / CURVE_FILE
    columns = [str(c) for c in CurveColumn]
    if not path.is_file():
        return pd.DataFrame(columns=columns)
    curve = pd.read_csv(path)
    return curve[curve[CurveColumn.PHASE] < phases].reset_index(drop=True)


def read_metadata(checkpoint: Path) -> dict[str, Any]:
    """A phase checkpoint's ``drl.json``.

    Raises:
        ValueError: the directory is not a DRL checkpoint.
    """
    path = checkpoint / METADATA_FILE
    if not path.is_file():
        raise ValueError(f"{checkpoint}: not a DRL checkpoint (no {METADATA_FILE})")
    return json.loads(path.read_text())


def resolve_checkpoint(path: Path) -> Path:
    """A phase checkpoint directory, or a run directory's latest.

    Raises:
        ValueError: neither.
    """
    if (path / METADATA_FILE).is_file():
        return path
    state = read_state(path)
    if state is None:
        raise ValueError(
            f"{path}: not a DRL run directory or checkpoint (no {STATE_FILE}, no {METADATA_FILE})"
        )
    return path / CHECKPOINT_DIR / state.checkpoint


def commit_phase(
    run_dir: Path,
    save: Callable[[Path], None],
    metadata: Mapping[str, Any],
    curve: pd.DataFrame,
    state: RunState,
) -> Path:
    """Write a finished phase: ``save(directory)`` fills the checkpoint, then ``drl.json``, the curve and
    the state follow (see the module docstring). Returns the checkpoint."""
    root = run_dir / CHECKPOINT_DIR

    def fill(directory: Path) -> None:
        save(directory)
        (directory / METADATA_FILE).write_text(json.dumps(dict(metadata), indent=2, sort_keys=True))

    final = write_directory_atomic(root / state.checkpoint, fill)
    write_text_atomic(run_dir / CURVE_FILE, curve.to_csv(index=False))
    write_text_atomic(run_dir / STATE_FILE, json.dumps(vars(state), indent=2, sort_keys=True))
    for old in sorted(root.glob("phase_*"))[:-KEEP_CHECKPOINTS]:
        shutil.rmtree(old, ignore_errors=True)
    return final


def clear_run(run_dir: Path) -> None:
    """Forget a run's phases (a fresh start in the same directory)."""
    (run_dir / STATE_FILE).unlink(missing_ok=True)
    (run_dir / CURVE_FILE).unlink(missing_ok=True)
    shutil.rmtree(run_dir / CHECKPOINT_DIR, ignore_errors=True)
