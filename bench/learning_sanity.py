"""Learning sanity, measured: each scenario's main algorithm trained on a tiny seeded instance against
the random baseline, repeated, with the margins the CI tests (``tests/learning``) assert.

Runs the CI cases of :mod:`tests.learning.sanity` and agent-vne's AgentVNE, which is kept out of CI: on a
CI-sized substrate its greedy-BFS decoder does the work, so an *untrained* network is as far ahead of
random as the trained one (this script prints both), and the learning the test should show is not
measurable in CI time. From the repository root:

    python -m bench.learning_sanity [--case genai-chain/mappo] [--repeats 3]
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import numpy as np
import torch

from edgeplace.algos.agentvne.policy import AgentVNEPolicy
from edgeplace.algos.agentvne.similarity_task import FEATURE_DIM
from edgeplace.algos.train_config import TrainConfig
from edgeplace.envs.agent_vne import VNEKPI, static_network
from edgeplace.evaluation.runner import run_episodes
from edgeplace.models.resource_similarity import ResourceSimilarityNetwork, SimilarityConfig
from edgeplace.runtime import ensure_ray
from edgeplace.scenarios import get_scenario
from tests.learning.sanity import CASES, LearningCase, Target, measure

AGENT_VNE = "agent-vne/agentvne"
#: NodeRank pre-training on 4 x 20 arrivals (10 epochs), then two 50-decision PPO iterations, on a
#: 12-node Waxman substrate at lambda = 0.4.
BENCH_CASES = {
    **CASES,
    AGENT_VNE: LearningCase(
        TrainConfig(
            scenario="agent-vne",
            algo="agentvne",
            env_config={
                "topology": "waxman:nodes=12,seed=1",
                "arrivals_per_episode": 20,
                "arrival_rate": 0.4,
            },
            timesteps=100,
            train_batch_size=50,
            minibatch_size=25,
            num_epochs=1,
            num_envs_per_env_runner=2,
            lr=3e-4,
            lr_decay=False,
            checkpoint_every=100,
            model={"d_model": 16, "value_width": 16, "value_hidden": [16]},
            algo_options={
                "pretrain_episodes": 4,
                "pretrain_arrivals": 20,
                "pretrain_epochs": 10,
                "value_warmup_updates": 0,
                "arrival_rates": [0.4],
            },
        ),
        (Target(VNEKPI.WEIGHTED_HOPS, 10.0, higher_is_better=False),),
        episodes=10,
    ),
}


def untrained_agentvne(case: LearningCase, init_seed: int) -> float:
    """Mean weighted hops of an AgentVNE network that never trained (torch seed ``init_seed``)."""
    spec, env_config = get_scenario("agent-vne"), dict(case.train.env_config)
    static = static_network(env_config)
    torch.manual_seed(init_seed)
    network = ResourceSimilarityNetwork(
        static.max_nodes, FEATURE_DIM, SimilarityConfig.from_model_config(dict(case.train.model))
    )
    policy = AgentVNEPolicy(network, static, name="untrained")
    hops = [
        kpis[VNEKPI.WEIGHTED_HOPS]
        for seed in case.eval_seeds
        for kpis in run_episodes(lambda: spec.make_env(env_config), policy, seed=seed, episodes=case.episodes)
    ]
    return float(np.mean(hops))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--case", choices=sorted(BENCH_CASES), action="append", help="default: all")
    parser.add_argument("--repeats", type=int, default=3, help="training runs per case")
    args = parser.parse_args()
    ensure_ray()
    for name in args.case or sorted(BENCH_CASES):
        case = BENCH_CASES[name]
        worst = {target.kpi: np.inf for target in case.targets}
        for repeat in range(args.repeats):
            with tempfile.TemporaryDirectory() as run_dir:
                outcome = measure(case, Path(run_dir))
            for target in case.targets:
                kpi = target.kpi
                advantage = target.advantage(outcome.trained[kpi], outcome.random[kpi])
                worst[kpi] = min(worst[kpi], advantage)
                print(
                    f"{name} run {repeat + 1}: {kpi} trained {outcome.trained[kpi]:.4f} random "
                    f"{outcome.random[kpi]:.4f} advantage {advantage:.4f} (train {outcome.train_s:.1f} s)"
                )
        for target in case.targets:
            verdict = "holds" if worst[target.kpi] >= target.margin else "FAILS"
            print(
                f"{name}: {target.kpi} worst advantage {worst[target.kpi]:.4f}, margin {target.margin}:",
                verdict,
            )
        if name == AGENT_VNE:
            untrained = np.round([untrained_agentvne(case, seed) for seed in range(3)], 2).tolist()
            print(f"{name}: an untrained network (init seeds 0-2) gets weighted hops {untrained}")


if __name__ == "__main__":
    main()
