"""The exact KL of the placement policy to the planner's prior (papers/llm-mappo.md, e, Eq. 34)."""

from __future__ import annotations

import torch
from torch import Tensor

from edgeplace.models.item_scoring_head import MASKED_LOGIT
from edgeplace.models.llm_mappo_module import PRIOR_FLOOR


def placement_prior_kl(place_logits: Tensor, prior: Tensor) -> Tensor:
    """``sum_s KL(pi_theta(. | s) || pi_LLM(. | s))``: per slot the exact categorical KL over its unmasked
    options (pi_LLM renormalised over them, floored at PRIOR_FLOOR), summed over the slots that have a
    prior (rows of zeros, as with planner ``none``, add 0): the KL of the joint placement distribution.

    Shapes: place_logits (..., S, O) with masked options at MASKED_LOGIT, prior (..., S, O) -> (...).
    """
    log_p = torch.log_softmax(place_logits, dim=-1)
    allowed = place_logits > MASKED_LOGIT / 2
    q = torch.where(allowed, prior, torch.zeros_like(prior))
    has_prior = q.sum(dim=-1) > 0  # (..., S)
    log_q = (q / q.sum(dim=-1, keepdim=True).clamp(min=PRIOR_FLOOR)).clamp(min=PRIOR_FLOOR).log()
    per_option = torch.where(allowed, log_p.exp() * (log_p - log_q), torch.zeros_like(log_p))
    return torch.where(has_prior, per_option.sum(dim=-1), torch.zeros_like(log_p[..., 0])).sum(dim=-1)
