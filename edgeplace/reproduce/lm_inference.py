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
from edgeplace.reproduce.lm_inference_paper import EVAL_SEEDS, RULES, SPEC_DRL_SLOTS
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

LEARNED = "learned"


@dataclass(frozen=True, kw_only=True)
class Budget(protocol.Budget):
    """How much of the paper's protocol to run. A *slot* is 30 s of simulated time; the learned
    hierarchy makes about 7 decisions per slot (scheduler and six deployers; the planner every 50)."""

    epochs: int
    """Planning epochs of an evaluation episode (the spec's reduced run: 12; full: 30)."""
    learned_slots: int
    """Training slots of the learned hierarchy over all its stages (split evenly between them)."""
    learned_options: Mapping[str, Any] = field(default_factory=dict)
    """The learned runs' ``algo_options`` (stages, reward mode, imitation warm start)."""
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
        if self.epochs < 2 or self.learned_slots < 1 or self.drl_phase_slots < 1:
            raise ValueError(f"budget {self.name}: need epochs >= 2, learned_slots and drl_phase_slots >= 1")
        if any(slots < 1 for slots in self.drl_slots):
            raise ValueError(f"budget {self.name}: drl_slots must be positive, got {self.drl_slots}")

    @property
    def learned_timesteps(self) -> int:
        """Decisions of a learned run: 7 per slot (the scheduler and six deployers)."""
        return DECISIONS_PER_SLOT * self.learned_slots

    def eval_env(self) -> dict[str, Any]:
        """The evaluation episode: ``epochs`` epochs, the first one warm-up, a 30-slot drain."""
        return {**self.env_options, "epochs": self.epochs}


DECISIONS_PER_SLOT = 7
#: The learned hierarchy's PPO settings in both budgets (spec d, "Training"), 8 envs per runner (a 200-slot
#: episode ends every few iterations, so its KPIs reach the metrics).
LEARNED_TRAIN = {"num_envs_per_env_runner": 8, "model": {"hidden": [256, 256]}}

BUDGETS = protocol.by_name(
    # ~40 min on 2 cores: imitation 2 min, PPO on 20k slots 8 min, DRL 20k and 200k slots ~3 and ~25
    # min, the evaluations 1 min. PPO from scratch does not learn the deployers within an hour here
    # (stages A and B of 40k slots each: T-bar_type ~390 s, a restart every slot), so the quick budget
    # starts from MA-rule's behaviour (imitated over 20k slots) and fine-tunes every module jointly
    # (stage C) with a smaller step.
    Budget(
        name="quick",
        training_seeds=(0,),
        epochs=12,
        learned_slots=20_000,
        learned_options={"imitate": "ma-rule", "stages": "C"},
        drl_slots=SPEC_DRL_SLOTS,
        train_options={**LEARNED_TRAIN, "lr": 1e-4, "entropy_coeff": 0.001},
    ),
    # The spec's staged training from scratch: stages A, B and C of 0.5 M slots each.
    Budget(
        name="paper",
        training_seeds=(0, 1, 2),
        epochs=30,
        learned_slots=1_500_000,
        drl_slots=SPEC_DRL_SLOTS,
        train_options=LEARNED_TRAIN,
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
                algo_options=dict(budget.learned_options),
                **{"minibatch_size": 256, **budget.train_options, **train},
            ),
            f"learned hierarchy, {budget.learned_slots:,} slots, {dict(budget.learned_options)}, seed {seed}",
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
            baseline_policies(SCENARIO_ID, RULES, seed=budget.first_seed, env_config=env),
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
            for name, policies in drl_policies(drl, env).items()
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
