"""MAPPO on S1 (train split) for a fixed budget, then the S1 test split (and S4 zero-shot) against the
baselines: SLA satisfaction and utility with bootstrap CIs, Welch tests, and the wall time.

    python bench/train_genai.py [--timesteps 250000] [--out runs/bench-train-genai] [--seeds 0,1,2]
"""

from __future__ import annotations

import argparse
from pathlib import Path

from rich.console import Console

from edgeplace.algos.baselines import make_baseline
from edgeplace.algos.module_policy import ModulePolicy
from edgeplace.algos.train_config import TrainConfig
from edgeplace.algos.training import train
from edgeplace.evaluation.pipeline import evaluate_to_report
from edgeplace.progress import episode_progress, training_progress
from edgeplace.runtime import ensure_ray


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--timesteps", type=int, default=250_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--seeds", default="0,1,2", help="evaluation seeds")
    parser.add_argument("--episodes", type=int, default=200)
    parser.add_argument("--out", type=Path, default=Path("runs/bench-train-genai"))
    args = parser.parse_args()
    console = Console()
    ensure_ray()
    config = TrainConfig(
        timesteps=args.timesteps,
        seed=args.seed,
        env_config={"topology": "genai-edge:S1", "split": "train"},
    )
    with training_progress(args.timesteps) as on_iteration:
        trained = train(config, args.out / "train", on_iteration=on_iteration)
    console.print(
        f"MAPPO: {trained.timesteps} decisions, {trained.iterations} iterations, {trained.wall_s:.0f} s wall"
    )
    seeds = [int(s) for s in args.seeds.split(",")]
    for server, label in ((1, "S1 test"), (4, "S4 zero-shot test")):
        policies = [
            ModulePolicy.from_checkpoint(trained.checkpoint, name="mappo"),
            make_baseline("genai-chain", "greedy"),
            make_baseline("genai-chain", "random", seed=args.seed),
            make_baseline("genai-chain", "utility-greedy"),
        ]
        env_config = {"topology": f"genai-edge:S{server}", "split": "test"}
        with episode_progress(len(policies) * len(seeds) * args.episodes, label) as advance:
            report = evaluate_to_report(
                "genai-chain",
                env_config,
                policies,
                seeds=seeds,
                episodes=args.episodes,
                out_dir=args.out / f"eval-s{server}",
                reference="mappo",
                metadata={"training": f"MAPPO on S1, {trained.timesteps} decisions, {trained.wall_s:.0f} s"},
                on_episode=advance,
            )
        console.print(f"## {label}\n{report.table_md.read_text()}", markup=False, soft_wrap=True)


if __name__ == "__main__":
    main()
