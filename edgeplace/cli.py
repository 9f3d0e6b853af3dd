"""The ``edgeplace`` command line: scenarios, train, evaluate, tune, serve, reproduce, quickstart."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

app = typer.Typer(
    add_completion=False, no_args_is_help=True, help="Distributed RL for edge service placement."
)
console = Console()

AgentsOpt = Annotated[
    int | None,
    typer.Option(help="Number of agents, where the scenario has a choice (dnn-inference: 8 or 10)"),
]
TopologyOpt = Annotated[
    str | None,
    typer.Option(
        help="Topology URI, e.g. genai-edge:S1 (shipped), genai-edge:DIR, gml:FILE, waxman:nodes=20"
    ),
]
EnvOptionOpt = Annotated[
    list[str] | None,
    typer.Option(help="Env config entry KEY=VALUE (YAML value), e.g. planner=heuristic (repeat)"),
]
AddressOpt = Annotated[
    str | None, typer.Option(help="Ray cluster address (default: RAY_ADDRESS or local Ray)")
]


def _key_values(pairs: list[str], option: str) -> dict[str, object]:
    """``KEY=VALUE`` pairs of ``option``; values are read as YAML (``0.5``, ``false``, ``[1, 2]``,
    ``{memory_dir: runs/x}``)."""
    import yaml

    options: dict[str, object] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise typer.BadParameter(f"{option} takes KEY=VALUE, got {pair!r}")
        options[key.strip()] = yaml.safe_load(value)
    return options


def _seeds(text: str) -> list[int]:
    try:
        return [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise typer.BadParameter(f"--seeds must be comma-separated integers, got {text!r}") from None


@app.command()
def scenarios() -> None:
    """List the registered scenarios (built-in and plug-ins): KPIs, algorithms, baselines, papers."""
    from edgeplace.scenarios import scenarios as registered

    for spec in registered():
        table = Table(title=f"[bold]{spec.scenario_id}[/]: {spec.description}", show_header=False)
        table.add_row("KPIs", ", ".join(spec.kpis))
        for name, algorithm in sorted(spec.algorithms.items()):
            table.add_row(f"--algo {name}", algorithm.description)
        table.add_row("baselines", ", ".join(spec.baseline_names()))
        if spec.reproduce is not None:
            table.add_row(f"reproduce {spec.reproduce.paper}", spec.reproduce.description)
        console.print(table)


@app.command()
def train(
    scenario: Annotated[str, typer.Argument(help="Scenario id (see `edgeplace scenarios`)")],
    out: Annotated[Path, typer.Option(help="Run directory (checkpoints, metrics.csv, learning_curve.png)")],
    algo: Annotated[
        str, typer.Option(help="Algorithm id (`edgeplace scenarios` lists each scenario's)")
    ] = "mappo",
    topology: TopologyOpt = None,
    timesteps: Annotated[int, typer.Option(help="Budget in agent decisions")] = 100_000,
    seed: int = 0,
    sharing: Annotated[str, typer.Option(help="shared | per-agent modules")] = "shared",
    max_nodes: Annotated[int | None, typer.Option(help="Node padding (default: next multiple of 16)")] = None,
    agents: AgentsOpt = None,
    envs_per_runner: Annotated[
        int | None, typer.Option(help="Vectorised envs per runner [default: 64]")
    ] = None,
    env_runners: int = 0,
    batch: Annotated[int | None, typer.Option(help="Decisions per iteration [default: 5120]")] = None,
    minibatch: Annotated[int | None, typer.Option(help="[default: 320]")] = None,
    epochs: Annotated[int | None, typer.Option(help="[default: 10]")] = None,
    gpus_per_learner: float = 0.0,
    algo_option: Annotated[
        list[str] | None, typer.Option(help="Algorithm setting KEY=VALUE, e.g. top_k_ratio=1.0 (repeat)")
    ] = None,
    env_option: EnvOptionOpt = None,
    resume: Annotated[bool, typer.Option(help="Continue from OUT's latest checkpoint")] = False,
    address: AddressOpt = None,
) -> None:
    """Train a policy with RLlib (new API stack); checkpoints, metrics CSV and curve go to OUT.

    Unset batch options take the algorithm's own defaults (PPO's 5120/320/10, AgentVNE's spec values).
    ``--algo agentvne`` runs NodeRank pre-training (OUT/pretrain) and then PPO fine-tuning (OUT/finetune).
    """
    from edgeplace.algos.registry import run_training
    from edgeplace.algos.train_config import TrainConfig
    from edgeplace.progress import training_progress
    from edgeplace.runtime import ensure_ray
    from edgeplace.scenarios import get_scenario

    spec = get_scenario(scenario)
    env_config = spec.env_config(topology=topology, split="train", max_nodes=max_nodes, agents=agents)
    env_config.update(_key_values(env_option or [], "--env-option"))
    given = {
        "num_envs_per_env_runner": envs_per_runner, "train_batch_size": batch, "minibatch_size": minibatch,
        "num_epochs": epochs,
    }  # fmt: skip
    given = {key: value for key, value in given.items() if value is not None}
    config = TrainConfig(**{
        **spec.algorithm(algo).train_defaults, **given,
        "scenario": scenario, "algo": algo, "seed": seed, "timesteps": timesteps, "module_sharing": sharing,
        "env_config": env_config, "algo_options": _key_values(algo_option or [], "--algo-option"),
        "num_env_runners": env_runners, "num_gpus_per_learner": gpus_per_learner,
    })  # fmt: skip
    ensure_ray(address)
    with training_progress(timesteps) as on_iteration:
        result = run_training(config, out, resume=resume, on_iteration=on_iteration)
    console.print(
        f"trained {result.timesteps} decisions in {result.iterations} iterations, {result.wall_s:.0f} s"
    )
    console.print(
        f"checkpoint: {result.checkpoint}\nmetrics:    {result.metrics_csv}\ncurve:      {result.curve_png}"
    )


@app.command()
def evaluate(
    scenario: Annotated[str, typer.Argument(help="Scenario id")],
    policy: Annotated[
        list[str], typer.Option(help="Baseline name or [LABEL=]CHECKPOINT; repeat for several")
    ],
    out: Annotated[Path, typer.Option(help="Report directory (results.json, results.md, PNGs)")],
    topology: TopologyOpt = None,
    split: str = "test",
    episodes: Annotated[
        int | None,
        typer.Option(help="Episodes per seed [default: one per request set the split replays, else 200]"),
    ] = None,
    seeds: Annotated[str, typer.Option(help="Comma-separated evaluation seeds")] = "0",
    max_nodes: int | None = None,
    agents: AgentsOpt = None,
    reference: Annotated[
        str | None, typer.Option(help="Policy name the others are compared with (paired tests)")
    ] = None,
    env_option: EnvOptionOpt = None,
) -> None:
    """Run policies on identical request streams; write a table with bootstrap CIs and bar plots."""
    from edgeplace.algos.policies import resolve_policy
    from edgeplace.evaluation.pipeline import evaluate_to_report
    from edgeplace.evaluation.runner import DEFAULT_EPISODES, distinct_request_sets
    from edgeplace.evaluation.terminal import summary_table
    from edgeplace.progress import episode_progress
    from edgeplace.scenarios import get_scenario

    seed_list = _seeds(seeds)
    env_config = get_scenario(scenario).env_config(
        topology=topology, split=split, max_nodes=max_nodes, agents=agents
    )
    env_config.update(_key_values(env_option or [], "--env-option"))
    policies = [resolve_policy(spec, scenario, seed=seed_list[0], env_config=env_config) for spec in policy]
    sets = distinct_request_sets(scenario, env_config)
    episodes = episodes or sets or DEFAULT_EPISODES
    if sets is not None and episodes > sets:
        console.print(
            f"note: the {split} split replays {sets} request sets; episodes beyond {sets} replay them under "
            "new noise, and the statistics count each set once"
        )
    with episode_progress(len(policies) * len(seed_list) * episodes) as advance:
        report = evaluate_to_report(
            scenario, env_config, policies, seeds=seed_list, episodes=episodes, out_dir=out,
            reference=reference, on_episode=advance,
        )  # fmt: skip
    title = f"{scenario}: {len(seed_list)} seed(s) x {episodes} episodes (mean, 95% CI)"
    console.print(summary_table(report.summary, get_scenario(scenario).primary_kpis, title=title))
    console.print(f"results: {report.results_json}\nreport:  {report.table_md} (every KPI, plots beside it)")


@app.command()
def tune(
    sweep: Annotated[
        str, typer.Argument(help="Sweep file, or the name of a scenario's shipped sweep (genai_chain_mappo)")
    ],
    address: AddressOpt = None,
    resume: Annotated[bool, typer.Option(help="Continue the interrupted sweep of this file")] = False,
) -> None:
    """Run a Ray Tune sweep from a YAML file; print the trial table and the best checkpoint."""
    from edgeplace.tuning.command import resolve_sweep_file, tune_command

    tune_command(resolve_sweep_file(sweep), address=address, resume=resume, console=console)


@app.command()
def serve(
    checkpoints: Annotated[
        list[str],
        typer.Argument(
            help="[NAME=]CHECKPOINT or run dir, or a rule controller without a checkpoint: "
            "[NAME=]rule:SCENARIO[:CONTROLLER], e.g. ma=rule:lm-inference:ma-rule; "
            "the first of a scenario is its default"
        ),
    ],
    port: int = 8000,
    host: Annotated[str, typer.Option(help="Listen address (0.0.0.0: all interfaces)")] = "127.0.0.1",
    topology: Annotated[str | None, typer.Option(help="Place on this topology URI (zero-shot)")] = None,
    address: AddressOpt = None,
    haproxy: Annotated[
        bool, typer.Option(help="HAProxy ingress (Ray's bundled one): ~4x the requests/s of Serve's proxy")
    ] = False,
) -> None:
    """Serve placement decisions over HTTP (Ray Serve + FastAPI; OpenAPI at /docs). Ctrl-C stops it."""
    from edgeplace.serve.server import run_server

    console.print(f"serving {', '.join(checkpoints)} on http://{host}:{port} (docs at /docs; Ctrl-C stops)")
    run_server(list(checkpoints), port=port, host=host, address=address, topology=topology, haproxy=haproxy)


@app.command()
def reproduce(
    paper: Annotated[str, typer.Argument(help="Paper to reproduce (`edgeplace scenarios` lists them)")],
    out: Annotated[Path, typer.Option(help="Report directory (runs, evaluations, report.md, PNGs)")],
    budget: Annotated[
        str, typer.Option(help="quick (< 1 h on 2 cores) or paper (the paper's budget)")
    ] = "quick",
    data: Annotated[
        Path | None, typer.Option(help="Dataset directory, for protocols that read one (vamappo)")
    ] = None,
    gpus_per_learner: Annotated[float, typer.Option(help="GPUs per RLlib learner")] = 0.0,
    address: AddressOpt = None,
) -> None:
    """Run a paper's protocol (resumable: rerun the same command to continue) and write its report."""
    from edgeplace.scenarios import get_reproduction

    _, protocol = get_reproduction(paper)
    options = {"budget": budget, "address": address, "num_gpus_per_learner": gpus_per_learner}
    if data is not None:
        if not protocol.reads_data:
            raise typer.BadParameter(f"--data: reproduce {paper} reads no dataset")
        options["data_dir"] = data
    report = protocol.run(out, console=console, **options)
    console.print(report.read_text(), markup=False, soft_wrap=True)
    console.print(f"report: {report}")


@app.command()
def quickstart(
    out: Annotated[Path, typer.Option(help="Where the run and the report go")] = Path("runs/quickstart"),
    timesteps: Annotated[
        int, typer.Option(help="MAPPO budget in agent decisions (~3 min on 2 cores)")
    ] = 102_400,
    episodes: Annotated[
        int | None, typer.Option(help="Test episodes per seed [default: one per request set]")
    ] = None,
) -> None:
    """Train MAPPO on a synthetic topology, evaluate it against greedy and random, print the table."""
    from edgeplace.quickstart import run_quickstart

    run_quickstart(out, timesteps=timesteps, episodes=episodes, console=console)


planners_app = typer.Typer(no_args_is_help=True, help="Soft planners: build a planner's memory.")
app.add_typer(planners_app, name="planners")


@planners_app.command("build-memory")
def build_memory(
    scenario: Annotated[str, typer.Argument(help="Scenario id whose planner has a memory (metaverse-dag)")],
    out: Annotated[Path, typer.Option(help="Memory directory (pass it as planner_options.memory_dir)")],
    windows: Annotated[int | None, typer.Option(help="Traces to record [default: the preset's]")] = None,
    preset: Annotated[str | None, typer.Option(help="Env preset (small | paper)")] = None,
    seed: int = 0,
    epochs: Annotated[int, typer.Option(help="Scorer training epochs on the recorded traces")] = 20,
) -> None:
    """Record baseline rollouts as planner traces, fit the planner's scorer on them and save both."""
    from edgeplace.scenarios import get_scenario, scenarios

    spec = get_scenario(scenario)
    if spec.planner_memory is None:
        having = [s.scenario_id for s in scenarios() if s.planner_memory is not None]
        raise ValueError(
            f"scenario {scenario!r} has no planner memory to build; scenarios with one: {having}"
        )
    env_config = {} if preset is None else {"preset": preset}
    path = spec.planner_memory(
        out, windows=windows, env_config=env_config, seed=seed, epochs=epochs, console=console
    )
    console.print(f"memory: {path}")


#: Errors a user can cause with bad input; reported as one line instead of a traceback.
USER_ERRORS = (ValueError, KeyError, FileNotFoundError)


def main() -> None:
    """Console entry point: run the app, turning user-input errors into a one-line message (exit 2)."""
    try:
        app(standalone_mode=True)
    except USER_ERRORS as err:
        message = err.args[0] if isinstance(err, KeyError) and err.args else err
        console.print(f"[red]error:[/] {message}")
        raise SystemExit(2) from None
