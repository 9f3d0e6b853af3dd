"""Sizes of the TopoRAG scorer: context encoder, trace pruning and re-ranking, plan value
(papers/llm-mappo.md, section d)."""

from __future__ import annotations

from dataclasses import dataclass, fields


@dataclass(frozen=True)
class TopoRagArgs:
    """Input widths and layer sizes of :class:`~edgeplace.models.toporag.TopoRagScorer`; the defaults are
    the spec's (q_ctx 64 = Linear[telemetry 32 | region 32 | 16 per class DAG | class mix | policy id])."""

    telemetry_dim: int = 20
    """Telemetry statistics per region: mean, std, slope and last value of 5 series."""
    node_dim: int = 12
    """Features per region option (node)."""
    dag_feat_dim: int = 4
    """Features per microservice of a class DAG."""
    num_classes: int = 3
    """C, the service classes (one DAG each); fixes the width of the context encoder's output Linear."""
    slot_dim: int = 17
    """Features per slot of a trace (f_v of Eq. 1)."""
    edge_dim: int = 3
    """Features per trace-graph edge (f_e of Eq. 1)."""
    num_kpis: int = 3
    """KPI vector (l_mean / l_max, violation share, cpu utilisation)."""
    z_plan_dim: int = 64
    """Width of z_plan (Eq. 9: 8 + 40 + 8 + 8)."""
    telemetry_width: int = 32
    """Output width of the telemetry MLP (its hidden width too)."""
    region_width: int = 32
    """Width of the 2-layer GraphSAGE over the region's option graph, mean-pooled."""
    dag_width: int = 16
    """Width of the 2-layer SAGE over each class DAG, mean-pooled (one block per class)."""
    q_dim: int = 64
    """Width of q_ctx; also of the slot and edge embeddings z_v, z_e and of the re-rank SAGE (q_ctx^T h_v)."""
    sage_layers: int = 2
    """Layers of every SAGE stack (region, class DAGs, re-rank)."""
    gate_hidden: int = 32
    """Hidden width of the pruning MLPs MLP_v and MLP_e (Eq. 1)."""
    plan_hidden: int = 64
    """Hidden width of the R_hat MLP and of the KPI-residual MLP."""
    fusion_top: int = 3
    """Traces fused by the softmax of :func:`~edgeplace.models.toporag.fusion_weights`."""

    def __post_init__(self) -> None:
        for field in fields(self):
            value = getattr(self, field.name)
            if value < 1:
                raise ValueError(f"TopoRagArgs: {field.name} must be >= 1, got {value}")
