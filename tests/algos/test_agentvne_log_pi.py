"""The sampling distribution pi of AgentVNE (spec e) from log scores: the same pi as the normalised
similarity P, finite values and gradients where the sigmoid saturates, and the masks."""

from __future__ import annotations

import pytest
import torch
from torch.nn import functional as F

from edgeplace.algos.agentvne.graphs import LOG_PI_FLOOR, masked_log_pi
from edgeplace.envs.agent_vne import VNEObsKey
from edgeplace.envs.agent_vne.request import NO_TARGET
from edgeplace.models.item_scoring_head import MASKED_LOGIT


def _obs() -> dict[str, torch.Tensor]:
    """One request: agent 0 may use nodes 0-2, agent 1 only node 2, agent 2 is an anchor, 3 is padding."""
    return {
        VNEObsKey.HOST_MASK: torch.tensor([[[1.0, 1, 1], [0, 0, 1], [1, 0, 0], [0, 0, 0]]]),
        VNEObsKey.VN_MASK: torch.tensor([[1.0, 1, 1, 0]]),
        VNEObsKey.ANCHOR_TARGET: torch.tensor([[NO_TARGET, NO_TARGET, 0, NO_TARGET]]),
    }


def test_pi_from_log_scores_is_the_normalised_similarity_restricted_to_feasible_nodes():
    z = torch.tensor([[[0.5, -1.0, 2.0], [0.3, 0.1, -0.4], [1.0, 1.0, 1.0], [0.0, 0.0, 0.0]]])
    log_pi = masked_log_pi(F.logsigmoid(z), _obs())
    similarity = torch.sigmoid(z[0, 0])
    row_l2 = similarity / similarity.norm()  # Eq.19's P: the row scale cancels in pi
    torch.testing.assert_close(log_pi[0, 0].exp(), row_l2 / row_l2.sum())
    assert log_pi[0, 1].tolist()[:2] == [MASKED_LOGIT, MASKED_LOGIT] and log_pi[0, 1, 2].item() == 0.0
    assert (log_pi[0, 2:] == MASKED_LOGIT).all()  # the anchor and the padded agent have no distribution


def test_saturated_scores_give_finite_log_pi_and_gradients():
    z = torch.tensor(
        [[[-200.0, -300.0, 150.0], [0.0, 0.0, -500.0], [0.0] * 3, [0.0] * 3]], requires_grad=True
    )
    log_pi = masked_log_pi(F.logsigmoid(z), _obs())
    assert torch.isfinite(log_pi).all()
    # sigmoid(-200) underflows to 0 in float32; in log space node 0 keeps its (floored) probability
    assert log_pi[0, 0, 0].item() == pytest.approx(LOG_PI_FLOOR) and log_pi[0, 1, 2].item() == 0.0
    chosen = log_pi[0, 0, 2] + log_pi[0, 1, 2]
    chosen.backward()
    assert torch.isfinite(z.grad).all()
