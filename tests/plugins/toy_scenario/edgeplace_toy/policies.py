"""The toy's checkpoint loader: its algorithms write two kinds of checkpoints (RLlib modules for MAPPO,
a joint learner for HISPER/HASAC/HAPPO), told apart by the algorithm in the checkpoint's metadata."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from edgeplace.algos.checkpoints import read_metadata, resolve_checkpoint
from edgeplace.algos.hisper.policy import HISPERPolicy
from edgeplace.algos.module_policy import ModulePolicy
from edgeplace.policy import Policy

#: The toy's algorithms whose checkpoints hold a joint learner (the others hold RLlib modules).
JOINT_ALGORITHMS = frozenset({"hisper", "hasac", "happo"})


def load_policy(
    path: str | Path, *, name: str | None = None, env_config: Mapping[str, Any] | None = None
) -> Policy:
    """The policy of a toy checkpoint (or run directory: its latest checkpoint), by the algorithm that
    wrote it."""
    checkpoint = resolve_checkpoint(path)
    algo = read_metadata(checkpoint)["train_config"]["algo"]
    loader = HISPERPolicy if algo in JOINT_ALGORITHMS else ModulePolicy
    return loader.from_checkpoint(checkpoint, name=name, env_config=env_config)
