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
from edgeplace.evaluation.runner import episodes_per_seed
from edgeplace.evaluation.terminal import summary_table
from edgeplace.progress import episode_progress, training_progress
from edgeplace.runtime import ensure_ray
from edgeplace.scenarios import get_scenario

TOPOLOGY = "synthetic:genai-small"
SEED = 0
#: Evaluation seeds: each request set of the test split under four noise draws.
EVAL_SEEDS = (0, 1, 2, 3)


def run_quickstart(out: Path, *, timesteps: int, episodes: int | None, console: Console) -> None:
    """Train, evaluate on the test split (``episodes`` per evaluation seed; default one per request set)
    and print the comparison table and output paths. A budget below PPO's default batch trains in one
    iteration of ``timesteps`` decisions."""
    ensure_ray()
    batch = min(TrainConfig.train_batch_size, timesteps)
    config = TrainConfig(
        scenario=SCENARIO_ID,
        algo="mappo",
        timesteps=timesteps,
        seed=SEED,
        env_config={"topology": TOPOLOGY, "split": "train"},
        train_batch_size=batch,
        minibatch_size=min(TrainConfig.minibatch_size, batch),
    )
    console.print(
        f"[bold]Training MAPPO[/] on {TOPOLOGY} for {timesteps} decisions (RLlib PPO, new API stack)"
    )
    with training_progress(timesteps) as on_iteration:
        trained = train(config, out / "train", on_iteration=on_iteration)
    policies = [
        ModulePolicy.from_checkpoint(trained.checkpoint, name="mappo"),
        make_baseline(SCENARIO_ID, "greedy"),
        make_baseline(SCENARIO_ID, "random", seed=SEED),
    ]
    env_config = {"topology": TOPOLOGY, "split": "test"}
    episodes = episodes or episodes_per_seed(SCENARIO_ID, env_config)
    with episode_progress(len(policies) * len(EVAL_SEEDS) * episodes) as advance:
        report = evaluate_to_report(
            SCENARIO_ID,
            env_config,
            policies,
            seeds=EVAL_SEEDS,
            episodes=episodes,
            out_dir=out / "eval",
            reference="mappo",
            metadata={"training": f"MAPPO, {trained.timesteps} decisions, {trained.wall_s:.0f} s"},
            on_episode=advance,
        )
    primary = get_scenario(SCENARIO_ID).primary_kpis
    console.print(
        summary_table(
            report.summary,
            primary,
            title=f"{SCENARIO_ID} test split, {len(EVAL_SEEDS)} seeds x {episodes} episodes",
        )
    )
    console.print(f"checkpoint: {trained.checkpoint}")
    console.print(f"report:     {report.table_md} (every KPI, CIs, paired tests against mappo)")
    console.print(f"plots:      {', '.join(str(p) for p in report.plots)}")
    console.print(f"curve:      {trained.curve_png}")
