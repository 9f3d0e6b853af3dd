"""Soft planners of the metaverse-dag scenario (papers/llm-mappo.md, section d): the protocol the env
calls (:class:`PlanContext` in, one :class:`AgentPlan` per agent out, :class:`WindowOutcome` back), the
plan embedding z_plan, the policy prior pi_LLM and the backends by name (:func:`make_planner`).

numpy only; a backend that needs torch imports it when it is made.
"""

from edgeplace.planners.soft_plans.embedding import PLAN_EMBEDDING_DIM, plan_embedding, plan_summary
from edgeplace.planners.soft_plans.prior import policy_prior
from edgeplace.planners.soft_plans.protocol import (
    NUM_PENALTIES,
    NUM_WEIGHTS,
    TELEMETRY_SERIES,
    TELEMETRY_STEPS,
    AgentPlan,
    PlanContext,
    PlanEvent,
    SoftPlanner,
    Tier,
    WindowOutcome,
)
from edgeplace.planners.soft_plans.registry import NO_PLANNER, make_planner, planner_names

__all__ = [
    "NO_PLANNER",
    "NUM_PENALTIES",
    "NUM_WEIGHTS",
    "PLAN_EMBEDDING_DIM",
    "TELEMETRY_SERIES",
    "TELEMETRY_STEPS",
    "AgentPlan",
    "PlanContext",
    "PlanEvent",
    "SoftPlanner",
    "Tier",
    "WindowOutcome",
    "make_planner",
    "plan_embedding",
    "plan_summary",
    "planner_names",
    "policy_prior",
]
