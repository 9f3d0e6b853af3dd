"""Raw dnn-inference env speed: slots (env steps, every agent acting) per second, one process, with random
actions drawn before the clock starts, episode resets included.

``--form rllib`` steps the RLlib ``MultiAgentEnv``; ``--form pettingzoo`` its PettingZoo ``ParallelEnv``
(:mod:`edgeplace.pettingzoo`), to show the adapter's cost. Run it against another checkout (e.g. before a
change) with ``PYTHONPATH=OTHER_CHECKOUT python bench/dnn_env_throughput.py --form rllib``.

    python bench/dnn_env_throughput.py [--agents 8 10] [--slots 5000] [--repeats 5] [--form rllib pettingzoo]
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from edgeplace.envs.dnn_inference import DnnInferenceEnv


def random_actions(env: DnnInferenceEnv, slots: int, seed: int) -> list[dict[str, np.ndarray]]:
    """One action dict per slot, uniform over every agent's (structurally all allowed) action space."""
    rng = np.random.default_rng(seed)
    high = np.stack([env.action_spaces[agent].nvec for agent in env.possible_agents])  # (A, 3)
    draws = rng.integers(0, high, size=(slots, *high.shape))  # (slots, A, 3)
    return [dict(zip(env.possible_agents, row, strict=True)) for row in draws]


Form = tuple[Callable[[dict[str, Any]], bool], Callable[..., Any]]


def rllib_form(env: DnnInferenceEnv) -> Form:
    """(step: the RLlib env's, returning whether the episode ended; reset)."""
    return (lambda actions: env.step(actions)[3]["__all__"]), env.reset


def pettingzoo_form(env: DnnInferenceEnv) -> Form:
    """(step: the env's PettingZoo ParallelEnv's, returning whether the episode ended; reset)."""
    from edgeplace.pettingzoo import wrap_env

    parallel = wrap_env(env)

    def step(actions: dict[str, Any]) -> bool:
        parallel.step(actions)
        return not parallel.agents

    return step, parallel.reset


FORMS = {"rllib": rllib_form, "pettingzoo": pettingzoo_form}


def slots_per_second(form: str, agents: int, slots: int, seed: int) -> tuple[float, float]:
    """(slots per wall-clock second, slots per second of this process's CPU time: the figure to trust on
    a machine shared with other jobs)."""
    env = DnnInferenceEnv({"agents_per_service": agents // 2})
    step, reset = FORMS[form](env)
    reset(seed=seed)
    actions = random_actions(env, slots, seed)
    start, cpu = time.perf_counter(), time.process_time()
    for slot_actions in actions:
        if step(slot_actions):
            reset()
    return slots / (time.perf_counter() - start), slots / (time.process_time() - cpu)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--agents", type=int, nargs="+", default=[8, 10])
    parser.add_argument("--slots", type=int, default=5_000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--form", choices=sorted(FORMS), nargs="+", default=["rllib", "pettingzoo"])
    args = parser.parse_args()
    print(
        f"{'form':<11} {'agents':>6} {'median slots/s':>15} {'min':>8} {'max':>8} {'median slots/cpu-s':>19}"
    )
    for form in args.form:
        for agents in args.agents:
            slots_per_second(form, agents, 500, seed=99)  # warm-up: imports, caches
            runs = [slots_per_second(form, agents, args.slots, seed) for seed in range(args.repeats)]
            walls, cpus = [wall for wall, _ in runs], [cpu for _, cpu in runs]
            median, low, high, cpu = statistics.median(walls), min(walls), max(walls), statistics.median(cpus)
            print(f"{form:<11} {agents:>6} {median:>15,.0f} {low:>8,.0f} {high:>8,.0f} {cpu:>19,.0f}")


if __name__ == "__main__":
    main()
