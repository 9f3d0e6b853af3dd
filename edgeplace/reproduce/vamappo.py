"""``edgeplace reproduce vamappo``: the VAMAPPO paper's protocol on the GenAI edge dataset (spec g-h).

Steps (each resumable, outputs under ``out``):
1. Train VAMAPPO on S1, S2, S3 (M1, M2, M3), MAPPO and METAPPO on S1, the four ablations on S2.
2. Table IV: each M on its own test split. Table V: M1-M3 zero-shot on S4.
3. Fig. 10: VAMAPPO (M1), MAPPO, METAPPO, Greedy, Random (and the diagnostic UtilityGreedy) on S4.
4. Fig. 9: the ablations on S2.

Every evaluation plays each of the test split's request sets once (25 on S1-S4) under each of the noise
seeds :data:`EVAL_SEEDS` (the ablation: :data:`ABLATION_SEEDS`), every trained run of a model on all of
them, rows tagged with the run's training seed: the same streams for every policy, so the report pairs
them and tests over request sets or training seeds (:mod:`edgeplace.evaluation.comparison`).
5. ``report.md`` puts our numbers beside the paper's, checks the issue's targets, and links PNGs.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import pandas as pd
from rich.console import Console

from edgeplace.algos.metappo import METAPPO_ENV
from edgeplace.algos.module_policy import ModulePolicy
from edgeplace.algos.train_config import TrainConfig
from edgeplace.envs.genai_chain import SCENARIO_ID
from edgeplace.evaluation.design import TRAINING_SEED
from edgeplace.evaluation.runner import episodes_per_seed
from edgeplace.evaluation.statistics import POLICY
from edgeplace.reproduce import protocol
from edgeplace.reproduce.steps import (
    EvaluationStep,
    Policies,
    TrainedRun,
    TrainingStep,
    baseline_policies,
    evaluate_all,
)
from edgeplace.reproduce.vamappo_report import vamappo_report
from edgeplace.topology import load_topology, shipped_genai_edge_root

#: The GenAI edge dataset shipped with the package (``Server1`` .. ``Server4``); ``--data`` names another.
DEFAULT_DATA_DIR = shipped_genai_edge_root()
#: Seeds of Table V (training seeds in the paper budget, env seeds of the S4 evaluation in both).
PAPER_SEEDS = (42, 123, 256, 512, 1024)
#: Noise seeds of the test-split evaluations (Table IV, V, Fig. 10) and of the S2 ablation (Fig. 9).
EVAL_SEEDS, ABLATION_SEEDS = PAPER_SEEDS, PAPER_SEEDS[:4]
#: The architecture of the paper (spec e2); the quick budget keeps the 2-core default encoder.
PAPER_MODEL = {"d_model": 128, "self_attention_layers": 1, "share_encoder": False, "item_hidden": [256, 128]}
ABLATIONS = ("vamappo-no-attention", "vamappo-no-enhancement", "vamappo-no-uncertainty", "vamappo-minimal")
HEURISTICS = ("greedy", "random", "utility-greedy")


@dataclass(frozen=True, kw_only=True)
class Budget(protocol.Budget):
    """How much of the paper's protocol to run; ``training_seeds`` are M1-M3's (Table V)."""

    timesteps: int
    """Agent decisions per training run."""
    model: dict[str, Any] = field(default_factory=dict)
    """Model overrides of every run."""
    test_episodes: int | None = None
    """Episodes per noise seed on the test splits (Table IV, V, Fig. 10); default one per request set."""
    ablation_episodes: int | None = None
    """Episodes per noise seed of the S2 ablation (Fig. 9); default one per request set."""
    train_options: Mapping[str, Any] = field(default_factory=dict)
    """TrainConfig fields of every run (batch sizes, epochs, ...), over PPO's defaults."""


BUDGETS = protocol.by_name(
    # ~50 min on 2 cores: 9 runs of 76,800 decisions (15 iterations), one training seed.
    Budget(name="quick", timesteps=76_800, training_seeds=(42,)),
    # The paper: 1M decisions per run, five training seeds, the paper's network. A GPU job.
    Budget(name="paper", timesteps=1_000_000, training_seeds=PAPER_SEEDS, model=PAPER_MODEL),
)


@dataclass(frozen=True)
class VamappoResults(protocol.Results[Budget]):
    """The evaluation frames, one row per (policy, seed, episode): Table IV per topology ("S1".."S3"),
    M1-M3 zero-shot on S4, the S4 comparison, the S2 ablation; and the node count per topology."""

    table_iv: Mapping[str, pd.DataFrame]
    zero_shot: pd.DataFrame
    s4: pd.DataFrame
    ablation: pd.DataFrame
    num_nodes: Mapping[str, int]


def topology(data_dir: Path, server: int) -> str:
    """The ``genai-edge:`` URI of topology S<server>: the short one (``genai-edge:S1``, the same on any
    install) for the shipped dataset, else the directory's; the error names the missing directory."""
    if data_dir == DEFAULT_DATA_DIR:
        return f"genai-edge:S{server}"
    path = data_dir / f"Server{server}"
    if not path.is_dir():
        raise FileNotFoundError(f"reproduce vamappo needs the GenAI edge dataset: {path} does not exist")
    return f"genai-edge:{path}"


def split_env(uri: str, **options: Any) -> dict[str, Any]:
    """The test split of topology ``uri``."""
    return {"topology": uri, "split": "test", **options}


def training_steps(budget: Budget, *, data_dir: Path, **train: Any) -> list[TrainingStep]:
    """M1-M3 per training seed, MAPPO and METAPPO on S1, the ablations on S2 (``train``: TrainConfig
    fields of every run)."""

    def step(name: str, algo: str, server: int, seed: int) -> TrainingStep:
        uri = topology(data_dir, server)
        config = TrainConfig(
            scenario=SCENARIO_ID,
            algo=algo,
            seed=seed,
            timesteps=budget.timesteps,
            env_config={"topology": uri, "split": "train"},
            model=budget.model,
            **{**budget.train_options, **train},
        )
        return TrainingStep(name, config, f"{algo} on {uri.rsplit('/', 1)[-1]}, seed {seed}")

    first = budget.first_seed
    return [
        *(step(f"m{s}-seed{seed}", "vamappo", s, seed) for seed in budget.training_seeds for s in (1, 2, 3)),
        *(step(f"{algo}-s1", algo, 1, first) for algo in ("mappo", "metappo")),
        *(step(f"{algo}-s2", algo, 2, first) for algo in ABLATIONS),
    ]


def evaluate(
    budget: Budget, runs: Mapping[str, TrainedRun], out: Path, console: Console, *, data_dir: Path
) -> VamappoResults:
    """Table IV, the zero-shot and S4 comparisons (Table V, Fig. 10) and the ablation (Fig. 9)."""
    uri = {server: topology(data_dir, server) for server in (1, 2, 3, 4)}
    s4_env, first = split_env(uri[4]), budget.first_seed
    seeds = budget.training_seeds
    models = {f"M{i}": {seed: runs[f"m{i}-seed{seed}"] for seed in seeds} for i in (1, 2, 3)}

    def policy(run: TrainedRun, label: str) -> Policies:
        """The run's checkpoint as policy ``label``, loaded when an evaluation runs. The label is not
        among the sources: the rows are tagged with it, and ``s4-M1`` is read back as "vamappo"."""
        return Policies(
            lambda: [ModulePolicy.from_checkpoint(run.checkpoint, name=label)], {"checkpoint": run.source()}
        )

    def model(
        name: str,
        label: str,
        env: Mapping[str, Any],
        of: Mapping[int, TrainedRun],
        noise_seeds: Sequence[int] = EVAL_SEEDS,
        episodes: int | None = budget.test_episodes,
    ) -> list[EvaluationStep]:
        """The runs ``of`` one model (training seed -> run) as policy ``label``: evaluation
        ``<name>-train<s>`` plays ``episodes`` (default: one per request set) of every noise seed, its
        rows tagged with training seed s."""
        episodes = episodes or episodes_per_seed(SCENARIO_ID, env)
        return [
            EvaluationStep(
                f"{name}-train{seed}",
                env,
                policy(run, label),
                noise_seeds,
                episodes,
                {POLICY: label, TRAINING_SEED: seed},
            )
            for seed, run in of.items()
        ]

    def evaluated(*groups: Iterable[EvaluationStep]) -> pd.DataFrame:
        return evaluate_all([step for group in groups for step in group], out, SCENARIO_ID, budget, console)

    console.print("[bold]Table IV[/]: each model on its own test split")
    table_iv = {
        f"S{i}": evaluated(model(f"table4-M{i}", f"M{i}", split_env(uri[i]), models[f"M{i}"]))
        for i in (1, 2, 3)
    }
    console.print("[bold]Table V / Fig. 10[/]: zero-shot on S4")
    zero_shot = evaluated(*(model(f"s4-{name}", name, s4_env, of) for name, of in models.items()))
    heuristics = baseline_policies(SCENARIO_ID, HEURISTICS, seed=first)
    s4_episodes = budget.test_episodes or episodes_per_seed(SCENARIO_ID, s4_env)
    s4 = evaluated(
        model("s4-M1", "vamappo", s4_env, models["M1"]),  # M1's zero-shot evaluation, read back as vamappo
        model("s4-mappo", "mappo", s4_env, {first: runs["mappo-s1"]}),
        model("s4-metappo", "metappo", split_env(uri[4], **METAPPO_ENV), {first: runs["metappo-s1"]}),
        [EvaluationStep("s4-heuristics", s4_env, heuristics, EVAL_SEEDS, s4_episodes)],
    )
    console.print("[bold]Fig. 9[/]: ablations on S2")
    variants = {"full": runs[f"m2-seed{first}"]}
    variants |= {name.removeprefix("vamappo-"): runs[f"{name}-s2"] for name in ABLATIONS}
    s2_env = split_env(uri[2])
    ablation = evaluated(
        *(
            model(f"ablation-{label}", label, s2_env, {first: run}, ABLATION_SEEDS, budget.ablation_episodes)
            for label, run in variants.items()
        )
    )
    return VamappoResults(
        budget=budget,
        runs=runs,
        table_iv=table_iv,
        zero_shot=zero_shot,
        s4=s4,
        ablation=ablation,
        num_nodes={f"S{i}": load_topology(uri[i]).num_nodes for i in (1, 2, 3, 4)},
    )


def run_vamappo_reproduction(
    out: Path,
    *,
    budget: str = "quick",
    data_dir: Path = DEFAULT_DATA_DIR,
    address: str | None = None,
    num_gpus_per_learner: float = 0.0,
    console: Console | None = None,
) -> Path:
    """Run the protocol at ``budget`` on the dataset in ``data_dir`` into ``out``; returns the report path."""
    steps, evaluations = partial(training_steps, data_dir=data_dir), partial(evaluate, data_dir=data_dir)
    return protocol.Protocol(BUDGETS, steps, evaluations, vamappo_report).run(
        out, budget, address=address, num_gpus_per_learner=num_gpus_per_learner, console=console
    )
