"""metaverse-dag env speed on one core: ms per ``env.step`` of the ``small`` preset (target <= 5 ms).

Plays whole episodes under the greedy and the random-from-mask baselines and times ``env.step`` alone
(the policies' time is reported beside it), as process CPU time (the figure to trust on a shared
machine; the env is single-threaded) and wall time, with the share of the step spent in the fluid
model, the metrics and the observation.

    python bench/metaverse_dag_speed.py [--episodes 3] [--preset small]
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from typing import Any

from edgeplace.algos.baselines.metaverse_dag import BASELINES
from edgeplace.envs.base import ALL_AGENTS
from edgeplace.envs.metaverse_dag import MetaverseDagEnv
from edgeplace.envs.metaverse_dag import env as env_module
from edgeplace.policy import act

TARGET_MS = 5.0


class Stopwatch:
    """Process CPU and wall seconds accumulated over the calls it wraps."""

    def __init__(self) -> None:
        self.cpu_s = self.wall_s = 0.0
        self.calls = 0

    def wrap(self, fn: Callable[..., Any]) -> Callable[..., Any]:
        def timed(*args: Any, **kwargs: Any) -> Any:
            cpu, wall = time.process_time(), time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                self.cpu_s += time.process_time() - cpu
                self.wall_s += time.perf_counter() - wall
                self.calls += 1

        return timed

    def ms_per(self, steps: int) -> float:
        return 1e3 * self.cpu_s / max(steps, 1)


def measure(name: str, env_config: dict[str, Any], episodes: int) -> dict[str, float]:
    """ms per step (CPU) of the env, its parts, and the policy, over ``episodes`` episodes."""
    parts = {part: Stopwatch() for part in ("evaluate", "step_metrics")}
    originals = {part: getattr(env_module, part) for part in parts}
    for part, watch in parts.items():
        setattr(env_module, part, watch.wrap(originals[part]))
    try:
        env = MetaverseDagEnv(env_config)
        policy = BASELINES[name](0, env_config)
        step, acting = Stopwatch(), Stopwatch()
        env_step, policy_act = step.wrap(env.step), acting.wrap(lambda obs: act(policy, obs))
        steps, walls = 0, []
        for episode in range(episodes):
            observations, _ = env.reset(seed=episode)
            wall = step.wall_s
            while True:
                observations, _, _, truncated, _ = env_step(policy_act(observations))
                steps += 1
                if truncated[ALL_AGENTS]:
                    break
            walls.append(1e3 * (step.wall_s - wall) / env.cfg.horizon)
    finally:
        for part, fn in originals.items():
            setattr(env_module, part, fn)
    return {
        "step_cpu_ms": step.ms_per(steps),
        "step_wall_ms": statistics.median(walls),
        "fluid_ms": parts["evaluate"].ms_per(steps),
        "metrics_ms": parts["step_metrics"].ms_per(steps),
        "policy_ms": acting.ms_per(steps),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--episodes", type=int, default=3)
    parser.add_argument("--preset", default="small")
    args = parser.parse_args()
    env_config = {"preset": args.preset}
    print(f"metaverse-dag {args.preset}: ms per env.step (CPU; target <= {TARGET_MS:g} ms)")
    for name in sorted(BASELINES):
        row = measure(name, env_config, args.episodes)
        rest = row["step_cpu_ms"] - row["fluid_ms"] - row["metrics_ms"]
        verdict = "ok" if row["step_cpu_ms"] <= TARGET_MS else "OVER"
        print(
            f"  {name:8s} step {row['step_cpu_ms']:6.2f} ms CPU ({row['step_wall_ms']:.2f} wall) [{verdict}]"
            f" = fluid {row['fluid_ms']:.2f} + metrics {row['metrics_ms']:.2f} + observation {rest:.2f};"
            f" policy {row['policy_ms']:.2f} ms"
        )


if __name__ == "__main__":
    main()
