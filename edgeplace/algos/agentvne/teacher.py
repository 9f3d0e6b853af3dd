"""The pre-training teacher: biased-NodeRank priority lists decoded by the greedy-BFS decoder
(papers/agentvne.md, section f, "Dataset")."""

from __future__ import annotations

import numpy as np

from edgeplace.algos.baselines.agent_vne import NodeRankBFSPolicy, noderank_scores
from edgeplace.envs.agent_vne.decoder import priority_ranks
from edgeplace.envs.agent_vne.observation import VNEObsKey


class BiasedNodeRankTeacher(NodeRankBFSPolicy):
    """NodeRank+BFS with the semantic layer's bias b on the constrained agents' target nodes (Eq.20's
    beta_cpu = b * ref_cpu); with b = 0 everywhere it is the ``noderank-bfs`` baseline."""

    name = "noderank-bfs-biased"

    def embed(self, request, obs, node_free, link_free):
        n = self.static.num_nodes
        bias = np.asarray(obs[VNEObsKey.NODE_BIAS], dtype=np.float64)[:n]
        scores = noderank_scores(self.static, node_free, link_free, bias=bias)
        v = request.num_agents
        mask = np.asarray(obs[VNEObsKey.HOST_MASK])[:v, :n]
        ranks = priority_ranks(np.broadcast_to(scores, (v, n)), mask)
        return self.decoder.decode(request, ranks, node_free, link_free)
