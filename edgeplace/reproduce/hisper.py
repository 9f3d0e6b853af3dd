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

Budgets (:data:`BUDGETS`):

- ``paper``: the spec's sizes and step counts (6e5 steps, 30,000 updates of 1,000 per run). ~1.7 s per
  update on one CPU core at 8 agents, so ~14 h per run on a CPU: a GPU job (``num_gpus_per_learner``).
- ``quick``: the spec's algorithm and its alpha, tau and discount, with 3x its learning rates (a run
  makes 1,280 updates instead of 30,000), smaller networks (embeddings 16, actor 64-64, critic 128-128,
  LSTM 32), batch 256, 32 updates per 1,000 steps (the paper: 50), a 10,000-step prefill and 40,000
  steps per run, evaluated every 1,000 steps on the 10 fixed seeds. Measured on one core (torch 1
  thread, the other core busy): 91 / 114 ms per HISPER update at 8 / 10 agents
  (``bench/hisper_speed.py --budget quick``); the 18 runs sum to ~35 CPU-minutes: ~20 minutes with two
  runs at once on 2 cores, plus ~2 minutes of evaluation and timing. What each budget shows is in its
  ``report.md``: the claims table, with every claim that did not hold marked.
"""

from __future__ import annotations

import csv
import io
import statistics
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from rich.console import Console

from edgeplace.algos.baselines import make_baseline
from edgeplace.algos.hisper.happo_settings import HAPPOSettings
from edgeplace.algos.hisper.settings import HISPERSettings
from edgeplace.algos.train_config import TrainConfig
from edgeplace.atomic_io import write_text_atomic
from edgeplace.envs.base import EPISODE_INDEX_OPTION
from edgeplace.envs.dnn_inference import DnnInferenceConfig, DnnInferenceEnv
from edgeplace.policy import Policy
from edgeplace.reproduce.steps import TrainedRun, TrainingStep, ensure_evaluated, ensure_trained
from edgeplace.runtime import ensure_ray
from edgeplace.torch_threads import torch_threads

SCENARIO = "dnn-inference"
LEARNED = ("hisper", "hasac", "happo")
BASELINES = ("heuristic", "greedy-sequential", "random")
AGENT_COUNTS = (8, 10)
#: The spec's evaluation streams: env seeds 10000 + i, i < 10 (the same for every algorithm).
EVAL_SEEDS = tuple(range(10_000, 10_010))
DECISION_TIME_FILE = "decision_time.csv"
#: HAPPO's on-policy batch in env steps (spec g: 20 envs x 100 slots).
HAPPO_STEPS_PER_ITERATION = 2000
#: Columns of the decision-time table (Fig. 9).
DECISION_COLUMNS = ("agents", "policy", "requests", "seconds")

#: The spec's network widths (section f).
PAPER_MODEL = {
    "embed_dim": 32,
    "actor_hidden": (256, 256),
    "critic_hidden": (512, 512, 256, 256, 128),
    "lstm_hidden": 128,
}
#: Network widths of the quick budget: a quarter of the trunk and critic widths, half the LSTM.
QUICK_MODEL = {"embed_dim": 16, "actor_hidden": (64, 64), "critic_hidden": (128, 128), "lstm_hidden": 32}


@dataclass(frozen=True)
class Budget:
    """How much of the paper's protocol to run.

    A *step* is one joint transition (one env slot with every agent acting); a training run's
    ``TrainConfig.timesteps`` is ``steps x agents`` agent decisions.

    Attributes:
        steps: env steps per training run (HISPER, HASAC and HAPPO alike).
        training_seeds: one training run per seed, algorithm and agent count.
        model: network widths (embeddings, actor trunk, critic MLP, LSTM) of every learned policy.
        batch_size: joint transitions per HISPER/HASAC update.
        updates_per_iteration: HISPER/HASAC updates after each ``steps_per_iteration`` env steps.
        steps_per_iteration: HISPER/HASAC env steps per iteration (a multiple of the 20 envs; HAPPO
            always collects the spec's 2,000 per iteration).
        prefill_steps: uniform-random transitions before HISPER/HASAC's first update (not counted).
        buffer_size: replay capacity in joint transitions.
        eval_interval_steps: env steps between the fixed-seed evaluations during training (evaluations
            run at the end of the iteration that reaches a due point).
        decision_requests: request counts of the decision-time measurement (Fig. 9); each is rounded up
            to whole slots of every agent (multiples of 40 fit 8 and 10 agents exactly).
        checkpoint_replay: keep the replay buffer in checkpoints (a resume then continues exactly); off,
            a resumed run refills it with a new prefill.
        checkpoint_every: iterations between checkpoints.
        lr_scale: factor on the spec's actor and critic learning rates, for every learned algorithm.
        env_options: env config entries besides the agent count (none in the budgets here: the spec's
            env; tests shorten the horizon).
    """

    name: str
    steps: int
    training_seeds: tuple[int, ...]
    model: dict[str, Any] = field(default_factory=dict)
    batch_size: int = 1000
    updates_per_iteration: int = 100
    steps_per_iteration: int = 2000
    prefill_steps: int = 90_000
    buffer_size: int = 370_000
    eval_interval_steps: int = 2000
    decision_requests: tuple[int, ...] = (40, 80, 160, 320, 640)
    checkpoint_replay: bool = False
    checkpoint_every: int = 5
    lr_scale: float = 1.0
    env_options: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.training_seeds:
            raise ValueError("budget.training_seeds must not be empty")
        if not self.lr_scale > 0:
            raise ValueError(f"budget.lr_scale must be > 0, got {self.lr_scale}")
        for name in ("steps", "batch_size", "steps_per_iteration", "buffer_size", "checkpoint_every"):
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


BUDGETS = {
    # <= 60 min on 2 cores (see the module docstring): 18 runs of 40,000 env steps, 1,280 updates of 256
    # transitions each (HISPER/HASAC), quarter-width networks, 3x the spec's learning rates, 40
    # evaluations per run.
    "quick": Budget(
        "quick",
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
    # The paper: 6e5 env steps per run, 9e4 prefill, 100 updates of 1,000 per 2,000 steps, spec widths.
    "paper": Budget(
        "paper",
        steps=600_000,
        training_seeds=(0, 1, 2),
        model=PAPER_MODEL,
        checkpoint_replay=True,
        checkpoint_every=25,
    ),
}


def run_name(algo: str, agents: int, seed: int) -> str:
    """The run directory name ``<algo>-a<agents>-seed<seed>``."""
    return f"{algo}-a{agents}-seed{seed}"


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
        # on-policy: the spec's 2,000-step batch; it evaluates after the iterations that reach a due point
        options["steps_per_iteration"] = HAPPO_STEPS_PER_ITERATION
        iterations = -(-budget.steps // HAPPO_STEPS_PER_ITERATION)
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
        scenario=SCENARIO,
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


def training_steps(budget: Budget, **train: Any) -> list[TrainingStep]:
    """Every training run of the protocol, in the order they run (8 agents first, seed-major)."""
    return [
        TrainingStep(
            name=run_name(algo, agents, seed),
            config=train_config(budget, algo, agents, seed, **train),
            label=f"{algo}, {agents} agents, seed {seed}",
        )
        for agents in AGENT_COUNTS
        for seed in budget.training_seeds
        for algo in LEARNED
    ]


def learned_policy(run: TrainedRun, algo: str) -> Policy:
    """A trained run's argmax policy, named by its algorithm."""
    from edgeplace.algos.hisper.policy import HISPERPolicy  # torch: imported on use

    return HISPERPolicy.from_checkpoint(run.checkpoint, name=algo)


def _learned_policies(run: TrainedRun, algo: str) -> list[Policy]:
    return [learned_policy(run, algo)]


def evaluate_runs(out: Path, agents: int, runs: dict[str, TrainedRun], budget: Budget) -> pd.DataFrame:
    """Every learned run and the baselines on :data:`EVAL_SEEDS` (one episode each), cached under
    ``eval/``. Rows carry ``train_seed`` (-1 for the baselines)."""
    config = env_config(agents, budget.env_options)
    frames = []
    for algo in LEARNED:
        for seed in budget.training_seeds:
            name = run_name(algo, agents, seed)
            frame = ensure_evaluated(
                name,
                out,
                SCENARIO,
                config,
                partial(_learned_policies, runs[name], algo),
                seeds=EVAL_SEEDS,
                episodes=1,
            )
            frames.append(frame.assign(train_seed=seed))
    frame = ensure_evaluated(
        f"baselines-a{agents}",
        out,
        SCENARIO,
        config,
        lambda: [make_baseline(SCENARIO, name, seed=0, env_config=config) for name in BASELINES],
        seeds=EVAL_SEEDS,
        episodes=1,
    )
    frames.append(frame.assign(train_seed=-1))
    return pd.concat(frames, ignore_index=True)


def slot_batch(
    agents: int, requests: int, seed: int = 0, options: Mapping[str, Any] | None = None
) -> tuple[list[str], list[dict[str, np.ndarray]]]:
    """The first-slot observations of ``ceil(requests / agents)`` episodes (env seeds ``seed + i``) as
    one ``act_batch`` input: each slot's agents contiguous, in processing order."""
    rows_ids: list[str] = []
    rows: list[dict[str, np.ndarray]] = []
    env = DnnInferenceEnv(env_config(agents, options))
    for index in range(-(-requests // agents)):
        observations, _ = env.reset(seed=seed + index, options={EPISODE_INDEX_OPTION: 0})
        for agent in env.possible_agents:
            rows_ids.append(agent)
            rows.append({key: np.array(value, copy=True) for key, value in observations[agent].items()})
    return rows_ids, rows


def time_decisions(
    policies: Sequence[Policy],
    agents: int,
    requests: Sequence[int],
    repeats: int = 5,
    options: Mapping[str, Any] | None = None,
) -> list[dict[str, Any]]:
    """Median wall seconds of one ``act_batch`` call per policy and request count (after a warm-up
    call). Rows: agents, policy, requests (rounded up to whole slots), seconds."""
    rows = []
    for count in requests:
        ids, observations = slot_batch(agents, count, options=options)
        for policy in policies:
            policy.act_batch(ids, observations)
            seconds = []
            for _ in range(repeats):
                start = time.perf_counter()
                policy.act_batch(ids, observations)
                seconds.append(time.perf_counter() - start)
            rows.append(
                {
                    "agents": agents,
                    "policy": policy.name,
                    "requests": len(ids),
                    "seconds": statistics.median(seconds),
                }
            )
    return rows


def ensure_decision_times(
    out: Path,
    policies_by_agents: dict[int, Callable[[], Sequence[Policy]]],
    requests: Sequence[int],
    options: Mapping[str, Any] | None = None,
) -> pd.DataFrame:
    """Fig. 9's decision times, read from ``out/decision_time.csv`` when it exists, else measured."""
    path = out / DECISION_TIME_FILE
    if path.is_file():
        return pd.read_csv(path)
    rows = [
        row
        for agents, make in policies_by_agents.items()
        for row in time_decisions(make(), agents, requests, options=options)
    ]
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=DECISION_COLUMNS)
    writer.writeheader()
    writer.writerows(rows)
    write_text_atomic(path, buffer.getvalue())
    return pd.DataFrame(rows, columns=list(DECISION_COLUMNS))


def _train_task(step: TrainingStep, out: Path) -> TrainedRun:
    """One resumable training run inside a Ray task of one CPU (torch uses one thread)."""
    with torch_threads(1):
        return ensure_trained(step, out)  # its progress bar goes to the worker's log


def train_all(
    steps: Sequence[TrainingStep], out: Path, num_gpus_per_learner: float, console: Console
) -> dict[str, TrainedRun]:
    """Every run of ``steps`` as a Ray task of one CPU (and ``num_gpus_per_learner`` GPUs), so Ray
    runs as many at once as the machine or cluster has CPUs (two on a 2-core machine); finished runs
    return at once from their checkpoints. Returns the runs by name, in ``steps`` order."""
    import ray

    task = ray.remote(num_cpus=1, num_gpus=num_gpus_per_learner, max_retries=0)(_train_task)
    pending = {task.remote(step, out): step for step in steps}
    runs: dict[str, TrainedRun] = {}
    console.print(
        f"[bold]training[/] {len(steps)} runs, {int(ray.cluster_resources().get('CPU', 1))} at once"
    )
    while pending:
        done, _ = ray.wait(list(pending), num_returns=1)
        step = pending.pop(done[0])
        run = ray.get(done[0])
        runs[step.name] = run
        wall = float(run.metrics["wall_s"].iloc[-1]) if len(run.metrics) else 0.0
        console.print(f"  {len(runs)}/{len(steps)} {step.name} ({step.label}): {wall:.0f} s of training")
    return {step.name: runs[step.name] for step in steps}


def run_hisper_reproduction(
    out: Path,
    *,
    budget: str = "quick",
    address: str | None = None,
    num_gpus_per_learner: float = 0.0,
    console: Console | None = None,
) -> Path:
    """Run the protocol at ``budget`` into ``out`` (resumable: finished runs and evaluations are
    reused); returns the report path."""
    console = console or Console()
    if budget not in BUDGETS:
        raise KeyError(f"unknown budget {budget!r}; known: {sorted(BUDGETS)}")
    chosen = BUDGETS[budget]
    out = Path(out).resolve()  # RLlib's checkpoint writer needs an absolute path
    out.mkdir(parents=True, exist_ok=True)
    steps = training_steps(chosen, num_gpus_per_learner=num_gpus_per_learner)
    ensure_ray(address)
    runs = train_all(steps, out, num_gpus_per_learner, console)

    with torch_threads(1):  # the driver's evaluation and timing act in small batches
        return _evaluate_and_report(out, chosen, runs, console)


def _evaluate_and_report(out: Path, chosen: Budget, runs: Mapping[str, TrainedRun], console: Console) -> Path:
    """The final evaluations, Fig. 9's decision times and the report."""
    from edgeplace.reproduce.hisper_report import write_report
    from edgeplace.reproduce.hisper_results import ReproductionResults

    evaluations = {}
    for agents in AGENT_COUNTS:
        console.print(f"[bold]evaluation[/]: {agents} agents, {len(EVAL_SEEDS)} seeds")
        evaluations[agents] = evaluate_runs(out, agents, runs, chosen)

    console.print("[bold]Fig. 9[/]: decision time vs requests")
    first = chosen.training_seeds[0]

    def policies(agents: int) -> Callable[[], list[Policy]]:
        def make() -> list[Policy]:
            learned = [learned_policy(runs[run_name(a, agents, first)], a) for a in LEARNED]
            config = env_config(agents, chosen.env_options)
            return learned + [make_baseline(SCENARIO, name, seed=0, env_config=config) for name in BASELINES]

        return make

    decision = ensure_decision_times(
        out, {n: policies(n) for n in AGENT_COUNTS}, chosen.decision_requests, chosen.env_options
    )
    results = ReproductionResults(budget=chosen, runs=runs, evaluations=evaluations, decision_time=decision)
    return write_report(results, out)
