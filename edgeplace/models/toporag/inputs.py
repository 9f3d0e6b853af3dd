"""Batched tensor inputs of the TopoRAG context encoder and trace scorer, read from a mapping by key.

The keys are the field names (``edgeplace.planners.soft_plans.memory_inputs`` writes them per query,
numpy); :meth:`from_mapping` stacks nothing, it only converts a batch that already has the leading B.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any, Self

import torch
from torch import Tensor


def _read(cls: type, batch: Mapping[str, Any], dtype: torch.dtype) -> dict[str, Tensor]:
    """The fields of ``cls`` from ``batch`` as tensors: bool and integer arrays keep their kind (integers as
    int64), float arrays become ``dtype``; a missing key raises naming it."""
    names = [field.name for field in fields(cls)]
    missing = [name for name in names if name not in batch]
    if missing:
        raise KeyError(f"{cls.__name__}: missing keys {missing}; got {sorted(batch)}")
    out = {}
    for name in names:
        value = torch.as_tensor(batch[name])
        if value.dtype == torch.bool:
            out[name] = value
        elif value.dtype.is_floating_point:
            out[name] = value.to(dtype)
        else:
            out[name] = value.long()
    return out


@dataclass(frozen=True)
class ContextInputs:
    """Inputs of :class:`~edgeplace.models.toporag.ContextEncoder` for B regions.

    Shapes (O options, L links, C classes, M microservices per class):
        telemetry (B, 20) float; node_feats (B, O, 12); node_valid (B, O) bool;
        link_index (B, 2, L) long option indices; link_valid (B, L) bool (padding links are invalid);
        dag_feats (B, C, M, 4); dag_parents (B, C, M, M) bool, ``[b, c, j, i]`` = i is a parent of j;
        dag_valid (B, C, M) bool; class_mix (B, C); policy_id (B,) float.
    """

    telemetry: Tensor
    node_feats: Tensor
    node_valid: Tensor
    link_index: Tensor
    link_valid: Tensor
    dag_feats: Tensor
    dag_parents: Tensor
    dag_valid: Tensor
    class_mix: Tensor
    policy_id: Tensor

    @classmethod
    def from_mapping(cls, batch: Mapping[str, Any], dtype: torch.dtype = torch.float32) -> Self:
        """Read the fields by key from a batched dict of arrays or tensors."""
        return cls(**_read(cls, batch, dtype))


@dataclass(frozen=True)
class TraceInputs:
    """Inputs of :class:`~edgeplace.models.toporag.TraceScorer`: B queries, J retrieved traces each, over S
    slots; the G graph edges are the query's (shared by its J traces).

    Shapes:
        slot_feats (B, J, S, 17); slot_valid (B, J, S) bool;
        edge_index (B, 2, G) long slot indices; edge_valid (B, G) bool;
        edge_feats (B, J, G, 3) under each trace's roles; current_edge_feats (B, G, 3) under the current
        placement; age (B, J) trace age / TTL; s_j (B, J) retrieval scores; trace_valid (B, J) bool.
    """

    slot_feats: Tensor
    slot_valid: Tensor
    edge_index: Tensor
    edge_valid: Tensor
    edge_feats: Tensor
    current_edge_feats: Tensor
    age: Tensor
    s_j: Tensor
    trace_valid: Tensor

    @classmethod
    def from_mapping(cls, batch: Mapping[str, Any], dtype: torch.dtype = torch.float32) -> Self:
        """Read the fields by key from a batched dict of arrays or tensors."""
        return cls(**_read(cls, batch, dtype))
