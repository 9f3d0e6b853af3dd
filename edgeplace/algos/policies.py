"""Resolve a policy spec from the command line: a baseline name, or ``[LABEL=]CHECKPOINT``."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from edgeplace.policy import Policy
from edgeplace.scenarios import get_scenario


def resolve_policy(
    spec: str, scenario_id: str, *, seed: int = 0, env_config: Mapping[str, Any] | None = None
) -> Policy:
    """``greedy`` / ``random`` / ... build a baseline (for envs of ``env_config``); ``mappo=runs/x`` or
    ``runs/x`` load a checkpoint (a checkpoint directory, or a run directory's latest checkpoint) with
    the scenario's checkpoint loader."""
    scenario = get_scenario(scenario_id)
    if spec in scenario.baseline_names():
        return scenario.make_baseline(spec, seed=seed, env_config=env_config)
    label, _, path = spec.rpartition("=")
    if not Path(path).exists():
        raise FileNotFoundError(
            f"policy {spec!r}: neither a baseline of {scenario_id} ({scenario.baseline_names()}) "
            f"nor an existing checkpoint path"
        )
    return scenario.policy_from_checkpoint(path, name=label or None, env_config=env_config)
