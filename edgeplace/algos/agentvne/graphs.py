"""agent-vne observations -> the AgentVNE model input, and the masked sampling distribution pi
(papers/agentvne.md, sections d and e)."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import torch
from torch import Tensor

from edgeplace.envs.agent_vne.observation import VNEObsKey
from edgeplace.envs.agent_vne.request import NO_TARGET
from edgeplace.models.graph_pair import GraphPair
from edgeplace.models.item_scoring_head import MASKED_LOGIT

#: The observation keys the similarity and value networks read.
MODEL_KEYS = (
    VNEObsKey.NODE_FEATURES,
    VNEObsKey.SN_MASK,
    VNEObsKey.REQUEST_FEATURES,
    VNEObsKey.REQUEST_ADJACENCY,
    VNEObsKey.VN_MASK,
)
#: The keys that define the sampling distribution pi besides the scores (see :func:`masked_log_pi`).
POLICY_KEYS = (VNEObsKey.HOST_MASK, VNEObsKey.VN_MASK, VNEObsKey.ANCHOR_TARGET)


def as_tensors(obs: Mapping[str, np.ndarray | Tensor]) -> dict[str, Tensor]:
    """A batched observation dict as tensors (numpy arrays are shared, not copied)."""
    return {
        key: value if isinstance(value, Tensor) else torch.from_numpy(np.ascontiguousarray(value))
        for key, value in obs.items()
    }


def graph_pair(obs: Mapping[str, Tensor], adjacency: Tensor) -> GraphPair:
    """The model input of a batched observation.

    Shapes: ``obs[key]`` (B, ...) as in :class:`VNEObsKey`; adjacency (Ns, Ns) static substrate
    adjacency -> GraphPair.
    """
    return GraphPair.build(
        obs[VNEObsKey.REQUEST_FEATURES],
        obs[VNEObsKey.REQUEST_ADJACENCY],
        obs[VNEObsKey.VN_MASK],
        obs[VNEObsKey.NODE_FEATURES],
        adjacency,
        obs[VNEObsKey.SN_MASK],
    )


def policy_rows(obs: Mapping[str, Tensor]) -> Tensor:
    """Agents that get a sampling distribution: real, non-anchor agents. Shapes: -> (B, Nv) bool."""
    return (obs[VNEObsKey.VN_MASK] > 0.5) & (obs[VNEObsKey.ANCHOR_TARGET] == NO_TARGET)


#: Smallest log pi of a feasible node (pi >= 1e-8).
LOG_PI_FLOOR = float(np.log(1e-8))


def masked_log_pi(log_scores: Tensor, obs: Mapping[str, Tensor]) -> Tensor:
    """log pi_i(j) = log(S_ij m_ij / sum_j' S_ij' m_ij') with m = HOST_MASK (spec e), MASKED_LOGIT where
    m_ij = 0, and whole rows at MASKED_LOGIT for anchors, padded agents and agents no node can host.

    ``log_scores`` is log S for any positive scores proportional to P within a row: the sigmoid scores
    before Eq.19's row normalisation give the same pi and, in log space (``logsigmoid``), stay finite
    where the sigmoid underflows. log pi is floored at LOG_PI_FLOOR so PPO's probability ratio stays
    finite when a realised host had a vanishing probability.

    Shapes: log_scores (B, Nv, Ns); ``obs`` batched -> (B, Nv, Ns).
    """
    keep = (obs[VNEObsKey.HOST_MASK] > 0.5) & policy_rows(obs).unsqueeze(-1)  # (B, Nv, Ns)
    masked = torch.where(keep, log_scores, torch.full_like(log_scores, MASKED_LOGIT))  # finite everywhere
    log_pi = (masked - torch.logsumexp(masked, dim=-1, keepdim=True)).clamp_min(LOG_PI_FLOOR)
    return torch.where(keep, log_pi, torch.full_like(log_pi, MASKED_LOGIT))
