"""``edgeplace reproduce hisper``: the HISPER paper's comparison on the dnn-inference scenario (spec h).

Steps (each resumable, outputs under ``out``):
1. Train HISPER, HASAC and HAPPO at 8 and 10 agents, one run per training seed
   (``runs/<algo>-a<N>-seed<s>``), each as a Ray task of one CPU: Ray runs as many at once as the machine
   (or the ``address`` cluster) has CPUs. Each run evaluates itself on the fixed seeds during training
   (the Fig. 7/8 curves, ``eval_*`` columns of its ``metrics.csv``).
2. Evaluate every trained run (``eval/<run>``) and the Heuristic, Greedy-sequential and Random baselines
   (``eval/baselines-a<N>``) on the evaluation seeds: one argmax episode per seed.
3. Fig. 9: time each policy's ``act_batch`` for growing numbers of requests (``decision_time.csv``).
4. ``report.md``, ``summary.json`` and PNGs (:mod:`edgeplace.reproduce.hisper_report`).

Budgets (:data:`BUDGETS`): ``paper`` is the spec's (a GPU job), ``quick`` fits an hour on 2 cores. What
each budget shows is in its ``report.md``: the claims table, with every claim that did not hold marked.
"""

from __future__ import annotations

import copy
import statistics
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from rich.console import Console

from edgeplace.algos.hisper.happo_settings import HAPPOSettings
from edgeplace.algos.hisper.settings import HISPERSettings
from edgeplace.algos.train_config import TrainConfig
from edgeplace.envs.base import EPISODE_INDEX_OPTION
from edgeplace.envs.dnn_inference import SCENARIO_ID, DnnInferenceConfig, DnnInferenceEnv
from edgeplace.evaluation.design import TRAINING_SEED
from edgeplace.policy import Policy
from edgeplace.reproduce import protocol
from edgeplace.reproduce.hisper_report import hisper_report
from edgeplace.reproduce.hisper_results import BASELINES, LEARNED, run_name
from edgeplace.reproduce.steps import (
    EvaluationStep,
    Policies,
    TrainedRun,
    TrainingStep,
    artefact,
    baseline_policies,
    baselines,
    cached_frame,
    evaluate_all,
    train_as_ray_tasks,
)
from edgeplace.torch_threads import torch_threads

AGENT_COUNTS = (8, 10)
#: The spec's evaluation streams: env seeds 10000 + i, i < 10 (the same for every algorithm).
EVAL_SEEDS = tuple(range(10_000, 10_010))
DECISION_TIME_FILE = "decision_time.csv"  # its digest: decision_time.digest.json
#: HAPPO's on-policy batch in env steps (spec g: 20 envs x 100 slots).
HAPPO_STEPS_PER_ITERATION = 2000

#: The spec's network widths (section f).
PAPER_MODEL = {
    "embed_dim": 32,
    "actor_hidden": (256, 256),
    "critic_hidden": (512, 512, 256, 256, 128),
    "lstm_hidden": 128,
}
#: Network widths of the quick budget: a quarter of the trunk and critic widths, half the LSTM.
QUICK_MODEL = {"embed_dim": 16, "actor_hidden": (64, 64), "critic_hidden": (128, 128), "lstm_hidden": 32}


@dataclass(frozen=True, kw_only=True)
class Budget(protocol.Budget):
    """How much of the paper's protocol to run; one training run per seed, algorithm and agent count.
    A *step* is one joint transition (one env slot with every agent acting); a training run's
    ``TrainConfig.timesteps`` is ``steps x agents`` agent decisions."""

    steps: int
    """Env steps per training run (HISPER, HASAC and HAPPO alike)."""
    model: dict[str, Any] = field(default_factory=dict)
    """Network widths (embeddings, actor trunk, critic MLP, LSTM) of every learned policy."""
    batch_size: int = 1000
    """Joint transitions per HISPER/HASAC update."""
    updates_per_iteration: int = 100
    """HISPER/HASAC updates after each ``steps_per_iteration`` env steps."""
    steps_per_iteration: int = 2000
    """HISPER/HASAC env steps per iteration (a multiple of the 20 envs)."""
    happo_steps_per_iteration: int = HAPPO_STEPS_PER_ITERATION
    """HAPPO's on-policy batch in env steps (the spec's 2,000 in every budget here; tests shrink it)."""
    prefill_steps: int = 90_000
    """Uniform-random transitions before HISPER/HASAC's first update (not counted)."""
    buffer_size: int = 370_000
    """Replay capacity in joint transitions."""
    eval_interval_steps: int = 2000
    """Env steps between the fixed-seed evaluations during training (evaluations run at the end of the
    iteration that reaches a due point)."""
    decision_requests: tuple[int, ...] = (40, 80, 160, 320, 640)
    """Request counts of the decision-time measurement (Fig. 9); each is rounded up to whole slots of
    every agent (multiples of 40 fit 8 and 10 agents exactly)."""
    checkpoint_replay: bool = False
    """Keep the replay buffer in checkpoints (a resume then continues exactly); off, a resumed run
    refills it with a new prefill."""
    checkpoint_every: int = 5
    """Iterations between checkpoints."""
    lr_scale: float = 1.0
    """Factor on the spec's actor and critic learning rates, for every learned algorithm."""
    env_options: dict[str, Any] = field(default_factory=dict)
    """Env config entries besides the agent count (none in the budgets here: the spec's env; tests
    shorten the horizon)."""

    def __post_init__(self) -> None:
        super().__post_init__()
        if not self.lr_scale > 0:
            raise ValueError(f"budget.lr_scale must be > 0, got {self.lr_scale}")
        for name in (
            "steps",
            "batch_size",
            "steps_per_iteration",
            "happo_steps_per_iteration",
            "buffer_size",
            "checkpoint_every",
        ):
            if getattr(self, name) < 1:
                raise ValueError(f"budget.{name} must be >= 1, got {getattr(self, name)}")
        if self.steps % self.steps_per_iteration:
            raise ValueError(
                f"budget.steps ({self.steps}) must be a multiple of steps_per_iteration "
                f"({self.steps_per_iteration})"
            )

    @property
    def iterations(self) -> int:
        """Training iterations per run."""
        return self.steps // self.steps_per_iteration

    @property
    def updates(self) -> int:
        """HISPER/HASAC updates per run."""
        return self.iterations * self.updates_per_iteration


BUDGETS = protocol.by_name(
    # The spec's algorithm, alpha, tau and discount with 3x its learning rates (a run makes 1,280 updates
    # instead of 30,000), 32 updates per 1,000 steps (the paper: 50) and quarter-width networks. Measured
    # on one core (torch 1 thread, the other core busy): 91 / 114 ms per HISPER update at 8 / 10 agents
    # (``bench/hisper_speed.py --budget quick``); the 18 runs sum to ~35 CPU-minutes: ~20 minutes with two
    # runs at once on 2 cores, plus ~2 minutes of evaluation and timing.
    Budget(
        name="quick",
        steps=40_000,
        training_seeds=(0, 1, 2),
        model=QUICK_MODEL,
        batch_size=256,
        updates_per_iteration=32,
        steps_per_iteration=1000,
        prefill_steps=10_000,
        buffer_size=50_000,
        eval_interval_steps=1000,
        checkpoint_every=10,
        lr_scale=3.0,
    ),
    # The spec's sizes and step counts (6e5 steps, 30,000 updates of 1,000 per run): ~1.7 s per update on
    # one CPU core at 8 agents, so ~14 h per run on a CPU: a GPU job (``num_gpus_per_learner``).
    Budget(
        name="paper",
        steps=600_000,
        training_seeds=(0, 1, 2),
        model=PAPER_MODEL,
        checkpoint_replay=True,
        checkpoint_every=25,
    ),
)


def env_config(agents: int, options: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The env config of ``agents`` agents in all (N OD + N MOT), plus ``options``."""
    return {**DnnInferenceConfig.for_agents(agents), **(options or {})}


def train_config(budget: Budget, algo: str, agents: int, seed: int, **train: Any) -> TrainConfig:
    """The TrainConfig of one run (``train``: further TrainConfig fields, e.g. the GPU share)."""
    if algo not in LEARNED:
        raise KeyError(f"unknown algorithm {algo!r}; the protocol trains {list(LEARNED)}")
    spec = HAPPOSettings() if algo == "happo" else HISPERSettings()
    options: dict[str, Any] = {
        "eval_interval_steps": budget.eval_interval_steps,
        "actor_lr": spec.actor_lr * budget.lr_scale,
        "critic_lr": spec.critic_lr * budget.lr_scale,
    }
    if algo == "happo":
        # on-policy: the budget's batch; it evaluates after the iterations that reach a due point
        options["steps_per_iteration"] = budget.happo_steps_per_iteration
        iterations = -(-budget.steps // budget.happo_steps_per_iteration)
    else:
        options |= {
            "steps_per_iteration": budget.steps_per_iteration,
            "updates_per_iteration": budget.updates_per_iteration,
            "prefill_steps": budget.prefill_steps,
            "buffer_size": budget.buffer_size,
            "train_batch_size_per_learner": budget.batch_size,
            "checkpoint_replay": budget.checkpoint_replay,
        }
        iterations = budget.iterations
    return TrainConfig(
        scenario=SCENARIO_ID,
        algo=algo,
        env_config=env_config(agents, budget.env_options),
        timesteps=budget.steps * agents,
        seed=seed,
        model=dict(budget.model),
        algo_options=options,
        checkpoint_every=min(budget.checkpoint_every, iterations),
        keep_checkpoints=1,
        **train,
    )


def learned_policy(run: TrainedRun, algo: str) -> Policy:
    """A trained run's argmax policy, named by its algorithm."""
    from edgeplace.algos.hisper.policy import HISPERPolicy  # torch: imported on use

    return HISPERPolicy.from_checkpoint(run.checkpoint, name=algo)


def training_steps(budget: Budget, **train: Any) -> list[TrainingStep]:
    """Every run, 8 agents first, seed-major (``train``: TrainConfig fields of every run)."""
    return [
        TrainingStep(
            run_name(algo, agents, seed),
            train_config(budget, algo, agents, seed, **train),
            f"{algo}, {agents} agents, seed {seed}",
        )
        for agents in AGENT_COUNTS
        for seed in budget.training_seeds
        for algo in LEARNED
    ]


def evaluations(agents: int, runs: Mapping[str, TrainedRun], budget: Budget) -> list[EvaluationStep]:
    """Every learned run (``eval/<run>``) and the baselines (``eval/baselines-a<N>``) on
    :data:`EVAL_SEEDS`, one episode each. Rows carry ``train_seed`` (-1 for the baselines)."""
    config = env_config(agents, budget.env_options)

    def learned(algo: str, seed: int) -> EvaluationStep:
        run = runs[run_name(algo, agents, seed)]
        policies = Policies(lambda: [learned_policy(run, algo)], {algo: run.source()})
        return EvaluationStep(run.name, config, policies, EVAL_SEEDS, 1, {TRAINING_SEED: seed})

    heuristics = baseline_policies(SCENARIO_ID, BASELINES, seed=0, env_config=config)
    return [
        *(learned(algo, seed) for algo in LEARNED for seed in budget.training_seeds),
        EvaluationStep(f"baselines-a{agents}", config, heuristics, EVAL_SEEDS, 1, {TRAINING_SEED: -1}),
    ]


def slot_batch(
    env_config: Mapping[str, Any], requests: int, seed: int = 0
) -> tuple[list[str], list[dict[str, np.ndarray]]]:
    """The first-slot observations of ``ceil(requests / agents)`` episodes (env seeds ``seed + i``) as
    one ``act_batch`` input: each slot's agents contiguous, in processing order."""
    ids: list[str] = []
    rows: list[dict[str, np.ndarray]] = []
    env = DnnInferenceEnv(dict(env_config))
    for index in range(-(-requests // len(env.possible_agents))):
        observations, _ = env.reset(seed=seed + index, options={EPISODE_INDEX_OPTION: 0})
        for agent in env.possible_agents:
            ids.append(agent)
            rows.append(copy.deepcopy(observations[agent]))  # arrays, and the action mask's tuple
    return ids, rows


def time_decisions(
    policies: Sequence[Policy],
    agents: int,
    env_config: Mapping[str, Any],
    requests: Sequence[int],
    repeats: int = 5,
) -> list[tuple[int, str, int, float]]:
    """Fig. 9: median wall seconds of one ``act_batch`` call per policy and request count (after a
    warm-up call) on envs of ``agents`` agents built from ``env_config``. Rows: (agents, policy, requests
    rounded up to whole slots, seconds)."""
    rows = []
    for count in requests:
        ids, observations = slot_batch(env_config, count)
        for policy in policies:
            policy.act_batch(ids, observations)
            seconds = []
            for _ in range(repeats):
                start = time.perf_counter()
                policy.act_batch(ids, observations)
                seconds.append(time.perf_counter() - start)
            rows.append((agents, policy.name, len(ids), statistics.median(seconds)))
    return rows


def timed_runs(runs: Mapping[str, TrainedRun], budget: Budget, agents: int) -> dict[str, TrainedRun]:
    """The run of each algorithm that Fig. 9 times at ``agents`` agents: its first-seed run."""
    return {algo: runs[run_name(algo, agents, budget.first_seed)] for algo in LEARNED}


def decision_times(runs: Mapping[str, TrainedRun], budget: Budget) -> pd.DataFrame:
    """Fig. 9's rows (agents, policy, requests, seconds) at ``budget.decision_requests``: each
    algorithm's first-seed run, then the baselines, per agent count."""
    rows = []
    for agents in AGENT_COUNTS:
        config = env_config(agents, budget.env_options)
        learned = [learned_policy(run, algo) for algo, run in timed_runs(runs, budget, agents).items()]
        policies = [*learned, *baselines(SCENARIO_ID, BASELINES, seed=0, env_config=config)]
        rows += time_decisions(policies, agents, config, budget.decision_requests)
    return pd.DataFrame(rows, columns=["agents", "policy", "requests", "seconds"])


@dataclass(frozen=True)
class HisperResults(protocol.Results[Budget]):
    """The evaluations the report draws on (runs: ``<algo>-a<N>-seed<s>``)."""

    evaluations: Mapping[int, pd.DataFrame]
    """Agent count -> the final evaluation, one row per (policy, train_seed, seed, episode);
    ``train_seed`` is -1 for the baselines."""
    decision_time: pd.DataFrame
    """Rows (agents, policy, requests, seconds) of Fig. 9."""


def evaluate(budget: Budget, runs: Mapping[str, TrainedRun], out: Path, console: Console) -> HisperResults:
    """The final evaluations, then Fig. 9's decision times (``decision_time.csv``, recomputed when
    the budget or a timed checkpoint changed)."""
    with torch_threads(1):  # the driver's evaluation and timing act in small batches
        frames = {}
        for agents in AGENT_COUNTS:
            console.print(f"[bold]evaluation[/]: {agents} agents, {len(EVAL_SEEDS)} seeds")
            steps = evaluations(agents, runs, budget)
            frames[agents] = evaluate_all(steps, out, SCENARIO_ID, budget, console)
        console.print("[bold]Fig. 9[/]: decision time vs requests")
        timed = {
            agents: {algo: run.source() for algo, run in timed_runs(runs, budget, agents).items()}
            for agents in AGENT_COUNTS
        }
        provenance = artefact("table", "decision_time", budget=budget, runs=timed, baselines=BASELINES)
        compute = partial(decision_times, runs, budget)
        decision = cached_frame(out / DECISION_TIME_FILE, provenance, compute, console)
    return HisperResults(budget=budget, runs=runs, evaluations=frames, decision_time=decision)


#: HISPER's comparison: every run as a Ray task, then the evaluations and Fig. 9's timing.
PROTOCOL = protocol.Protocol(BUDGETS, training_steps, evaluate, hisper_report, train=train_as_ray_tasks)


def run_hisper_reproduction(
    out: Path,
    *,
    budget: str | Budget = "quick",
    address: str | None = None,
    num_gpus_per_learner: float = 0.0,
    console: Console | None = None,
) -> Path:
    """Run the protocol at ``budget`` (a name of :data:`BUDGETS`, or a Budget) into ``out`` (resumable);
    returns the report path."""
    return PROTOCOL.run(
        out, budget, address=address, num_gpus_per_learner=num_gpus_per_learner, console=console
    )
