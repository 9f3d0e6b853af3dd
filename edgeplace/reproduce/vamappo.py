"""``edgeplace reproduce vamappo``: the VAMAPPO paper's protocol on the GenAI edge dataset (spec g-h).

Steps (each resumable, outputs under ``out``):
1. Train VAMAPPO on S1, S2, S3 (M1, M2, M3), MAPPO and METAPPO on S1, the four ablations on S2.
2. Table IV: each M on its own test split. Table V: M1-M3 zero-shot on S4 over five env seeds.
3. Fig. 10: VAMAPPO (M1), MAPPO, METAPPO, Greedy, Random (and the diagnostic UtilityGreedy) on S4.
4. Fig. 9: the ablations on S2, test episodes 0-99, seed 42.
5. ``report.md`` puts our numbers beside the paper's, checks the issue's targets, and links PNGs.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import pandas as pd
from rich.console import Console

from edgeplace.algos.baselines import make_baseline
from edgeplace.algos.module_policy import ModulePolicy
from edgeplace.algos.registry import METAPPO_ENV
from edgeplace.algos.train_config import TrainConfig
from edgeplace.policy import Policy
from edgeplace.reproduce.steps import TrainedRun, TrainingStep, ensure_evaluated, ensure_trained
from edgeplace.reproduce.vamappo_report import ReproductionResults, write_report
from edgeplace.runtime import ensure_ray

SCENARIO = "genai-chain"
#: Seeds of Table V (training seeds in the paper budget, env seeds of the S4 evaluation in both).
PAPER_SEEDS = (42, 123, 256, 512, 1024)
#: The architecture of the paper (spec e2); the quick budget keeps the 2-core default encoder.
PAPER_MODEL = {"d_model": 128, "self_attention_layers": 1, "share_encoder": False, "item_hidden": [256, 128]}
ABLATIONS = ("vamappo-no-attention", "vamappo-no-enhancement", "vamappo-no-uncertainty", "vamappo-minimal")


@dataclass(frozen=True)
class Budget:
    """How much of the paper's protocol to run.

    Attributes:
        timesteps: agent decisions per training run.
        training_seeds: seeds of M1-M3 (Table V); the other runs use the first.
        model: model overrides of every run.
        test_episodes: episodes per seed on the test splits (Table IV, V, Fig. 10).
        ablation_episodes: S2 test episodes of the ablation (0..n-1, seed 42).
    """

    name: str
    timesteps: int
    training_seeds: tuple[int, ...]
    model: dict[str, Any] = field(default_factory=dict)
    test_episodes: int = 200
    ablation_episodes: int = 100


BUDGETS = {
    # ~50 min on 2 cores: 9 runs of 76,800 decisions (15 iterations), one training seed.
    "quick": Budget("quick", timesteps=76_800, training_seeds=(42,)),
    # The paper: 1M decisions per run, five training seeds, the paper's network. A GPU job.
    "paper": Budget("paper", timesteps=1_000_000, training_seeds=PAPER_SEEDS, model=PAPER_MODEL),
}


def topology(data_dir: Path, server: int) -> str:
    """The ``genai-edge:`` URI of topology S<server>; the error names the missing directory."""
    path = data_dir / f"Server{server}"
    if not path.is_dir():
        raise FileNotFoundError(f"reproduce vamappo needs the GenAI edge dataset: {path} does not exist")
    return f"genai-edge:{path}"


def _step(name: str, algo: str, uri: str, seed: int, budget: Budget, **train: Any) -> TrainingStep:
    config = TrainConfig(
        scenario=SCENARIO,
        algo=algo,
        seed=seed,
        timesteps=budget.timesteps,
        env_config={"topology": uri, "split": "train"},
        model=budget.model,
        **train,
    )
    return TrainingStep(name=name, config=config, label=f"{algo} on {uri.rsplit('/', 1)[-1]}, seed {seed}")


def training_steps(budget: Budget, data_dir: Path, **train: Any) -> list[TrainingStep]:
    """Every training run of the protocol, in the order they run."""
    first = budget.training_seeds[0]
    steps = [
        _step(f"m{server}-seed{seed}", "vamappo", topology(data_dir, server), seed, budget, **train)
        for seed in budget.training_seeds
        for server in (1, 2, 3)
    ]
    s1, s2 = topology(data_dir, 1), topology(data_dir, 2)
    steps += [_step(f"{algo}-s1", algo, s1, first, budget, **train) for algo in ("mappo", "metappo")]
    steps += [_step(f"{algo}-s2", algo, s2, first, budget, **train) for algo in ABLATIONS]
    return steps


def _test_env(uri: str, **options: Any) -> dict[str, Any]:
    return {"topology": uri, "split": "test", **options}


def _module_policies(run: TrainedRun, label: str) -> list[Policy]:
    return [ModulePolicy.from_checkpoint(run.checkpoint, name=label)]


def _module_frames(
    out: Path,
    step: str,
    label: str,
    uri: str,
    runs: Sequence[TrainedRun],
    seeds: Sequence[int],
    budget: Budget,
    **env: Any,
) -> pd.DataFrame:
    """Evaluate the runs of one model (one per training seed) as policy ``label``, cached under
    ``eval/<step>-seed<s>``. With as many runs as seeds, run i uses env seed i (the paper's pairing);
    else the one run plays every seed."""
    pairs = list(zip(runs, seeds, strict=True)) if len(runs) == len(seeds) else [(runs[0], s) for s in seeds]
    frames = [
        ensure_evaluated(
            f"{step}-seed{seed}",
            out,
            SCENARIO,
            _test_env(uri, **env),
            partial(_module_policies, run, label),
            seeds=[seed],
            episodes=budget.test_episodes,
        )
        for run, seed in pairs
    ]
    return pd.concat(frames, ignore_index=True).assign(policy=label)


def run_vamappo_reproduction(
    out: Path,
    *,
    budget: str = "quick",
    data_dir: Path,
    address: str | None = None,
    num_gpus_per_learner: float = 0.0,
    console: Console | None = None,
) -> Path:
    """Run the protocol at ``budget`` into ``out``; returns the report path."""
    console = console or Console()
    if budget not in BUDGETS:
        raise KeyError(f"unknown budget {budget!r}; known: {sorted(BUDGETS)}")
    chosen = BUDGETS[budget]
    steps = training_steps(chosen, data_dir, num_gpus_per_learner=num_gpus_per_learner)
    ensure_ray(address)
    runs: dict[str, TrainedRun] = {}
    for index, step in enumerate(steps, 1):
        console.print(f"[bold]training {index}/{len(steps)}[/] {step.name}: {step.label}")
        runs[step.name] = ensure_trained(step, out)

    s = {server: topology(data_dir, server) for server in (1, 2, 3, 4)}
    first = chosen.training_seeds[0]
    models = {f"M{i}": [runs[f"m{i}-seed{seed}"] for seed in chosen.training_seeds] for i in (1, 2, 3)}

    console.print("[bold]Table IV[/]: each model on its own test split")
    table_iv = {
        f"S{i}": _module_frames(out, f"table4-M{i}", f"M{i}", s[i], models[f"M{i}"][:1], [first], chosen)
        for i in (1, 2, 3)
    }

    console.print("[bold]Table V / Fig. 10[/]: zero-shot on S4")
    zero_shot = {
        name: _module_frames(out, f"s4-{name}", name, s[4], model_runs, PAPER_SEEDS, chosen)
        for name, model_runs in models.items()
    }
    s4_rl = [
        zero_shot["M1"].assign(policy="vamappo"),
        _module_frames(out, "s4-mappo", "mappo", s[4], [runs["mappo-s1"]], PAPER_SEEDS, chosen),
        _module_frames(
            out, "s4-metappo", "metappo", s[4], [runs["metappo-s1"]], PAPER_SEEDS, chosen, **METAPPO_ENV
        ),
    ]
    heuristics = [
        make_baseline(SCENARIO, name, seed=first) for name in ("greedy", "random", "utility-greedy")
    ]
    s4_heuristics = ensure_evaluated(
        "s4-heuristics",
        out,
        SCENARIO,
        _test_env(s[4]),
        lambda: heuristics,
        seeds=PAPER_SEEDS,
        episodes=chosen.test_episodes,
    )
    s4 = pd.concat([*s4_rl, s4_heuristics], ignore_index=True)

    console.print("[bold]Fig. 9[/]: ablations on S2")
    variants = {
        "full": runs[f"m2-seed{first}"],
        **{name.removeprefix("vamappo-"): runs[f"{name}-s2"] for name in ABLATIONS},
    }
    ablation = pd.concat(
        [
            ensure_evaluated(
                f"ablation-{label}",
                out,
                SCENARIO,
                _test_env(s[2]),
                partial(_module_policies, run, label),
                seeds=[42],
                episodes=chosen.ablation_episodes,
            )
            for label, run in variants.items()
        ],
        ignore_index=True,
    )
    results = ReproductionResults(
        budget=chosen,
        runs=runs,
        table_iv=table_iv,
        zero_shot=pd.concat(
            [frame.assign(policy=name) for name, frame in zero_shot.items()], ignore_index=True
        ),
        s4=s4,
        ablation=ablation,
        num_nodes={f"S{i}": _num_nodes(s[i]) for i in (1, 2, 3, 4)},
    )
    return write_report(results, out)


def _num_nodes(uri: str) -> int:
    from edgeplace.topology import load_topology

    return load_topology(uri).num_nodes
