"""Resolve a policy spec from the command line: a baseline name, or ``[LABEL=]CHECKPOINT``."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from edgeplace.algos.baselines import baseline_names, make_baseline
from edgeplace.algos.module_policy import ModulePolicy
from edgeplace.policy import Policy


def resolve_policy(
    spec: str, scenario_id: str, *, seed: int = 0, env_config: Mapping[str, Any] | None = None
) -> Policy:
    """``greedy`` / ``random`` / ... build a baseline (for envs of ``env_config``); ``mappo=runs/x`` or
    ``runs/x`` load a checkpoint (a checkpoint directory, or a run directory's latest checkpoint)."""
    if scenario_id == "agent-vne":
        from edgeplace.algos.agentvne.registration import register_agentvne_policies

        register_agentvne_policies()  # gal-vne and agentvne, from checkpoints named by env vars
    if spec in baseline_names(scenario_id):
        return make_baseline(scenario_id, spec, seed=seed, env_config=env_config)
    label, _, path = spec.rpartition("=")
    if not Path(path).exists():
        raise FileNotFoundError(
            f"policy {spec!r}: neither a baseline of {scenario_id} ({baseline_names(scenario_id)}) "
            f"nor an existing checkpoint path"
        )
    return load_trained_policy(scenario_id, path, name=label or None, env_config=env_config)


def load_trained_policy(
    scenario_id: str,
    path: str | Path,
    *,
    name: str | None = None,
    env_config: Mapping[str, Any] | None = None,
) -> Policy:
    """The policy of a trained checkpoint (or run directory), in the form its scenario's algorithms
    save: RLModules (genai-chain), AgentVNE networks (agent-vne) or HISPER/HAPPO actors (dnn-inference)."""
    if scenario_id == "agent-vne":
        from edgeplace.algos.agentvne.policy import AgentVNEPolicy

        return AgentVNEPolicy.from_checkpoint(path, env_config=env_config, name=name or "agentvne")
    if scenario_id == "dnn-inference":
        from edgeplace.algos.hisper.policy import HISPERPolicy

        return HISPERPolicy.from_checkpoint(path, name=name)
    return ModulePolicy.from_checkpoint(path, name=name)
