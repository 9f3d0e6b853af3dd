"""Counterfactual successor observations for VAMAPPO's coordinated advantage (spec e4).

Given agent a's observation, its old policy's instance probabilities ``pi`` and the successor b's
actual observation, rebuild b's observation as if a had played its *mean action*: the predecessor
becomes the node marginal ``p(s) = sum_{n(m)=s} pi(m)`` and every field that a's placement fed into
b's observation is replaced by its expectation under ``pi``. Pure numpy over batches of K pairs; it
reads and writes the layouts of :mod:`edgeplace.envs.genai_chain.observation`, so this is the one
place that knows which fields a predecessor influences.
"""

from __future__ import annotations

import numpy as np

from edgeplace.envs.genai_chain.observation import (
    CAPACITY_SCALE,
    HOP_SCALE,
    SIZE_MB_SCALE,
    ItemFeature,
    NodeFeature,
    RequestFeature,
)
from edgeplace.envs.genai_chain.params import GenAIChainParams
from edgeplace.envs.genai_chain.system_model import sigmoid_utility
from edgeplace.obs_keys import ObsKey
from edgeplace.workloads.genai_chain import NUM_MODEL_TYPES, NUM_STAGES

#: Columns of the request vector holding the required model type one-hot (after stage and route).
REQUIRED_TYPE_COLUMNS = slice(
    NUM_STAGES + NUM_STAGES * NUM_MODEL_TYPES, NUM_STAGES + NUM_STAGES * NUM_MODEL_TYPES + NUM_MODEL_TYPES
)

Batch = dict[str, np.ndarray]


class CounterfactualSuccessor:
    """Builds b's observation under a's mean action.

    Args:
        hops: (N, N) hop counts of the topology the observations come from (N real nodes).
        params: the env's system-model constants.
    """

    def __init__(self, hops: np.ndarray, params: GenAIChainParams) -> None:
        self.hops = np.asarray(hops, dtype=np.float64)
        self.params = params
        self.demand = params.per_type("demand")  # (3,)

    def node_marginal(self, probs: np.ndarray, item_node: np.ndarray, num_nodes: int) -> np.ndarray:
        """``p(s) = sum_{n(m)=s} pi(m)``. Shapes: probs (K, M), item_node (K, M) -> (K, num_nodes)."""
        rows = np.arange(probs.shape[0])[:, None] * num_nodes + item_node.astype(np.int64)
        return np.bincount(rows.ravel(), probs.ravel(), probs.shape[0] * num_nodes).reshape(-1, num_nodes)

    def __call__(self, obs_a: Batch, probs_a: np.ndarray, obs_b: Batch) -> Batch:
        """The counterfactual observations of b (a new batch; the inputs are not modified).

        Shapes: every ``obs_*[key]`` has a leading K; probs_a (K, M) sums to 1 over a's allowed items.
        """
        nodes_a, nodes_b = obs_a[ObsKey.NODES], obs_b[ObsKey.NODES]
        max_nodes, real = nodes_b.shape[1], self.hops.shape[0]
        p = self.node_marginal(probs_a, obs_a[ObsKey.ITEM_NODE], max_nodes)  # (K, Nmax)
        expected_hops = np.zeros_like(p)
        expected_hops[:, :real] = p[:, :real] @ self.hops  # (K, Nmax): E[H[pred, s]]

        capacity = nodes_a[..., NodeFeature.CAPACITY] * CAPACITY_SCALE  # (K, Nmax); 0 on padding
        a_type = obs_a[ObsKey.REQUEST][:, REQUIRED_TYPE_COLUMNS].argmax(axis=1)  # (K,) 0-based
        added = p * self.demand[a_type][:, None]  # (K, Nmax) expected load a adds
        load_ratio = nodes_a[..., NodeFeature.LOAD_RATIO] + np.divide(
            added, capacity, out=np.zeros_like(added), where=capacity > 0
        )

        nodes = nodes_b.copy()
        nodes[..., NodeFeature.IS_PREDECESSOR] = p
        nodes[..., NodeFeature.HOPS_FROM_PREDECESSOR] = expected_hops / HOP_SCALE
        nodes[..., NodeFeature.LOAD_RATIO] = load_ratio

        request_b = obs_b[ObsKey.REQUEST]
        items = obs_b[ObsKey.ITEMS].copy()
        host = obs_b[ObsKey.ITEM_NODE].astype(np.int64)  # (K, M)
        host_p = np.take_along_axis(p, host, axis=1)
        input_mb = request_b[:, RequestFeature.INPUT_MB] * SIZE_MB_SCALE  # (K,)
        transfer_s = input_mb[:, None] / self.params.bandwidth_mb_s
        comm = (1.0 - host_p) * transfer_s + self.params.hop_delay_s * np.take_along_axis(
            expected_hops, host, axis=1
        )  # E[c(pred, n(m))], c = 0 when co-located
        telemetry = np.take_along_axis(nodes_b[..., NodeFeature.TELEMETRY], host, axis=1)
        host_load = np.take_along_axis(load_ratio, host, axis=1)
        compute = items[..., ItemFeature.PROFILED_S] * (1.0 + telemetry + 0.5 * host_load)
        latency = compute + comm
        items[..., ItemFeature.EST_COMPUTE_S] = compute
        items[..., ItemFeature.EST_COMM_S] = comm
        items[..., ItemFeature.EST_LATENCY_S] = latency
        items[..., ItemFeature.EST_LATENCY_UTILITY] = sigmoid_utility(
            request_b[:, RequestFeature.DEADLINE_S][:, None], latency, self.params.kappa_per_s
        )

        request = request_b.copy()
        items_a = obs_a[ObsKey.ITEMS]
        elapsed = obs_a[ObsKey.REQUEST][:, RequestFeature.ELAPSED_S] + (
            probs_a * items_a[..., ItemFeature.EST_LATENCY_S]
        ).sum(axis=1)
        deadline_so_far = request_b[:, RequestFeature.BUDGET_S] + request_b[:, RequestFeature.ELAPSED_S]
        request[:, RequestFeature.ELAPSED_S] = elapsed
        request[:, RequestFeature.BUDGET_S] = deadline_so_far - elapsed
        request[:, RequestFeature.PRED_QUALITY] = (probs_a * items_a[..., ItemFeature.QUALITY]).sum(axis=1)

        out = dict(obs_b)
        out[ObsKey.NODES] = nodes.astype(nodes_b.dtype)
        out[ObsKey.ITEMS] = items.astype(obs_b[ObsKey.ITEMS].dtype)
        out[ObsKey.REQUEST] = request.astype(request_b.dtype)
        return out
