"""Torch-geometric views of substrates (``Data`` / ``Batch``) for graph models."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from torch_geometric.data import Batch, Data

from edgeplace.topology import Substrate, TopologyError

EDGE_ATTRS = ("bandwidth_mb_s", "delay_s")
"""Columns of ``edge_attr``, raw units (MB/s, s): normalising is the model's job."""


def substrate_to_pyg(substrate: Substrate, node_features: np.ndarray) -> Data:
    """One substrate as a ``Data`` graph with every link in both directions.

    Shapes:
        node_features: (N, F).
        returns: x (N, F) float32; edge_index (2, 2E) int64, the E links as ``src < dst`` first, then
        reversed; edge_attr (2E, 2) float32 columns ``EDGE_ATTRS``; num_nodes N.
    """
    features = np.asarray(node_features)
    if features.ndim != 2 or features.shape[0] != substrate.num_nodes:
        raise TopologyError(
            f"node_features shape {features.shape} does not match ({substrate.num_nodes}, F)",
            source=f"substrate {substrate.name!r}",
            field="node_features",
        )
    src, dst = substrate.edge_index
    edge_index = np.stack([np.concatenate([src, dst]), np.concatenate([dst, src])])
    edge_attr = np.stack([substrate.bandwidth_mb_s, substrate.delay_s], axis=1)
    return Data(
        x=torch.as_tensor(features, dtype=torch.float32),
        edge_index=torch.as_tensor(edge_index, dtype=torch.int64),
        edge_attr=torch.as_tensor(np.concatenate([edge_attr, edge_attr]), dtype=torch.float32),
        num_nodes=substrate.num_nodes,
    )


def batch_substrates(substrates: Sequence[Substrate], node_features: Sequence[np.ndarray]) -> Batch:
    """Several substrates (sizes may differ) as one disjoint-union ``Batch``.

    Shapes:
        node_features[i]: (N_i, F), the same F for all.
        returns: x (sum N_i, F); edge_index (2, sum 2E_i); edge_attr (sum 2E_i, 2); batch (sum N_i,).
    """
    if len(substrates) != len(node_features):
        raise TopologyError(
            f"{len(substrates)} substrates but {len(node_features)} feature arrays", field="node_features"
        )
    return Batch.from_data_list(
        [substrate_to_pyg(s, f) for s, f in zip(substrates, node_features, strict=True)]
    )
