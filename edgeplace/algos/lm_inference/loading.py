"""The lm-inference scenario's checkpoint loader: the learned hierarchy or the hierarchical DRL baseline,
told apart by the files of the path it is given."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from edgeplace.algos.lm_inference.drl.policy import load_drl_policy
from edgeplace.algos.lm_inference.drl.run_dir import METADATA_FILE as DRL_METADATA_FILE
from edgeplace.algos.lm_inference.drl.run_dir import STATE_FILE as DRL_STATE_FILE
from edgeplace.algos.lm_inference.policy import LearnedPolicy
from edgeplace.algos.lm_inference.settings import FINAL_STAGE_DIR
from edgeplace.policy import Policy


def load_policy(
    path: str | Path, *, name: str | None = None, env_config: Mapping[str, Any] | None = None
) -> Policy:
    """The policy at ``path``: a DRL run directory or phase checkpoint (``drl`` by default), else the
    learned hierarchy's checkpoint, run directory or staged run directory (its last stage's latest
    checkpoint)."""
    path = Path(path)
    if (path / DRL_STATE_FILE).is_file() or (path / DRL_METADATA_FILE).is_file():
        return load_drl_policy(path, name=name or "drl", env_config=env_config)
    final_stage = path / FINAL_STAGE_DIR
    return LearnedPolicy.from_checkpoint(
        final_stage if final_stage.is_dir() else path, name=name, env_config=env_config
    )
