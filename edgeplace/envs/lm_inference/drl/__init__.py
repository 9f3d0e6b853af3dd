"""The hierarchical DRL baseline's tier env (spec e, "Hierarchical DRL"): observations, masks and the
Eq. 20 cohort credit of a routing tier and a deployment tier on the lm-inference simulator."""

from edgeplace.envs.lm_inference.drl.cohort_credit import CohortCredit
from edgeplace.envs.lm_inference.drl.config import DrlTierConfig
from edgeplace.envs.lm_inference.drl.env import DrlTierEnv
from edgeplace.envs.lm_inference.drl.observation import DrlObs, TierObserver
from edgeplace.envs.lm_inference.drl.tiers import Tier, node_ids, origin_ids, tier_agents

__all__ = [
    "CohortCredit",
    "DrlObs",
    "DrlTierConfig",
    "DrlTierEnv",
    "Tier",
    "TierObserver",
    "node_ids",
    "origin_ids",
    "tier_agents",
]
