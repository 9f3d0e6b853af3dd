"""agent-vne solving speed: requests embedded per second for AgentVNE inference and GRC greedy on 100-
and 500-node Waxman substrates, and the time to solve 1,000 tasks on the 100-node one (with GA measured
on a prefix of the same stream and extrapolated linearly).

Targets (issue 4): AgentVNE solves 1,000 tasks on 100 nodes in <= 10 s of inference time on 2 cores and
at least 5x faster than GA. Time counted per request: the policy's ``act_batch`` on the observation
(forward pass + greedy-BFS decoding + link mapping); the env's validation and commit are not counted.
Requests arrive one by one (batch of one), as online embedding has them. Without ``--checkpoint`` the
AgentVNE network has random weights (the same cost per forward; the decoder's work can differ slightly
from a trained model's).

    python bench/vne_throughput.py [--arrivals 200] [--tasks 1000] [--ga-tasks 50] [--checkpoint DIR]
        [--threads 1]
"""

from __future__ import annotations

import argparse
import time
from dataclasses import dataclass

import torch

from edgeplace.algos.agentvne.policy import AgentVNEPolicy
from edgeplace.algos.baselines import make_baseline
from edgeplace.envs.agent_vne import AGENT_ID, AgentVNEEnv, StepInfo, static_network
from edgeplace.envs.agent_vne.observation import FEATURE_DIM
from edgeplace.envs.base import ALL_AGENTS
from edgeplace.models.resource_similarity import ResourceSimilarityNetwork
from edgeplace.policy import Policy

#: Substrate size -> arrival rate (Table IV's proportional load: lambda = N / 100).
SIZES = {100: 1.0, 500: 5.0}


@dataclass
class Timing:
    requests: int
    accepted: int
    policy_s: float
    """Wall-clock seconds inside the policy."""
    cpu_s: float
    """CPU seconds of this process inside the policy (what an unloaded core would take, 1 thread)."""

    @property
    def per_second(self) -> float:
        return self.requests / self.policy_s if self.policy_s > 0 else float("inf")


def env_config(nodes: int, arrivals: int) -> dict:
    return {
        "topology": f"waxman:nodes={nodes},seed=42",
        "arrival_rate": SIZES[nodes],
        "arrivals_per_episode": arrivals,
    }


def agentvne(config: dict, checkpoint: str | None) -> AgentVNEPolicy:
    """The trained network of ``checkpoint``, else random weights of the right size."""
    if checkpoint:
        return AgentVNEPolicy.from_checkpoint(checkpoint, config)
    static = static_network(config)
    torch.manual_seed(0)
    return AgentVNEPolicy(ResourceSimilarityNetwork(static.max_nodes, FEATURE_DIM), static)


def time_policy(policy: Policy, config: dict, requests: int, seed: int = 0) -> Timing:
    """Play the first ``requests`` decisions of one episode; sum the policy's wall-clock."""
    env = AgentVNEEnv(config)
    obs, _ = env.reset(seed=seed)
    done = accepted = 0
    spent = cpu = 0.0
    while done < requests:
        start, start_cpu = time.perf_counter(), time.process_time()
        action = policy.act_batch([AGENT_ID], [obs[AGENT_ID]])[0]
        spent += time.perf_counter() - start
        cpu += time.process_time() - start_cpu
        obs, _, terminated, truncated, infos = env.step({AGENT_ID: action})
        done += 1
        accepted += bool(infos[AGENT_ID][StepInfo.ACCEPTED])
        if terminated[ALL_AGENTS] or truncated[ALL_AGENTS]:
            break
    return Timing(done, accepted, spent, cpu)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--arrivals", type=int, default=200, help="requests per throughput run")
    parser.add_argument("--tasks", type=int, default=1000, help="tasks of the solving-time run (100 nodes)")
    parser.add_argument("--ga-tasks", type=int, default=50, help="GA is timed on this prefix, extrapolated")
    parser.add_argument("--checkpoint", default=None, help="AgentVNE checkpoint for the 100-node runs")
    parser.add_argument("--threads", type=int, default=1, help="torch threads (see edgeplace.torch_threads)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    print(f"torch threads: {torch.get_num_threads()}\n")
    print("| substrate | policy | requests | accepted | wall (s) | CPU (s) | requests/s (wall) | (CPU) |")
    print("|---|---|---|---|---|---|---|---|")
    for nodes in SIZES:
        config = env_config(nodes, args.arrivals)
        policies = {
            "agentvne": agentvne(config, args.checkpoint if nodes == 100 else None),
            "greedy-grc": make_baseline("agent-vne", "greedy-grc", env_config=config),
        }
        for name, policy in policies.items():
            time_policy(policy, config, 5)  # warm-up: imports, first forward
            timing = time_policy(policy, config, args.arrivals)
            print(
                f"| waxman {nodes} | {name} | {timing.requests} | {timing.accepted} | "
                f"{timing.policy_s:.2f} | {timing.cpu_s:.2f} | {timing.per_second:,.1f} | "
                f"{timing.requests / timing.cpu_s:,.1f} |"
            )
    config = env_config(100, args.tasks)
    print(f"\nSolving time for {args.tasks} tasks on waxman 100 (lambda 1.0):\n")
    print("| policy | tasks timed | wall (s) | CPU (s) | all tasks, wall (s) | all tasks, CPU (s) | note |")
    print("|---|---|---|---|---|---|---|")
    ga = make_baseline("agent-vne", "ga", seed=0, env_config=config)
    totals, cpu_totals = {}, {}
    for name, policy, count in (
        ("agentvne", agentvne(config, args.checkpoint), args.tasks),
        ("greedy-grc", make_baseline("agent-vne", "greedy-grc", env_config=config), args.tasks),
        ("ga", ga, args.ga_tasks),
    ):
        timing = time_policy(policy, config, count)
        totals[name] = timing.policy_s * args.tasks / timing.requests
        cpu_totals[name] = timing.cpu_s * args.tasks / timing.requests
        note = (
            "measured"
            if timing.requests == args.tasks
            else f"extrapolated x{args.tasks / timing.requests:.0f}"
        )
        print(
            f"| {name} | {timing.requests} | {timing.policy_s:.2f} | {timing.cpu_s:.2f} | "
            f"{totals[name]:.2f} | {cpu_totals[name]:.2f} | {note} |"
        )
    print(
        f"\nGA / AgentVNE time ratio: {totals['ga'] / totals['agentvne']:.1f}x (wall), "
        f"{cpu_totals['ga'] / cpu_totals['agentvne']:.1f}x (CPU)"
    )


if __name__ == "__main__":
    main()
