"""``edgeplace reproduce lm-inference``: the multi-agentic LM-inference paper's comparison on the
lm-inference scenario (spec f).

Steps (each resumable, outputs under ``out``):
1. Train the ``learned`` hierarchy, staged A -> B -> C, once per training seed (``runs/learned-seed<s>``).
2. Train the hierarchical DRL baseline (MAPPO upper tier, DQN lower tier, alternating phases) at each of
   the budget's DRL budgets (``runs/drl-<slots>``).
3. Evaluate every rule controller (RF, RR, RL, AL, LL, MAL, MA-rule), the learned runs and the DRL runs
   on the same 5 seeds: one episode of ``epochs`` planning epochs (plus the drain inside it) per seed,
   measured over the cohorts after the first epoch; each episode also records J per epoch (Fig. 7).
4. ``report.md``, ``summary.json`` and the PNGs (:mod:`edgeplace.reproduce.lm_inference_report`).

Budgets (:data:`BUDGETS`): ``quick`` (12 epochs, the reduced run; fits an hour on 2 cores) and ``paper``
(30 epochs, the spec's 0.5 M slots per training stage and both DRL budgets: a cluster job).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
from rich.console import Console

from edgeplace.algos.lm_inference.policy import LearnedPolicy
from edgeplace.algos.train_config import TrainConfig
from edgeplace.envs.lm_inference import SCENARIO_ID
from edgeplace.evaluation.design import TRAINING_SEED
from edgeplace.evaluation.statistics import POLICY
from edgeplace.reproduce import protocol
from edgeplace.reproduce.lm_inference_drl import DrlRun, drl_policies, train_drl_runs
from edgeplace.reproduce.lm_inference_paper import EVAL_SEEDS, SPEC_DRL_SLOTS
from edgeplace.reproduce.lm_inference_report import epoch_objectives, lm_inference_report
from edgeplace.reproduce.steps import (
    EvaluationStep,
    Policies,
    TrainedRun,
    TrainingStep,
    baseline_policies,
    evaluate_all,
    train_in_order,
)

#: The rule controllers of spec e and MA's rule backend, in the report's order.
RULES = ("rf", "rr", "rl", "al", "ll", "mal", "ma-rule")
LEARNED = "learned"


@dataclass(frozen=True, kw_only=True)
class Budget(protocol.Budget):
    """How much of the paper's protocol to run. A *slot* is 30 s of simulated time; the learned
    hierarchy makes about 7 decisions per slot (scheduler and six deployers; the planner every 50)."""

    epochs: int
    """Planning epochs of an evaluation episode (the spec's reduced run: 12; full: 30)."""
    stage_slots: int
    """Training slots per stage of the learned hierarchy (A, B and C each)."""
    drl_slots: tuple[int, ...]
    """The DRL baseline's training budgets, in slots."""
    drl_phase_slots: int = 2000
    """Slots per DRL phase (one tier trains while the other is frozen)."""
    drl_options: Mapping[str, Any] = field(default_factory=dict)
    """The DRL baseline's settings (:class:`~edgeplace.algos.lm_inference.drl.settings.DrlSettings`)
    over the spec's."""
    train_options: Mapping[str, Any] = field(default_factory=dict)
    """TrainConfig fields of the learned runs (batch, epochs, model), over the scenario's defaults."""
    env_options: Mapping[str, Any] = field(default_factory=dict)
    """Env config entries of every training and evaluation env besides the episode length (tests
    shorten epochs)."""

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.epochs < 2 or self.stage_slots < 1 or self.drl_phase_slots < 1:
            raise ValueError(f"budget {self.name}: need epochs >= 2, stage_slots and drl_phase_slots >= 1")
        if any(slots < 1 for slots in self.drl_slots):
            raise ValueError(f"budget {self.name}: drl_slots must be positive, got {self.drl_slots}")

    @property
    def learned_timesteps(self) -> int:
        """Decisions of a staged learned run: 7 per slot for each of its 3 stages."""
        return 3 * 7 * self.stage_slots

    def eval_env(self) -> dict[str, Any]:
        """The evaluation episode: ``epochs`` epochs, the first one warm-up, a 30-slot drain."""
        return {**self.env_options, "epochs": self.epochs}


BUDGETS = protocol.by_name(
    Budget(
        name="quick",
        training_seeds=(0,),
        epochs=12,
        stage_slots=15_000,
        drl_slots=(20_000,),
        train_options={"num_epochs": 5, "minibatch_size": 512, "model": {"hidden": [128, 128]}},
    ),
    Budget(
        name="paper",
        training_seeds=(0, 1, 2),
        epochs=30,
        stage_slots=500_000,
        drl_slots=SPEC_DRL_SLOTS,
        train_options={"model": {"hidden": [256, 256]}},
    ),
)


@dataclass(frozen=True)
class LmInferenceResults(protocol.Results[Budget]):
    """One row per (policy, seed, episode) of the evaluation, and the DRL runs by budget in slots."""

    evaluation: pd.DataFrame
    drl: Mapping[int, DrlRun]


def run_name(seed: int) -> str:
    return f"{LEARNED}-seed{seed}"


def training_steps(budget: Budget, **train: Any) -> list[TrainingStep]:
    """The staged learned run of every training seed (``train``: TrainConfig fields of every run)."""
    return [
        TrainingStep(
            run_name(seed),
            TrainConfig(
                scenario=SCENARIO_ID,
                algo=LEARNED,
                seed=seed,
                timesteps=budget.learned_timesteps,
                env_config=dict(budget.env_options),
                **{"minibatch_size": 256, **budget.train_options, **train},
            ),
            f"learned hierarchy, stages A-B-C of {budget.stage_slots:,} slots, seed {seed}",
        )
        for seed in budget.training_seeds
    ]


def evaluate(
    budget: Budget, runs: Mapping[str, TrainedRun], out: Path, console: Console, *, drl: Mapping[int, DrlRun]
) -> LmInferenceResults:
    """Every controller on the same seeds (see the module docstring)."""
    env = budget.eval_env()

    def learned(run: TrainedRun) -> Policies:
        return Policies(
            lambda: [LearnedPolicy.from_checkpoint(run.checkpoint, name=LEARNED)],
            {"checkpoint": run.source()},
        )

    steps = [
        EvaluationStep(
            "rules",
            env,
            baseline_policies(SCENARIO_ID, RULES, seed=budget.first_seed),
            EVAL_SEEDS,
            1,
            info_columns=epoch_objectives,
        ),
        *(
            EvaluationStep(
                run_name(seed),
                env,
                learned(runs[run_name(seed)]),
                EVAL_SEEDS,
                1,
                {POLICY: LEARNED, TRAINING_SEED: seed},
                info_columns=epoch_objectives,
            )
            for seed in budget.training_seeds
        ),
        *(
            EvaluationStep(name, env, policies, EVAL_SEEDS, 1, info_columns=epoch_objectives)
            for name, policies in drl_policies(drl).items()
        ),
    ]
    console.print(f"[bold]evaluating[/] {len(steps)} groups of policies on seeds {list(EVAL_SEEDS)}")
    frame = evaluate_all(steps, out, SCENARIO_ID, budget, console)
    return LmInferenceResults(budget=budget, runs=runs, evaluation=frame, drl=drl)


def run_lm_inference_reproduction(
    out: Path,
    *,
    budget: str | Budget = "quick",
    address: str | None = None,
    num_gpus_per_learner: float = 0.0,
    console: Console | None = None,
) -> Path:
    """Run the protocol at ``budget`` into ``out``; returns the report path."""
    drl: dict[int, DrlRun] = {}
    chosen = protocol.lookup_budget(BUDGETS, budget)

    def train(
        steps: Sequence[TrainingStep], out: Path, console: Console, gpus: float
    ) -> dict[str, TrainedRun]:
        runs = train_in_order(steps, out, console, gpus)
        drl.update(train_drl_runs(chosen, out, console))
        return runs

    def evaluations(budget: Budget, runs: Mapping[str, TrainedRun], out: Path, console: Console):
        return evaluate(budget, runs, out, console, drl=drl)

    return protocol.Protocol(BUDGETS, training_steps, evaluations, lm_inference_report, train=train).run(
        out, chosen, address=address, num_gpus_per_learner=num_gpus_per_learner, console=console
    )
