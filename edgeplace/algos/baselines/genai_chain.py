"""Heuristic policies of the genai-chain scenario (spec f), acting on observations only."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from edgeplace.algos.baselines.stacking import item_mask, masked_argmax, stack_observations
from edgeplace.envs.genai_chain import GenAIChainParams, ItemFeature, NodeFeature, RequestFeature
from edgeplace.envs.genai_chain.observation import CAPACITY_SCALE, REQUEST_DIM
from edgeplace.obs_keys import ObsKey
from edgeplace.policy import Observation

_REQUIRED_TYPE = slice(REQUEST_DIM - 14, REQUEST_DIM - 11)  # the required-type one-hot


def _node_values(batch: dict[str, np.ndarray], values: np.ndarray) -> np.ndarray:
    """Gather per-node values at each item's host node. Shapes: values (B, N) -> (B, M)."""
    return np.take_along_axis(values, batch[ObsKey.ITEM_NODE].astype(np.int64), axis=1)


class GreedyPolicy:
    """Among nodes hosting the required type, the one with the most free capacity C - L (lowest index on
    ties), then its highest-quality instance of that type."""

    name = "greedy"

    def act_batch(self, agent_ids: Sequence[str], observations: Sequence[Observation]) -> np.ndarray:
        batch = stack_observations(observations)
        nodes, mask = batch[ObsKey.NODES], item_mask(batch)
        capacity = nodes[..., NodeFeature.CAPACITY] * CAPACITY_SCALE
        free = _node_values(batch, capacity * (1.0 - nodes[..., NodeFeature.LOAD_RATIO]))
        item_node = batch[ObsKey.ITEM_NODE].astype(np.int64)
        best_free = np.where(mask, free, -np.inf).max(axis=1, keepdims=True)
        best_node = np.where(mask & (free == best_free), item_node, np.iinfo(np.int64).max).min(axis=1)
        on_best_node = mask & (item_node == best_node[:, None])
        return masked_argmax(batch[ObsKey.ITEMS][..., ItemFeature.QUALITY], on_best_node)


class RandomPolicy:
    """A uniformly random node among those hosting the required type, then a uniformly random allowed
    instance on it."""

    name = "random"

    def __init__(self, seed: int | None = None) -> None:
        self.rng = np.random.default_rng(seed)

    def act_batch(self, agent_ids: Sequence[str], observations: Sequence[Observation]) -> np.ndarray:
        batch = stack_observations(observations)
        mask = item_mask(batch)
        item_node = batch[ObsKey.ITEM_NODE].astype(np.int64)
        max_nodes = batch[ObsKey.NODES].shape[1]
        per_node = np.zeros((mask.shape[0], max_nodes))
        np.add.at(per_node, (np.arange(mask.shape[0])[:, None].repeat(mask.shape[1], 1), item_node), mask)
        hosts = (per_node > 0).sum(axis=1, keepdims=True)
        weights = np.where(mask, 1.0 / np.maximum(_node_values(batch, per_node) * hosts, 1.0), 0.0)
        cumulative = np.cumsum(weights, axis=1)
        draws = self.rng.random((mask.shape[0], 1)) * cumulative[:, -1:]
        return np.minimum((cumulative <= draws).sum(axis=1), mask.shape[1] - 1)


class UtilityGreedyPolicy:
    """Diagnostic (not in the paper): argmax of omega Q + (1 - omega) U_lat_hat - eta overload."""

    name = "utility-greedy"

    def __init__(self, params: GenAIChainParams | None = None) -> None:
        self.params = params or GenAIChainParams()

    def act_batch(self, agent_ids: Sequence[str], observations: Sequence[Observation]) -> np.ndarray:
        batch = stack_observations(observations)
        request, nodes, items = batch[ObsKey.REQUEST], batch[ObsKey.NODES], batch[ObsKey.ITEMS]
        omega = request[:, RequestFeature.OMEGA, None]
        demand = request[:, _REQUIRED_TYPE] @ self.params.per_type("demand")
        capacity = np.maximum(nodes[..., NodeFeature.CAPACITY] * CAPACITY_SCALE, 1e-9)
        overload = np.maximum(nodes[..., NodeFeature.LOAD_RATIO] + demand[:, None] / capacity - 1.0, 0.0)
        score = (
            omega * items[..., ItemFeature.QUALITY]
            + (1.0 - omega) * items[..., ItemFeature.EST_LATENCY_UTILITY]
            - self.params.overload_penalty * _node_values(batch, overload)
        )
        return masked_argmax(score, item_mask(batch))


#: The genai-chain baselines by name: ``(seed, env_config) -> Policy``.
BASELINES = {
    "random": lambda seed, env_config: RandomPolicy(seed),
    "greedy": lambda seed, env_config: GreedyPolicy(),
    "utility-greedy": lambda seed, env_config: UtilityGreedyPolicy(),
}
