"""NodeRank pre-training targets (papers/agentvne.md, section f, "Targets").

NR is the biased NodeRank (Eq.20-24) of the residual state an observation shows, with the bias b of
each node (``NODE_BIAS``). For every real, non-anchor agent i:

- ``realized`` (default): Y_i = NR * m_i / ||NR * m_i||_2 with m_i the agent's host mask, so each row
  has the L2 scale of the network's output and is 0 where the agent cannot go;
- ``tiled``: Y_i = NR / ||NR||_2, one unmasked row repeated (the public code's choice).

Anchor rows, padded rows, rows whose target is all zero and padded columns are out of the loss.
GAL-VNE's target is the *unbiased* NodeRank, L2-normalised over the real nodes.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum

import numpy as np

from edgeplace.algos.baselines.agent_vne import noderank_scores
from edgeplace.envs.agent_vne.observation import VNEObsKey
from edgeplace.envs.agent_vne.request import NO_TARGET
from edgeplace.envs.agent_vne.static import StaticNetwork


class LabelMode(StrEnum):
    """How NodeRank becomes per-agent targets."""

    REALIZED = "realized"  # each agent's row masked by its host mask, then L2-normalised
    TILED = "tiled"  # one unmasked L2-normalised row for every agent


def residual_state(static: StaticNetwork, obs: Mapping[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """(node_free (N, 3), link_free_mbps (E,)) of the real nodes and links of one observation."""
    node_free = np.asarray(obs[VNEObsKey.NODE_RESIDUAL], dtype=np.float64)[: static.num_nodes]
    link_free = np.asarray(obs[VNEObsKey.LINK_RESIDUAL_BW], dtype=np.float64)[: static.num_edges]
    return node_free, link_free


def noderank_targets(
    static: StaticNetwork, obs: Mapping[str, np.ndarray], mode: LabelMode | str = LabelMode.REALIZED
) -> tuple[np.ndarray, np.ndarray]:
    """Targets Y and loss mask M of one observation.

    Shapes: ``obs`` as :class:`VNEObsKey` -> Y (Nv, Ns) float32, M (Nv, Ns) float32 0/1.
    """
    mode = LabelMode(mode)
    n = static.num_nodes
    bias = np.asarray(obs[VNEObsKey.NODE_BIAS], dtype=np.float64)[:n]
    rank = noderank_scores(static, *residual_state(static, obs), bias=bias)  # (N,)
    host_mask = np.asarray(obs[VNEObsKey.HOST_MASK])
    num_virtual, max_nodes = host_mask.shape
    rows = (np.asarray(obs[VNEObsKey.VN_MASK]) > 0.5) & (
        np.asarray(obs[VNEObsKey.ANCHOR_TARGET]) == NO_TARGET
    )
    if mode is LabelMode.REALIZED:
        weights = rank[None, :] * (host_mask[:, :n] > 0.5)  # (Nv, N)
    else:
        weights = np.broadcast_to(rank, (num_virtual, n))
    norm = np.linalg.norm(weights, axis=1, keepdims=True)  # (Nv, 1)
    rows &= norm[:, 0] > 0
    targets = np.zeros((num_virtual, max_nodes), dtype=np.float32)
    targets[rows, :n] = weights[rows] / norm[rows]
    loss_mask = rows[:, None] & (np.asarray(obs[VNEObsKey.SN_MASK]) > 0.5)[None, :]
    return targets, loss_mask.astype(np.float32)


def node_targets(static: StaticNetwork, obs: Mapping[str, np.ndarray]) -> np.ndarray:
    """GAL-VNE's target: unbiased NodeRank / its L2 norm on the real nodes, 0 on padding.

    Shapes: -> (Ns,) float32.
    """
    rank = noderank_scores(static, *residual_state(static, obs))  # (N,)
    out = np.zeros(static.max_nodes, dtype=np.float32)
    norm = np.linalg.norm(rank)
    if norm > 0:
        out[: static.num_nodes] = rank / norm
    return out
