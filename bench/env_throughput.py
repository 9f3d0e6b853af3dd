"""Raw genai-chain env throughput: agent-steps per second with a random masked policy, one process.

Target (issue 2): >= 10,000 agent-steps/s on S3 (100 nodes), on the shipped GenAI edge dataset.

    python bench/env_throughput.py [--steps 50000] [--repeats 5]
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

from edgeplace.envs.base import ALL_AGENTS
from edgeplace.envs.genai_chain import GenAIChainEnv
from edgeplace.obs_keys import ObsKey

TOPOLOGIES = {"S1 (25 nodes)": "genai-edge:S1", "S3 (100 nodes)": "genai-edge:S3"}


def agent_steps_per_second(topology: str, steps: int, seed: int = 0) -> float:
    """Steps the env ``steps`` times with uniformly random allowed actions; returns steps/s."""
    env = GenAIChainEnv({"topology": topology, "split": "train"})
    rng = np.random.default_rng(seed)
    obs, _ = env.reset(seed=seed)
    start = time.perf_counter()
    for _ in range(steps):
        ((agent, agent_obs),) = obs.items()
        action = rng.choice(np.flatnonzero(agent_obs[ObsKey.ACTION_MASK]))
        obs, _, terminated, _, _ = env.step({agent: action})
        if terminated[ALL_AGENTS]:
            obs, _ = env.reset()
    return steps / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=50_000)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    print(f"{'topology':<16} {'uri':<16} {'median steps/s':>15} {'min':>9} {'max':>9}")
    for label, uri in TOPOLOGIES.items():
        agent_steps_per_second(uri, 2_000)  # warm-up: load, path cache, imports
        runs = [agent_steps_per_second(uri, args.steps, seed) for seed in range(args.repeats)]
        print(
            f"{label:<16} {uri:<16} {statistics.median(runs):>15,.0f} {min(runs):>9,.0f} {max(runs):>9,.0f}"
        )


if __name__ == "__main__":
    main()
