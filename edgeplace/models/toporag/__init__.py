"""TopoRAG scorer of the ``memory`` planner (papers/llm-mappo.md, d): context encoder -> q_ctx, trace
pruning (Eq. 1) and re-ranking (Eq. 2) -> scores and top-3 fusion weights pi, plan value R_hat and KPIs."""

from edgeplace.models.dense_sage import DenseSAGE
from edgeplace.models.toporag.config import TopoRagArgs
from edgeplace.models.toporag.context_encoder import ContextEncoder
from edgeplace.models.toporag.inputs import ContextInputs, TraceInputs
from edgeplace.models.toporag.plan_value import PlanValue
from edgeplace.models.toporag.scorer import TopoRagOutput, TopoRagScorer
from edgeplace.models.toporag.trace_scorer import TraceScorer, TraceScores, fusion_weights

__all__ = [
    "ContextEncoder",
    "ContextInputs",
    "DenseSAGE",
    "PlanValue",
    "TopoRagArgs",
    "TopoRagOutput",
    "TopoRagScorer",
    "TraceInputs",
    "TraceScorer",
    "TraceScores",
    "fusion_weights",
]
