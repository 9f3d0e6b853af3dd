"""Names of the learner results each algorithm family reports (and ``metrics.csv`` copies per module).

Kept apart from the learners so that a scenario spec can name them without importing torch.
"""

from __future__ import annotations

from enum import StrEnum


class PPOMetric(StrEnum):
    """RLlib's PPO learner results (its ``POLICY_LOSS_KEY``, ``VF_LOSS_KEY``, ``ENTROPY_KEY``, ...)."""

    POLICY_LOSS = "policy_loss"
    VF_LOSS = "vf_loss"
    ENTROPY = "entropy"
    MEAN_KL = "mean_kl_loss"
    LEARNING_RATE = "default_optimizer_learning_rate"


class VAMAPPOMetric(StrEnum):
    """VAMAPPO's own learner results, beside PPO's."""

    ALPHA = "vamappo/alpha"  # the uncertainty gate's mean
    WEIGHT = "vamappo/weight"  # the mean enhancement weight
    CLIP_EPS = "vamappo/clip_eps"  # the adaptive clip range
    CONSISTENCY = "vamappo/consistency"  # mean cosine of the agents' gradients


class HISPERMetric(StrEnum):
    """The HISPER/HASAC learner results (the per-agent ones are ``AGENT/policy_loss``, ``AGENT/entropy``)."""

    CRITIC_LOSS = "critic_loss"
    Q_MEAN = "q_mean"
    ACTOR_LOSS = "actor_loss"
    ALPHA = "alpha"


class HAPPOMetric(StrEnum):
    """HAPPO's learner results beyond PPO's names (per agent: ``AGENT/ratio_mean``)."""

    RATIO_MEAN = "ratio_mean"


#: What ``metrics.csv`` copies for each family, in column order.
PPO_LEARNER_METRICS = tuple(PPOMetric)
VAMAPPO_LEARNER_METRICS = (*PPOMetric, *VAMAPPOMetric)
HISPER_LEARNER_METRICS = (
    PPOMetric.POLICY_LOSS,  # per agent module
    PPOMetric.ENTROPY,  # per agent module
    HISPERMetric.CRITIC_LOSS,
    HISPERMetric.Q_MEAN,
    HISPERMetric.ACTOR_LOSS,
)
HAPPO_LEARNER_METRICS = (PPOMetric.POLICY_LOSS, PPOMetric.VF_LOSS, PPOMetric.ENTROPY, HAPPOMetric.RATIO_MEAN)
