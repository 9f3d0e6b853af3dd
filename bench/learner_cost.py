"""Cost of one PPO-like learner epoch of the genai-chain placement module, per model config.

Observations are real: stage observations of random allowed placements on a synthetic GenAI
topology (genai-small: 25 nodes, padded to 32; genai-large: 100 nodes, padded to 112). Prints the
best of ``--repeats`` epochs (to discount other processes sharing the cores) and a batch-1 forward.

    python bench/learner_cost.py [--topology synthetic:genai-large] [--samples 5120] [--repeats 3]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch
from ray.rllib.core.columns import Columns

from edgeplace.envs.base import ALL_AGENTS
from edgeplace.envs.genai_chain import GenAIChainEnv
from edgeplace.models import placement_module_spec
from edgeplace.obs_keys import ObsKey

MINIBATCH = 320
CONFIGS = {
    "default": {},
    "separate-encoders": {"share_encoder": False},
    "item-hidden-128-64": {"item_hidden": (128, 64)},
    "paper": {"d_model": 128, "self_attention_layers": 1, "share_encoder": False, "item_hidden": (256, 128)},
}


def env_batch(topology: str, samples: int, seed: int = 0) -> tuple[GenAIChainEnv, dict[str, torch.Tensor]]:
    """``samples`` stage observations of random allowed placements, stacked per key."""
    env, rng = GenAIChainEnv({"topology": topology}), np.random.default_rng(seed)
    observations: list[dict[str, np.ndarray]] = []
    obs, _ = env.reset(seed=seed)
    while len(observations) < samples:
        ((agent, agent_obs),) = obs.items()
        observations.append(agent_obs)
        action = int(rng.choice(np.flatnonzero(agent_obs[ObsKey.ACTION_MASK] > 0)))
        obs, _, terminated, _, _ = env.step({agent: action})
        if terminated[ALL_AGENTS]:
            obs, _ = env.reset()
    stacked = {key: torch.from_numpy(np.stack([o[key] for o in observations])) for key in observations[0]}
    return env, stacked


def learner_epoch(module, obs: dict[str, torch.Tensor], actions: torch.Tensor) -> None:
    """One epoch in MINIBATCH slices: forward_train, clipped surrogate + value + entropy loss,
    backward, Adam step (advantages and old log-probabilities are stand-ins)."""
    optimizer = torch.optim.Adam(module.parameters(), lr=3e-4)
    dist_cls = module.get_train_action_dist_cls()
    for begin in range(0, len(actions), MINIBATCH):
        batch = {Columns.OBS: {key: value[begin : begin + MINIBATCH] for key, value in obs.items()}}
        out = module.forward_train(batch)
        dist = dist_cls.from_logits(out[Columns.ACTION_DIST_INPUTS])
        ratio = torch.exp(dist.logp(actions[begin : begin + MINIBATCH]))
        values = module.compute_values(batch, embeddings=out[Columns.EMBEDDINGS])
        loss = -ratio.clamp(0.8, 1.2).mean() + values.pow(2).mean() - 0.01 * dist.entropy().mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--topology", default="synthetic:genai-small")
    parser.add_argument("--samples", type=int, default=5120)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    env, obs = env_batch(args.topology, args.samples)
    actions = (torch.rand(obs[ObsKey.ACTION_MASK].shape) * obs[ObsKey.ACTION_MASK]).argmax(-1)  # allowed
    agent = env.possible_agents[0]
    print(f"{args.topology}: {args.samples} samples, {torch.get_num_threads()} torch threads")
    for name, model in CONFIGS.items():
        spec = placement_module_spec(model)
        spec.observation_space, spec.action_space = env.observation_spaces[agent], env.action_spaces[agent]
        module = spec.build()
        learner_epoch(module, {k: v[: 2 * MINIBATCH] for k, v in obs.items()}, actions[: 2 * MINIBATCH])
        epoch_s = []
        for _ in range(args.repeats):
            start = time.perf_counter()
            learner_epoch(module, obs, actions)
            epoch_s.append(time.perf_counter() - start)
        single = {Columns.OBS: {key: value[:1] for key, value in obs.items()}}
        start = time.perf_counter()
        for _ in range(100):
            module.forward_inference(single)
        batch1_ms = (time.perf_counter() - start) * 10  # 1000 ms / 100 calls
        best = min(epoch_s)
        print(f"{name:>20}: {best:.2f} s per epoch (best of {args.repeats}), batch-1 {batch1_ms:.2f} ms")


if __name__ == "__main__":
    main()
