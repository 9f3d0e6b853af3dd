"""VAMAPPO's cost per training iteration against plain MAPPO at the same batch size and network.

Builds both algorithms on the same scenario and model, warms each up for one iteration, then runs
them alternately (so machine noise hits both alike) and prints, per algorithm, the median wall time
per iteration, the median time of its learner update (connector, minibatches and optimizer steps) and
of the rest (sampling, weight sync, metrics), and the ratio of the medians. Target (issue 23):
VAMAPPO <= 1.3x MAPPO.

The learner seconds are measured around each iteration's ``LearnerGroup.update``: RLlib's own timers
are exponential moving averages that the slower warm-up iteration dominates for many iterations.

    python bench/vamappo_overhead.py [--iterations 4] [--topology synthetic:genai-small]
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from typing import Any

from rich.console import Console
from rich.table import Table

from edgeplace.algos.registry import build_algorithm_config
from edgeplace.algos.train_config import TrainConfig
from edgeplace.runtime import ensure_ray

ALGORITHMS = ("mappo", "vamappo")


def timed(update: Callable[..., Any], seconds: list[float]) -> Callable[..., Any]:
    """``update`` that appends its wall time to ``seconds`` on every call."""

    def run(*args: Any, **kwargs: Any) -> Any:
        start = time.perf_counter()
        try:
            return update(*args, **kwargs)
        finally:
            seconds.append(time.perf_counter() - start)

    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iterations", type=int, default=4, help="measured iterations per algorithm")
    parser.add_argument("--topology", default="synthetic:genai-small")
    parser.add_argument("--algo", action="append", help="compare these algorithms (default mappo, vamappo)")
    args = parser.parse_args()
    names = args.algo or list(ALGORITHMS)
    ensure_ray()
    algos, learner_seconds = {}, {name: [] for name in names}
    for name in names:
        config = TrainConfig(algo=name, env_config={"topology": args.topology, "split": "train"})
        algos[name] = build_algorithm_config(config).build_algo()
        algos[name].train()  # warm-up: module build, first connector pass
        group = algos[name].learner_group
        group.update = timed(group.update, learner_seconds[name])
    wall: dict[str, list[float]] = {name: [] for name in names}
    for _ in range(args.iterations):
        for name, algo in algos.items():
            wall[name].append(float(algo.train()["time_this_iter_s"]))
    for algo in algos.values():
        algo.stop()
    table = Table("algorithm", "s / iteration", "learner s", "other s", f"ratio to {names[0]}")
    base = statistics.median(wall[names[0]])
    for name in names:
        total, learner = statistics.median(wall[name]), statistics.median(learner_seconds[name])
        table.add_row(name, f"{total:.2f}", f"{learner:.2f}", f"{total - learner:.2f}", f"{total / base:.2f}")
    Console().print(table)
    for name in names:
        each = " ".join(f"{w:.2f}/{lr:.2f}" for w, lr in zip(wall[name], learner_seconds[name], strict=True))
        Console().print(f"{name} per iteration (s, learner s): {each}")


if __name__ == "__main__":
    main()
