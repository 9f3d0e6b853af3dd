"""HISPER's cost at a reproduction budget's sizes: ms per update and per acting round, and one iteration.

Builds the learner at the sizes of ``--budget`` (``paper``: the spec's critic 512-512-256-256-128, LSTM
128, embeddings 32, batch 1,000; ``quick``: the sizes of ``edgeplace.reproduce.hisper.BUDGETS["quick"]``)
on the dnn-inference env, then measures on the CPU (and on a GPU when one is present):

- one update (critic step + sequential actor steps + Polyak), split into critic and actor parts;
- one acting round for the collector's 20 envs: the batched forward for all envs x agents, the same
  with one forward per agent (what the issue measured at ~19 ms), and the 20 env steps;
- one evaluation (10 seeds x 100 slots, argmax).

From these it composes one budget iteration per 2,000 steps (100 rounds, the budget's updates per 2,000
steps, one evaluation per ``eval_interval_steps``), the share of acting + env + evaluation in its wall
time, and the projected training run (the budget's steps after its prefill).

    python bench/hisper_speed.py [--budget paper|quick] [--agents 8] [--repeats 3] [--device cpu|cuda|all]
        [--json OUT]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
from rich.console import Console
from rich.table import Table

from edgeplace.algos.hisper.collector import JointCollector, evaluate, uniform_actions
from edgeplace.algos.hisper.joint_view import JointStateLayout
from edgeplace.algos.hisper.learner import Batch, HISPERLearner
from edgeplace.algos.hisper.replay import Column, JointReplayBuffer
from edgeplace.algos.hisper.settings import HISPERSettings
from edgeplace.envs.dnn_inference import DnnInferenceEnv, agent_service
from edgeplace.models.autoregressive_head import ActionMode
from edgeplace.reproduce.hisper import BUDGETS, Budget

STEPS_PER_BLOCK = 2000


def timed(fn: Callable[[], object], repeats: int, device: torch.device) -> tuple[float, float]:
    """Median (wall, process CPU) seconds of ``fn`` over ``repeats`` calls, after one warm-up call.

    CPU time is what the work costs this process; on a machine shared with other jobs it is the
    figure to trust (wall time then includes waiting for a core).
    """

    def sync() -> None:
        if device.type == "cuda":
            torch.cuda.synchronize(device)

    fn()
    sync()
    walls, cpus = [], []
    for _ in range(repeats):
        start, cpu = time.perf_counter(), time.process_time()
        fn()
        sync()
        walls.append(time.perf_counter() - start)
        cpus.append(time.process_time() - cpu)
    return statistics.median(walls), statistics.median(cpus)


def measure(device: torch.device, agents_per_service: int, budget: Budget, repeats: int, envs: int) -> dict:
    settings = HISPERSettings(**budget.model)
    batch_size = budget.batch_size
    env_config = {"agents_per_service": agents_per_service}
    collector = JointCollector([DnnInferenceEnv(env_config) for _ in range(envs)], seed=0)
    env = collector.envs[0]
    agents = env.possible_agents
    layout = JointStateLayout.from_layout(env.layout, agents)
    masks = np.stack([env.layout.structural_mask(agent_service(agent)) for agent in agents])
    learner = HISPERLearner(layout, masks, settings, gamma=0.95, seed=0, device=device)
    columns = {
        "state": Column((layout.state_dim,), "float32"),
        "actions": Column((len(agents), 3), "int16"),
        "rewards": Column((3,), "float32"),
        "next_state": Column((layout.state_dim,), "float32"),
        "terminated": Column((), "bool"),
    }
    replay = JointReplayBuffer(4 * batch_size, columns, seed=0)
    rng = np.random.default_rng(0)
    while len(replay) < replay.capacity:
        replay.add(collector.step(uniform_actions(env, rng, envs))[0])
    rows = replay.sample(batch_size)
    batch = Batch(rows, device)
    figures: dict[str, tuple[float, float]] = {}  # name -> (wall s, cpu s)
    figures["update"] = timed(lambda: learner.update(rows), repeats, device)
    figures["critic_step"] = timed(lambda: learner.critic_step(batch), repeats, device)
    figures["actor_steps"] = timed(lambda: learner.actor_steps(batch), repeats, device)
    states = collector.states
    rounds = max(10, 5 * repeats)
    figures["act_round"] = timed(lambda: learner.act(states), rounds, device)

    @torch.inference_mode()
    def per_agent() -> None:
        tensor = torch.as_tensor(states, device=device)
        requests, servers, links = learner.actor_inputs(tensor)
        for n, actor in enumerate(learner.actors):
            masks_n = [m[n] for m in learner.masks]
            actor(requests[n], servers, links, masks_n, mode=ActionMode.SAMPLE).actions.cpu()

    figures["act_round_per_agent"] = timed(per_agent, rounds, device)
    actions = learner.act(states)
    figures["env_round"] = timed(lambda: collector.step(actions), rounds, device)
    eval_envs = [DnnInferenceEnv(env_config) for _ in range(settings.eval_episodes)]
    seeds = [settings.eval_seed_base + i for i in range(settings.eval_episodes)]
    figures["evaluation"] = timed(
        lambda: evaluate(eval_envs, seeds, lambda s: learner.act(s, explore=False)), 1, device
    )
    out: dict[str, float] = {}
    for name, (wall, cpu) in figures.items():
        out[f"{name}_ms"], out[f"{name}_cpu_ms"] = 1e3 * wall, 1e3 * cpu
    blocks = budget.steps / STEPS_PER_BLOCK
    updates_per_block = budget.updates_per_iteration * STEPS_PER_BLOCK / budget.steps_per_iteration
    for kind, index in (("wall", 0), ("cpu", 1)):
        sampling = STEPS_PER_BLOCK / envs * (figures["act_round"][index] + figures["env_round"][index])
        updates = updates_per_block * figures["update"][index]
        evaluation = STEPS_PER_BLOCK / budget.eval_interval_steps * figures["evaluation"][index]
        iteration = sampling + updates + evaluation
        out[f"per_2000_steps_sampling_s_{kind}"] = sampling
        out[f"per_2000_steps_updates_s_{kind}"] = updates
        out[f"per_2000_steps_evaluation_s_{kind}"] = evaluation
        out[f"per_2000_steps_s_{kind}"] = iteration
        out[f"acting_env_eval_share_{kind}"] = (sampling + evaluation) / iteration
        prefill = budget.prefill_steps / envs * figures["env_round"][index]
        out[f"training_run_h_{kind}"] = (blocks * iteration + prefill) / 3600
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--agents", type=int, default=8, help="agents in all (2N): 8 or 10")
    parser.add_argument("--budget", choices=sorted(BUDGETS), default="paper", help="sizes and update ratio")
    parser.add_argument("--envs", type=int, default=20)
    parser.add_argument("--repeats", type=int, default=3, help="timed calls per measurement (median)")
    parser.add_argument("--device", choices=("cpu", "cuda", "all"), default="all")
    parser.add_argument("--json", type=Path, help="also write the figures as JSON")
    args = parser.parse_args()
    if args.agents % 2:
        raise SystemExit(f"--agents must be even (N OD + N MOT), got {args.agents}")
    devices = [torch.device("cpu")] if args.device in ("cpu", "all") else []
    if args.device in ("cuda", "all") and torch.cuda.is_available():
        devices.append(torch.device("cuda"))
    elif args.device == "cuda":
        raise SystemExit("--device cuda: no CUDA device here")
    budget = BUDGETS[args.budget]
    results = {str(d): measure(d, args.agents // 2, budget, args.repeats, args.envs) for d in devices}
    table = Table("figure", *results)
    for key in next(iter(results.values())):
        table.add_row(key, *(f"{r[key]:.3f}" if r[key] < 10 else f"{r[key]:.1f}" for r in results.values()))
    Console().print(
        f"HISPER at {budget.name} sizes: {args.agents} agents, batch {budget.batch_size}, {args.envs} envs, "
        f"torch threads {torch.get_num_threads()}"
    )
    Console().print(table)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
