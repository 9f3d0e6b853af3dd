"""``edgeplace reproduce llm-mappo``: the LLM-MAPPO paper's experiments on the metaverse-dag scenario
(papers/llm-mappo.md, section g).

Steps (each resumable, outputs under ``out``):
1. Table 3: the ``memory`` planner's prediction error on held-out windows for every way of training it,
   with and without its memory (``planner/``, :mod:`edgeplace.reproduce.llm_mappo_planner`).
2. Train every method of :data:`~edgeplace.reproduce.llm_mappo_paper.METHODS` whose algorithm is
   registered (``runs/<method>-seed<s>``): LLM-MAPPO (each run bootstraps its planner's memory first), the
   baselines and the ablations, once per training seed, on the same env.
3. Evaluate them and the heuristics on the same 5 seeds x ``eval_episodes`` episodes, and under each
   Fig. 7 disturbance (5 % and 25 % of the ES failing, the dense zone's rates x3 for 20 s) and Fig. 5 load
   level (policies trained on the diurnal workload; the paper trains per level): every method in its
   own env config (LLM-MAPPO with its planner; the planner never changes the request streams, so the
   streams are the same for every method and the tests are paired).
4. ``report.md``, ``summary.json`` and the PNGs (:mod:`edgeplace.reproduce.llm_mappo_report`): Table 4's
   latency ordering and ratios against RSPPO, Fig. 9's ablation ordering, the convergence episodes, and
   Table 3.

Budgets (:data:`BUDGETS`): ``quick`` (the ``small`` preset, 150 training episodes per run at reduced
widths, one training seed, loads 50 and 300) and ``paper`` (300 episodes at the paper's widths, 3 seeds,
loads 50 ... 300).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
from rich.console import Console

from edgeplace.algos.checkpoints import read_metadata
from edgeplace.algos.train_config import TrainConfig
from edgeplace.envs.metaverse_dag import SCENARIO_ID, MetaverseDagConfig
from edgeplace.evaluation.design import TRAINING_SEED
from edgeplace.evaluation.statistics import POLICY
from edgeplace.reproduce import protocol
from edgeplace.reproduce.llm_mappo_paper import EVAL_SEEDS, HEURISTICS, METHODS
from edgeplace.reproduce.llm_mappo_planner import PlannerMseSettings, planner_mse_table
from edgeplace.reproduce.steps import (
    EvaluationStep,
    Policies,
    TrainedRun,
    TrainingStep,
    baseline_policies,
    evaluate_all,
    train_in_order,
)
from edgeplace.scenarios import get_scenario

PLANNER_DIR = "planner"
CONDITION, NOMINAL, SURGE, LOAD_PREFIX, FAIL_PREFIX = "condition", "nominal", "surge", "load-", "fail-"
"""The evaluation frame's column naming a row's condition: the nominal env, a Fig. 7 disturbance
(``fail-5%``, ``surge``) or a Fig. 5 load level (``load-50``)."""


@dataclass(frozen=True, kw_only=True)
class Budget(protocol.Budget):
    """How much of the paper's protocol to run. An episode is one 600 s planning window of 60 steps."""

    training_episodes: int
    """Training episodes per run (the spec's 300 on ``small``)."""
    eval_episodes: int
    """Evaluation episodes per seed."""
    memory_windows: int
    """Bootstrap windows of each LLM-MAPPO run's planner."""
    planner: PlannerMseSettings
    """The Table 3 experiment's sizes."""
    train_options: Mapping[str, Any] = field(default_factory=dict)
    """TrainConfig fields of every PPO run (batch, epochs, model widths) over the algorithms' defaults."""
    dqn_options: Mapping[str, Any] = field(default_factory=dict)
    """TrainConfig fields of the value-based runs (CROMADQN: model widths, algo_options)."""
    env_options: Mapping[str, Any] = field(default_factory=dict)
    """Env config entries of every training and evaluation env."""
    failure_fractions: tuple[float, ...] = (0.05, 0.25)
    """Fig. 7a: shares of the edge servers that fail at ``disturbance_step``."""
    surge_factor: float = 3.0
    """Fig. 7b: the dense zone's rates times this for 20 s from ``disturbance_step``."""
    disturbance_step: int = 20
    loads: tuple[float, ...] = (50.0, 300.0)
    """Fig. 5: mean request rates per ES (req/s) of the load sweep (no diurnal curve, hotspots or bursts)."""
    condition_episodes: int = 4
    """Evaluation episodes per seed of each Fig. 5 and Fig. 7 condition."""

    def conditions(self) -> dict[str, dict[str, Any]]:
        """The env settings of every non-nominal condition by name: ``fail-5%`` ..., ``surge`` (Fig. 7)
        and ``load-50`` ... (Fig. 5)."""
        at = {"fail_step": self.disturbance_step}
        found = {f"{FAIL_PREFIX}{f:.0%}": {"fail_fraction": f, **at} for f in self.failure_fractions}
        found[SURGE] = {
            "surge_factor": self.surge_factor,
            "surge_step": self.disturbance_step,
            "surge_steps": 2,
        }
        return found | {f"{LOAD_PREFIX}{load:g}": {"load": load} for load in self.loads}

    def __post_init__(self) -> None:
        super().__post_init__()
        if min(self.training_episodes, self.eval_episodes, self.memory_windows) < 1:
            raise ValueError(f"budget {self.name}: episodes and memory windows must be >= 1")

    def timesteps(self) -> int:
        """Decisions of a run: episodes x steps x agents."""
        env = MetaverseDagConfig.from_env_config(dict(self.env_options))
        return self.training_episodes * env.horizon * env.num_regions


#: Widths for 2 cores: the paper's module at a quarter of its width (the learner dominates otherwise).
QUICK_MODEL = {
    "node_width": 64,
    "slot_width": 32,
    "plan_width": 16,
    "gru_size": 64,
    "actor_hidden": [64, 128, 64],
    "pointer_width": 32,
    "route_width": 32,
    "critic_hidden": [128, 256, 128],
}
QUICK_DQN_MODEL = {
    "node_width": 64,
    "slot_width": 32,
    "trunk_hidden": [64, 128, 64],
    "value_hidden": 32,
    "pointer_width": 32,
    "route_width": 32,
}
BUDGETS = protocol.by_name(
    Budget(
        name="quick",
        training_seeds=(0,),
        training_episodes=150,
        eval_episodes=20,
        memory_windows=800,
        planner=PlannerMseSettings(windows=1000, held_out_windows=200, online_windows=200, epochs=20),
        train_options={"model": QUICK_MODEL, "num_epochs": 5, "num_envs_per_env_runner": 16},
        dqn_options={"model": QUICK_DQN_MODEL, "num_envs_per_env_runner": 16},
    ),
    Budget(
        name="paper",
        training_seeds=(0, 1, 2),
        training_episodes=300,
        eval_episodes=20,
        memory_windows=2000,
        planner=PlannerMseSettings(windows=2000, held_out_windows=500, online_windows=500, epochs=40),
        train_options={"num_envs_per_env_runner": 16},
        dqn_options={"num_envs_per_env_runner": 16},
        loads=(50.0, 100.0, 150.0, 200.0, 250.0, 300.0),
    ),
)


@dataclass(frozen=True)
class LlmMappoResults(protocol.Results[Budget]):
    """One row per (method, seed, episode) of the evaluation, and Table 3."""

    evaluation: pd.DataFrame
    planner_mse: pd.DataFrame


def available_methods() -> list[str]:
    """The methods whose algorithm is registered for the scenario, in the paper's order."""
    algorithms = get_scenario(SCENARIO_ID).algorithms
    return [name for name, method in METHODS.items() if method.algo in algorithms]


def run_name(method: str, seed: int) -> str:
    return f"{method}-seed{seed}"


def training_steps(budget: Budget, **train: Any) -> list[TrainingStep]:
    """Every available method once per training seed (``train``: TrainConfig fields of every run)."""
    steps = []
    for method_id in available_methods():
        method = METHODS[method_id]
        spec = get_scenario(SCENARIO_ID).algorithm(method.algo)
        fields = dict(budget.dqn_options if method.value_based else budget.train_options)
        options = {**fields.pop("algo_options", {}), **method.algo_options}
        if method.algo == "llm-mappo":
            options["memory_windows"] = budget.memory_windows
        for seed in budget.training_seeds:
            config = TrainConfig(
                scenario=SCENARIO_ID,
                algo=method.algo,
                seed=seed,
                timesteps=budget.timesteps(),
                env_config={**budget.env_options, **method.env},
                algo_options=options,
                **{**spec.train_defaults, **fields, **train},
            )
            label = f"{method.label}, {budget.training_episodes} episodes, seed {seed}"
            steps.append(TrainingStep(run_name(method_id, seed), config, label))
    return steps


def _method_policies(run: TrainedRun, method: str) -> Policies:
    def build() -> list:
        return [get_scenario(SCENARIO_ID).policy_from_checkpoint(run.checkpoint, name=method)]

    return Policies(build, {"checkpoint": run.source()})


def evaluate(budget: Budget, runs: Mapping[str, TrainedRun], out: Path, console: Console) -> LlmMappoResults:
    """Table 3, then every method and heuristic on the same seeds, nominal and under each Fig. 5 load and
    Fig. 7 disturbance (see the module docstring)."""
    planner_mse = planner_mse_table(out / PLANNER_DIR, budget.planner, dict(budget.env_options), console)
    groups: list[tuple[str, dict[str, Any], Policies, dict[str, Any]]] = []
    env = dict(budget.env_options)
    heuristics = baseline_policies(SCENARIO_ID, HEURISTICS, seed=budget.first_seed, env_config=env)
    groups.append(("heuristics", env, heuristics, {}))
    for method in available_methods():
        for seed in budget.training_seeds:
            run = runs[run_name(method, seed)]
            run_env = {**read_metadata(run.checkpoint)["env_config"], **env}
            tags = {POLICY: method, TRAINING_SEED: seed}
            groups.append((run_name(method, seed), run_env, _method_policies(run, method), tags))
    steps = [
        EvaluationStep(
            name, group_env, policies, EVAL_SEEDS, budget.eval_episodes, {**tags, CONDITION: NOMINAL}
        )
        for name, group_env, policies, tags in groups
    ]
    steps += [
        EvaluationStep(
            f"{name}-{condition}",
            {**group_env, **settings},
            policies,
            EVAL_SEEDS,
            budget.condition_episodes,
            {**tags, CONDITION: condition},
        )
        for condition, settings in budget.conditions().items()
        for name, group_env, policies, tags in groups
    ]
    console.print(f"[bold]evaluating[/] {len(steps)} groups of policies on seeds {list(EVAL_SEEDS)}")
    frame = evaluate_all(steps, out, SCENARIO_ID, budget, console)
    return LlmMappoResults(budget=budget, runs=runs, evaluation=frame, planner_mse=planner_mse)


def run_llm_mappo_reproduction(
    out: Path,
    *,
    budget: str | Budget = "quick",
    address: str | None = None,
    num_gpus_per_learner: float = 0.0,
    console: Console | None = None,
) -> Path:
    """Run the protocol at ``budget`` into ``out``; returns the report path."""
    from edgeplace.reproduce.llm_mappo_report import llm_mappo_report

    return protocol.Protocol(BUDGETS, training_steps, evaluate, llm_mappo_report, train=train_in_order).run(
        out, budget, address=address, num_gpus_per_learner=num_gpus_per_learner, console=console
    )
