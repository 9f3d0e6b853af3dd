"""Training of the hierarchical DRL baseline (spec e, "Hierarchical DRL").

The tiers alternate in phases of ``phase_slots`` slots, the lower tier (DQN) first, then the upper
(MAPPO), and so on: stock RLlib cannot mix algorithms in one run, so each tier is its own Algorithm,
training on tier envs in which the other tier acts greedily from that Algorithm's current modules
(frozen for the phase). After every phase both tiers are checkpointed atomically with the curve and
the run state (:mod:`.run_dir`); a rerun with ``resume=True`` continues after the last finished phase.

Example, with a rich progress bar::

    with training_progress(budget) as update:
        run = train_drl(env_config, run_dir, budget_slots=budget, on_phase=update)
"""

from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from ray.rllib.utils.metrics import ENV_RUNNER_RESULTS, NUM_ENV_STEPS_SAMPLED

from edgeplace.algos.lm_inference.drl.run_dir import (
    CHECKPOINT_DIR,
    CurveColumn,
    RunState,
    clear_run,
    commit_phase,
    phase_name,
    read_curve,
    read_state,
)
from edgeplace.algos.lm_inference.drl.settings import DrlSettings
from edgeplace.algos.lm_inference.drl.tier_algos import TierAlgorithms, pop_finished, set_frozen
from edgeplace.envs.lm_inference.config import LmInferenceConfig
from edgeplace.envs.lm_inference.drl import Tier
from edgeplace.envs.lm_inference.env import EpisodeKpi
from edgeplace.envs.lm_inference.kpis import LmKpi

FIRST_TIER = Tier.LOWER
"""The tier of phase 0 (bottom-up, as the learned hierarchy's staged training)."""


@dataclass(frozen=True)
class DrlRun:
    """What a training call leaves: the curve (one row per finished phase, :class:`CurveColumn`), the
    latest checkpoint (both tiers) and how far training got."""

    run_dir: Path
    curve: pd.DataFrame
    checkpoint: Path | None
    phases: int
    slots: int

    def tier_checkpoint(self, tier: Tier) -> Path | None:
        """The RLlib checkpoint (``Algorithm.save_to_path``) of ``tier`` in :attr:`checkpoint`."""
        return None if self.checkpoint is None else self.checkpoint / tier.value


def phase_tier(phase: int) -> Tier:
    """The tier trained in ``phase``."""
    return FIRST_TIER if phase % 2 == 0 else FIRST_TIER.other


def _train_phase(algos: TierAlgorithms, tier: Tier, slots: int) -> tuple[int, list[dict[str, float]]]:
    """Train ``tier`` for at least ``slots`` slots against the other tier's current greedy modules;
    returns the slots sampled and the KPIs of the episodes finished meanwhile."""
    algo = algos.algo(tier)
    set_frozen(algo, algos.greedy(tier.other))
    pop_finished(algo)  # episodes finished before this phase belong to earlier ones
    sampled = 0
    while sampled < slots:
        steps = int(algo.train()[ENV_RUNNER_RESULTS].get(NUM_ENV_STEPS_SAMPLED, 0))
        if steps <= 0:
            raise RuntimeError(f"drl: the {tier} tier's iteration sampled no slots")
        sampled += steps
    return sampled, pop_finished(algo)


def _check_lengths(budget_slots: int, phase_slots: int, settings: DrlSettings) -> None:
    """Raise ValueError unless the budget and the phase are >= 1 and a phase is whole iterations."""
    if budget_slots < 1 or phase_slots < 1:
        raise ValueError(f"drl: budget_slots and phase_slots must be >= 1, got {budget_slots}, {phase_slots}")
    iterations = {
        "ppo_batch_slots": settings.ppo_batch_slots,
        "num_envs x dqn_fragment_slots": settings.num_envs * settings.dqn_fragment_slots,
    }
    uneven = {name: size for name, size in iterations.items() if phase_slots % size}
    if uneven:
        raise ValueError(f"drl: phase_slots ({phase_slots}) must be a multiple of {uneven}")


def _resume_state(run_dir: Path, resume: bool, seed: int, env_config: dict[str, Any]) -> RunState | None:
    """The state to continue from (None: from scratch, after clearing the run when not resuming).

    Raises:
        ValueError: the run to resume was trained with another seed or env config.
    """
    if not resume:
        clear_run(run_dir)
        return None
    state = read_state(run_dir)
    if state is not None and (state.seed != seed or state.env_config != env_config):
        raise ValueError(
            f"{run_dir}: the run was trained with seed {state.seed} and env_config {state.env_config}, "
            f"not seed {seed} and {env_config}; pass resume=False or another run_dir"
        )
    return state


def _curve(rows: list[dict]) -> pd.DataFrame:
    """Shapes: phases x :class:`CurveColumn`."""
    return pd.DataFrame(rows, columns=[str(c) for c in CurveColumn])


def _curve_row(phase: int, tier: Tier, slots: int, sampled: int, episodes: list[dict], wall_s: float) -> dict:
    def mean(key: str) -> float:
        return float(np.mean([row[key] for row in episodes])) if episodes else float("nan")

    return {
        CurveColumn.PHASE: phase,
        CurveColumn.TIER: tier.value,
        CurveColumn.SLOTS: slots,
        CurveColumn.PHASE_SLOTS: sampled,
        CurveColumn.EPISODES: len(episodes),
        CurveColumn.COHORT_REWARD: mean(EpisodeKpi.COHORT_REWARD),
        CurveColumn.OBJECTIVE: mean(LmKpi.OBJECTIVE),
        CurveColumn.WALL_S: wall_s,
    }


def train_drl(
    env_config: Mapping[str, Any] | LmInferenceConfig | None,
    run_dir: str | Path,
    *,
    budget_slots: int,
    phase_slots: int = 2000,
    seed: int = 0,
    resume: bool = True,
    on_phase: Callable[[dict[str, Any]], None] | None = None,
    settings: Mapping[str, Any] | DrlSettings | None = None,
) -> DrlRun:
    """Train both tiers on ``env_config`` (the main env's) until ``budget_slots`` slots, in phases.

    Args:
        run_dir: where the checkpoints, ``curve.csv`` and ``state.json`` go.
        budget_slots: slots to train, both tiers together (paper: 20k and 200k).
        phase_slots: slots per phase, a multiple of both tiers' iteration (``ppo_batch_slots`` and
            ``num_envs`` x ``dqn_fragment_slots``); the last phase may be shorter and then ends with its
            first whole iteration past the budget.
        seed: seeds both algorithms and their envs.
        resume: continue after the run's last finished phase (False: start afresh in ``run_dir``).
        on_phase: called after each phase with its curve row plus ``iteration`` (phases done),
            ``timesteps`` (slots done) and ``episode_return_mean`` (the mean cohort reward), e.g.
            :func:`edgeplace.progress.training_progress`'s callback.
        settings: :class:`DrlSettings` or its mapping.

    Raises:
        ValueError: a budget or phase length < 1, a phase length that is not a multiple of both tiers'
            iterations, or a run to resume with another seed or env config.
    """
    lm = LmInferenceConfig.from_env_config(env_config)
    settings = DrlSettings.from_mapping(settings)
    _check_lengths(budget_slots, phase_slots, settings)
    run_dir = Path(run_dir)
    lm_dict = json.loads(json.dumps(dataclasses.asdict(lm)))  # as state.json holds it
    state = _resume_state(run_dir, resume, seed, lm_dict)
    phases, slots = (state.phases, state.slots) if state else (0, 0)
    rows = read_curve(run_dir, phases).to_dict("records")
    checkpoint = run_dir / CHECKPOINT_DIR / state.checkpoint if state else None
    if slots >= budget_slots:
        return DrlRun(run_dir, _curve(rows), checkpoint, phases, slots)
    algos = TierAlgorithms.build(lm, settings, seed)
    try:
        if checkpoint is not None:
            algos.restore(checkpoint)
        while slots < budget_slots:
            tier = phase_tier(phases)
            start = time.perf_counter()
            sampled, episodes = _train_phase(algos, tier, min(phase_slots, budget_slots - slots))
            slots += sampled
            row = _curve_row(phases, tier, slots, sampled, episodes, time.perf_counter() - start)
            rows.append(row)
            phases += 1
            state = RunState(phases, slots, phase_name(phases - 1), seed, lm_dict)
            metadata = {
                **vars(state),
                "settings": settings.to_dict(),
                "agent_modules": {t.value: dict(algos.modules(t)) for t in Tier},
            }
            checkpoint = commit_phase(run_dir, algos.save, metadata, _curve(rows), state)
            if on_phase is not None:
                progress = {
                    "iteration": phases,
                    "timesteps": slots,
                    "episode_return_mean": row[CurveColumn.COHORT_REWARD],
                }
                on_phase({**{str(k): v for k, v in row.items()}, **progress})
    finally:
        algos.stop()
    return DrlRun(run_dir, _curve(rows), checkpoint, phases, slots)
