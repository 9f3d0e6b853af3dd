"""CROMADQN's loss: double DQN per branch with Tavakoli et al.'s shared branching target
(papers/llm-mappo.md, f). RLlib's DQN learner keeps the rest: target-network updates every
``target_network_update_freq`` env steps and the next observations in the train batch.

    y = r + gamma^n (1 - terminated) (1/B) sum_b Q_b^target(s', argmax_a Q_b^online(s', a))
    loss = mean over samples (times the replay weights) of mean over branches of Huber(Q_b(s, a_b) - y)

The argmax runs over the next state's allowed actions (the module's Q is -inf elsewhere).
"""

from __future__ import annotations

from typing import Any

import torch
from ray.rllib.algorithms.dqn.dqn import DQNConfig
from ray.rllib.algorithms.dqn.dqn_learner import (
    QF_LOSS_KEY,
    QF_MAX_KEY,
    QF_MEAN_KEY,
    QF_MIN_KEY,
    QF_NEXT_PREDS,
    QF_PREDS,
    QF_TARGET_NEXT_PREDS,
    TD_ERROR_MEAN_KEY,
)
from ray.rllib.algorithms.dqn.torch.dqn_torch_learner import DQNTorchLearner
from ray.rllib.core.columns import Columns
from ray.rllib.utils.annotations import override
from ray.rllib.utils.metrics import TD_ERROR_KEY
from ray.rllib.utils.typing import ModuleID
from torch import Tensor
from torch.nn import functional as F

from edgeplace.algos.cromadqn.settings import CromadqnMetric

#: Batch columns RLlib's episode replay buffer adds: the n of each n-step transition and the
#: importance weights (1 without prioritised replay).
N_STEP, WEIGHTS = "n_step", "weights"


def branching_target(
    rewards: Tensor, discounts: Tensor, terminateds: Tensor, q_next_online: Tensor, q_next_target: Tensor
) -> Tensor:
    """The shared double-DQN target of all branches (no gradient flows through it).

    Shapes: rewards, discounts (gamma^n), terminateds (N,); q_next_online, q_next_target (N, B, W) with
    -inf where the next state forbids an action -> y (N,).
    """
    best = q_next_online.argmax(dim=-1, keepdim=True)  # (N, B, 1), an allowed action
    q_best = q_next_target.gather(-1, best).squeeze(-1)  # (N, B)
    bootstrap = torch.nan_to_num(q_best, neginf=0.0).mean(dim=-1)  # (N,)
    return (rewards + discounts * (1.0 - terminateds.float()) * bootstrap).detach()


def taken_q(q: Tensor, actions: Tensor) -> Tensor:
    """Q_b(s, a_b) of the taken sub-actions. Shapes: q (N, B, W), actions (N, B) -> (N, B)."""
    return q.gather(-1, actions.long().unsqueeze(-1)).squeeze(-1)


def branching_td_loss(
    q_taken: Tensor, target: Tensor, weights: Tensor, *, huber: bool = True
) -> tuple[Tensor, Tensor]:
    """The weighted mean over samples of the mean over branches of Huber (or squared) TD errors, and each
    sample's mean absolute TD error (a prioritised buffer's priorities).

    Shapes: q_taken (N, B), target (N,), weights (N,) -> loss (), td_error (N,).
    """
    y = target.unsqueeze(-1).expand_as(q_taken)  # (N, B)
    loss_fn = F.huber_loss if huber else F.mse_loss
    per_sample = loss_fn(q_taken, y, reduction="none").mean(dim=-1)  # (N,)
    return (weights * per_sample).mean(), (q_taken - y).abs().mean(dim=-1)


class CromadqnTorchLearner(DQNTorchLearner):
    """DQN's learner with the branching loss of the module docstring."""

    @override(DQNTorchLearner)
    def compute_loss_for_module(
        self, *, module_id: ModuleID, config: DQNConfig, batch: dict[str, Any], fwd_out: dict[str, Tensor]
    ) -> Tensor:
        discounts = config.gamma ** batch[N_STEP].float()
        target = branching_target(
            batch[Columns.REWARDS].float(),
            discounts,
            batch[Columns.TERMINATEDS],
            fwd_out[QF_NEXT_PREDS],
            fwd_out[QF_TARGET_NEXT_PREDS],
        )  # (N,)
        q = taken_q(fwd_out[QF_PREDS], batch[Columns.ACTIONS])  # (N, B)
        total_loss, td_error = branching_td_loss(
            q, target, batch[WEIGHTS].float(), huber=config.td_error_loss_fn == "huber"
        )
        self.metrics.log_value(key=(module_id, TD_ERROR_KEY), value=td_error, reduce="item_series")
        self.metrics.log_dict(
            {
                QF_LOSS_KEY: total_loss,
                QF_MEAN_KEY: q.mean(),
                QF_MAX_KEY: q.max(),
                QF_MIN_KEY: q.min(),
                TD_ERROR_MEAN_KEY: td_error.mean(),
                str(CromadqnMetric.TARGET_MEAN): target.mean(),
            },
            key=module_id,
            window=1,
        )
        return total_loss
