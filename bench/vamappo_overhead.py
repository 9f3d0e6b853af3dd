"""VAMAPPO's cost per training iteration against plain MAPPO at the same batch size and network.

Builds both algorithms on the same scenario and model, warms each up for one iteration, then runs
them alternately (so machine noise hits both alike) and prints the median wall time per iteration,
its sampling / learner split, and the ratio. Target (issue 3): VAMAPPO <= 1.5x MAPPO.

    python bench/vamappo_overhead.py [--iterations 4] [--topology synthetic:genai-small]
"""

from __future__ import annotations

import argparse
import statistics

from ray.rllib.utils.metrics import ENV_RUNNER_SAMPLING_TIMER, LEARNER_UPDATE_TIMER, TIMERS
from rich.console import Console
from rich.table import Table

from edgeplace.algos.registry import build_algorithm_config
from edgeplace.algos.train_config import TrainConfig
from edgeplace.runtime import ensure_ray

ALGORITHMS = ("mappo", "vamappo")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iterations", type=int, default=4, help="measured iterations per algorithm")
    parser.add_argument("--topology", default="synthetic:genai-small")
    parser.add_argument("--algo", action="append", help="compare these algorithms (default mappo, vamappo)")
    args = parser.parse_args()
    names = args.algo or list(ALGORITHMS)
    ensure_ray()
    algos = {}
    for name in names:
        config = TrainConfig(algo=name, env_config={"topology": args.topology, "split": "train"})
        algos[name] = build_algorithm_config(config).build_algo()
        algos[name].train()  # warm-up: module build, first connector pass
    samples: dict[str, list[tuple[float, float, float]]] = {name: [] for name in names}
    for _ in range(args.iterations):
        for name, algo in algos.items():
            result = algo.train()
            timers = result.get(TIMERS, {})
            samples[name].append(
                (
                    float(result["time_this_iter_s"]),
                    float(timers.get(ENV_RUNNER_SAMPLING_TIMER, float("nan"))),
                    float(timers.get(LEARNER_UPDATE_TIMER, float("nan"))),
                )
            )
    for algo in algos.values():
        algo.stop()
    table = Table("algorithm", "s / iteration (median)", "sampling s", "learner s", f"ratio to {names[0]}")
    base = statistics.median(s[0] for s in samples[names[0]])
    for name in names:
        wall, sampling, learner = (statistics.median(column) for column in zip(*samples[name], strict=True))
        table.add_row(name, f"{wall:.2f}", f"{sampling:.2f}", f"{learner:.2f}", f"{wall / base:.2f}")
    Console().print(table)


if __name__ == "__main__":
    main()
