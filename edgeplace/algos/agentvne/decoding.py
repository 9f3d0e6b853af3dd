"""From masked log pi to env actions: priority lists (sorted or Plackett-Luce by Gumbel-top-k) decoded
by the scenario's greedy-BFS decoder (papers/agentvne.md, section e)."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from edgeplace.envs.agent_vne.decoder import (
    DEFAULT_RESTARTS,
    GreedyBFSDecoder,
    ListMode,
    priority_ranks,
)
from edgeplace.envs.agent_vne.feasibility import UNPLACED
from edgeplace.envs.agent_vne.observation import VNEObsKey, request_from_observation
from edgeplace.envs.agent_vne.static import StaticNetwork
from edgeplace.models.item_scoring_head import MASKED_LOGIT


class ListDecoder:
    """Decodes a batch of observations from their masked log pi.

    Args:
        static: the network the observations come from.
        restarts: R of the decoder.
    """

    def __init__(self, static: StaticNetwork, restarts: int = DEFAULT_RESTARTS) -> None:
        self.static = static
        self.decoder = GreedyBFSDecoder(static, restarts)

    def decode(
        self, log_pi: np.ndarray, obs: Mapping[str, np.ndarray], gumbel: np.ndarray | None = None
    ) -> np.ndarray:
        """Actions of B observations: hosts of each agent, Ns (= max_nodes) where unassigned.

        Lists sort ``log_pi + gumbel`` descending (``gumbel`` None: plain sort, ties -> lower id),
        keeping the nodes with log pi above MASKED_LOGIT / 2. Anchors go to their targets. On a
        failed decode the action holds the tentative hosts (the env rejects it).

        Shapes: log_pi (B, Nv, Ns); ``obs[key]`` (B, ...); gumbel (B, Nv, Ns) -> (B, Nv) int64.
        """
        static, n = self.static, self.static.num_nodes
        batch, num_virtual, _ = log_pi.shape
        actions = np.full((batch, num_virtual), static.max_nodes, dtype=np.int64)
        keys = log_pi if gumbel is None else log_pi + gumbel
        for row in range(batch):
            single = {key: value[row] for key, value in obs.items()}
            v = int(single[VNEObsKey.VN_MASK].sum())
            if v == 0:
                continue
            request = request_from_observation(single, static)
            keep = log_pi[row, :v, :n] > MASKED_LOGIT / 2
            ranks = priority_ranks(keys[row, :v, :n], keep, ListMode.SORT)
            node_free = np.asarray(single[VNEObsKey.NODE_RESIDUAL], dtype=np.float64)[:n]
            link_free = np.asarray(single[VNEObsKey.LINK_RESIDUAL_BW], dtype=np.float64)[: static.num_edges]
            _, hosts = self.decoder.decode_with_attempt(request, ranks, node_free, link_free)
            actions[row, :v] = np.where(hosts == UNPLACED, static.max_nodes, hosts)
        return actions
