"""Raw genai-chain env throughput: agent-steps per second with a random masked policy, one process.

Target (issue 2): >= 10,000 agent-steps/s on S3 (100 nodes). Uses the GenAI edge dataset when
../shared/data is present, else the built-in synthetic topologies of the same sizes.

    python bench/env_throughput.py [--steps 50000] [--repeats 5]
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import numpy as np

from edgeplace.envs.base import ALL_AGENTS
from edgeplace.envs.genai_chain import GenAIChainEnv
from edgeplace.obs_keys import ObsKey

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "genai-edge"
TOPOLOGIES = {
    "S1 (25 nodes)": (DATA / "Server1", "synthetic:genai-small"),
    "S3 (100 nodes)": (DATA / "Server3", "synthetic:genai-large"),
}


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
    print(f"{'topology':<16} {'uri':<58} {'median steps/s':>15} {'min':>9} {'max':>9}")
    for label, (directory, fallback) in TOPOLOGIES.items():
        uri = f"genai-edge:{directory}" if directory.is_dir() else fallback
        agent_steps_per_second(uri, 2_000)  # warm-up: load, path cache, imports
        runs = [agent_steps_per_second(uri, args.steps, seed) for seed in range(args.repeats)]
        print(
            f"{label:<16} {uri:<58} {statistics.median(runs):>15,.0f} {min(runs):>9,.0f} {max(runs):>9,.0f}"
        )


if __name__ == "__main__":
    main()
