"""Cost of one PPO-like learner epoch of PlacementPPOModule; prints timings (run with -m slow -s).

The scenario's sizes: M = 227 items, a third of them allowed per decision (one model type of three),
F_req 34, F_node 13, F_item 6.
"""

import time

import gymnasium as gym
import pytest
import torch
from ray.rllib.core.columns import Columns

from edgeplace.models import PlacementPPOModule, placement_module_spec
from edgeplace.obs_keys import ObsKey

SAMPLES, MINIBATCH = 5_120, 320
SCENARIO = {"num_items": 227, "request_dim": 34, "node_dim": 13, "item_dim": 6}
ALLOWED_FRACTION = 1 / 3
REPEATS = 3
"""Epochs timed; the fastest is printed, to discount other processes sharing the cores."""
CONFIGS = {
    "default": {},
    "separate-encoders": {"share_encoder": False},
    "item-hidden-128-64": {"item_hidden": (128, 64)},
    "paper": {"d_model": 128, "self_attention_layers": 1, "share_encoder": False, "item_hidden": (256, 128)},
}


def learner_epoch(module: PlacementPPOModule, obs: dict[str, torch.Tensor], actions: torch.Tensor) -> None:
    """One epoch over ``obs`` in MINIBATCH slices: forward_train, clipped surrogate + value + entropy
    loss, backward, Adam step (advantages and targets are stand-ins).
    """
    optimizer = torch.optim.Adam(module.parameters(), lr=3e-4)
    dist_cls = module.get_train_action_dist_cls()
    for begin in range(0, len(actions), MINIBATCH):
        batch = {Columns.OBS: {key: value[begin : begin + MINIBATCH] for key, value in obs.items()}}
        out = module.forward_train(batch)
        dist = dist_cls.from_logits(out[Columns.ACTION_DIST_INPUTS])
        ratio = torch.exp(dist.logp(actions[begin : begin + MINIBATCH]))  # old logp 0 stands in
        values = module.compute_values(batch, embeddings=out[Columns.EMBEDDINGS])
        loss = -ratio.clamp(0.8, 1.2).mean() + values.pow(2).mean() - 0.01 * dist.entropy().mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()


@pytest.mark.slow
@pytest.mark.parametrize("num_nodes", [32, 128])
@pytest.mark.parametrize("name", list(CONFIGS))
def test_print_learner_epoch_cost(make_space, make_obs, name, num_nodes):
    space = make_space(num_nodes=num_nodes, **SCENARIO)
    spec = placement_module_spec(CONFIGS[name])
    spec.observation_space = space
    spec.action_space = gym.spaces.Discrete(space[ObsKey.ACTION_MASK].shape[0])
    module = spec.build()
    obs = make_obs(SAMPLES, num_nodes=num_nodes, allowed_fraction=ALLOWED_FRACTION, **SCENARIO)
    actions = (torch.rand(obs[ObsKey.ACTION_MASK].shape) * obs[ObsKey.ACTION_MASK]).argmax(-1)  # allowed
    warm_up = slice(0, 2 * MINIBATCH)
    learner_epoch(module, {key: value[warm_up] for key, value in obs.items()}, actions[warm_up])
    epoch_s = []
    for _ in range(REPEATS):
        start = time.perf_counter()
        learner_epoch(module, obs, actions)
        epoch_s.append(time.perf_counter() - start)
    seconds = min(epoch_s)
    single = {Columns.OBS: {key: value[:1] for key, value in obs.items()}}
    start = time.perf_counter()
    for _ in range(100):
        module.forward_inference(single)
    batch1_ms = (time.perf_counter() - start) * 10  # 1000 ms / 100 calls
    print(
        f"\n{name} N={num_nodes} ({torch.get_num_threads()} threads): {seconds:.2f} s per {SAMPLES}-sample "
        f"epoch (best of {REPEATS}; ~{10 * seconds:.1f} s per 10 epochs), batch-1 forward {batch1_ms:.2f} ms"
    )
