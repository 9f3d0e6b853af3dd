"""The main job: train MAPPO on a synthetic topology, evaluate it against the baselines, report."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console

from edgeplace.algos.baselines import make_baseline
from edgeplace.algos.module_policy import ModulePolicy
from edgeplace.algos.train_config import TrainConfig
from edgeplace.algos.training import train
from edgeplace.envs.genai_chain import SCENARIO_ID
from edgeplace.evaluation.pipeline import evaluate_to_report
from edgeplace.progress import episode_progress, training_progress
from edgeplace.runtime import ensure_ray

SCENARIO = SCENARIO_ID
TOPOLOGY = "synthetic:genai-small"
SEED = 0


def run_quickstart(out: Path, *, timesteps: int, episodes: int, console: Console) -> None:
    """Train, evaluate on the test split and print the comparison table and output paths."""
    ensure_ray()
    config = TrainConfig(
        scenario=SCENARIO,
        algo="mappo",
        timesteps=timesteps,
        seed=SEED,
        env_config={"topology": TOPOLOGY, "split": "train"},
    )
    console.print(
        f"[bold]Training MAPPO[/] on {TOPOLOGY} for {timesteps} decisions (RLlib PPO, new API stack)"
    )
    with training_progress(timesteps) as on_iteration:
        trained = train(config, out / "train", on_iteration=on_iteration)
    policies = [
        ModulePolicy.from_checkpoint(trained.checkpoint, name="mappo"),
        make_baseline(SCENARIO, "greedy"),
        make_baseline(SCENARIO, "random", seed=SEED),
    ]
    env_config = {"topology": TOPOLOGY, "split": "test"}
    with episode_progress(len(policies) * episodes) as advance:
        report = evaluate_to_report(
            SCENARIO,
            env_config,
            policies,
            seeds=[SEED],
            episodes=episodes,
            out_dir=out / "eval",
            reference="mappo",
            metadata={"training": f"MAPPO, {trained.timesteps} decisions, {trained.wall_s:.0f} s"},
            on_episode=advance,
        )
    console.print(report.table_md.read_text(), markup=False, soft_wrap=True)
    console.print(f"checkpoint: {trained.checkpoint}")
    console.print(f"table:      {report.table_md}")
    console.print(f"plots:      {', '.join(str(p) for p in report.plots)}")
    console.print(f"curve:      {trained.curve_png}")
