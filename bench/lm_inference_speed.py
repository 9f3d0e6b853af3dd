"""lm-inference simulator and env speed on one core.

Simulator target (issue 21): one epoch of RF in <= 1 s. Measures, per controller, process CPU time (the
figure to trust on a shared machine; the simulator is single-threaded) and wall time:

- ``first epoch``: a fresh 50-slot episode (workload draw, simulator, controller, KPIs);
- ``steady epoch``: the mean epoch of a 12-epoch run (queues at their steady-state length).

The RLlib env (the training episode: 200 slots, 1,404 agent decisions): agent steps per CPU second of
``env.step`` alone, under masked uniform random actions (learned form) and under each controller's
policy (explicit form), beside the direct run of the same controller.

    python bench/lm_inference_speed.py [--repeats 5] [--controllers rf rl ma-rule]"""

from __future__ import annotations

import argparse
import functools
import statistics
import time
from collections.abc import Callable

from edgeplace.algos.baselines.lm_inference.hierarchies import HIERARCHIES, make_hierarchy
from edgeplace.algos.baselines.lm_inference.policies import BASELINES
from edgeplace.algos.baselines.lm_inference.reference import make_env
from edgeplace.envs.base import ALL_AGENTS
from edgeplace.envs.lm_inference.cluster import Cluster, load_cluster
from edgeplace.envs.lm_inference.env import LmInferenceEnv
from edgeplace.envs.lm_inference.episode import RunSpec, run_episode
from edgeplace.envs.lm_inference.params import LmInferenceParams
from edgeplace.obs_keys import ObsKey
from edgeplace.policy import Policy, act

TARGET_S = 1.0
"""Budget for one RF epoch, s."""


def timed(fn: Callable[[], object], repeats: int) -> tuple[float, float]:
    """Median (process CPU, wall) seconds of ``fn`` over ``repeats`` calls, after one warm-up call."""
    fn()
    cpus, walls = [], []
    for _ in range(repeats):
        cpu, wall = time.process_time(), time.perf_counter()
        fn()
        cpus.append(time.process_time() - cpu)
        walls.append(time.perf_counter() - wall)
    return statistics.median(cpus), statistics.median(walls)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument(
        "--controllers", nargs="+", default=["rf", "rl", "ma-rule"], choices=list(HIERARCHIES)
    )
    args = parser.parse_args()
    cluster, params = load_cluster(), LmInferenceParams()
    one_epoch = RunSpec(epochs=1, warmup_epochs=0, drain_slots=0)
    long_run = RunSpec(epochs=12)
    print(
        f"{'controller':<10} {'first epoch cpu s':>18} {'wall s':>8} {'steady epoch cpu s':>19} {'wall s':>8}"
    )
    for name in args.controllers:
        first = timed(functools.partial(run, cluster, name, one_epoch, params), args.repeats)
        cpu, wall = timed(functools.partial(run, cluster, name, long_run, params), args.repeats)
        steady = (cpu / long_run.epochs, wall / long_run.epochs)
        print(f"{name:<10} {first[0]:>18.3f} {first[1]:>8.3f} {steady[0]:>19.3f} {steady[1]:>8.3f}")
        if name == "rf":
            verdict = "meets" if max(first[0], steady[0]) <= TARGET_S else "MISSES"
            print(f"{'':<10} RF {verdict} the {TARGET_S:.0f} s per epoch target")
    env = make_env()
    print(f"\nenv: {env.horizon}-slot episodes, medians of {args.repeats} seeds, CPU s")
    print(f"{'actions':<14} {'agent steps/s (env.step)':>25} {'episode with policy':>20} {'direct run':>11}")
    rows = [("masked random", None)] + [(name, BASELINES[name](0, {})) for name in args.controllers]
    for label, policy in rows:
        episodes = [env_episode(env, policy, seed) for seed in range(args.repeats)]
        steps, env_cpu, total_cpu = (statistics.median(column) for column in zip(*episodes, strict=True))
        direct = ""
        if policy is not None:
            cpu, _ = timed(functools.partial(run, cluster, label, env.config.run_spec, params), args.repeats)
            direct = f"{cpu:.3f}"
        print(f"{label:<14} {steps / env_cpu:>25.0f} {total_cpu:>20.3f} {direct:>11}")


def env_episode(env: LmInferenceEnv, policy: Policy | None, seed: int) -> tuple[int, float, float]:
    """(agent steps, CPU s inside ``env.step``, CPU s of the whole episode) of one episode of ``policy``
    (None: masked uniform random actions)."""
    for n, space in enumerate(env.action_spaces.values()):
        space.seed(seed + n)
    begin = time.process_time()
    observations, _ = env.reset(seed=seed)
    steps, cpu = 0, 0.0
    while True:
        if policy is None:
            actions = {
                a: env.action_spaces[a].sample(mask=o[ObsKey.ACTION_MASK]) for a, o in observations.items()
            }
        else:
            actions = act(policy, observations)
        start = time.process_time()
        observations, _, _, truncated, _ = env.step(actions)
        cpu += time.process_time() - start
        steps += len(actions)
        if truncated[ALL_AGENTS]:
            return steps, cpu, time.process_time() - begin


def run(cluster: Cluster, name: str, spec: RunSpec, params: LmInferenceParams) -> None:
    """One seed-0 run of controller ``name``."""
    run_episode(cluster, make_hierarchy(name, cluster, params, 0), 0, spec, params)


if __name__ == "__main__":
    main()
