"""Fixed-size numpy arrays for RLlib observation spaces: padding, node masks, padded graph structure.

Padding to ``max_nodes`` lets one trained policy run on substrates of other sizes: padded rows are
zero and the node mask marks the real ones.
"""

from __future__ import annotations

import numpy as np

from edgeplace.topology.errors import TopologyError
from edgeplace.topology.substrate import Substrate


def pad_nodes(values: np.ndarray, max_nodes: int) -> np.ndarray:
    """Zero-pad per-node values along the first axis, keeping the dtype.

    Shapes:
        values: (N, *F) with any trailing feature dims. returns: (max_nodes, *F).
    """
    values = np.asarray(values)
    if values.ndim == 0:
        raise TopologyError("expected per-node values with a leading node axis, got a scalar", field="values")
    _check_fits(values.shape[0], max_nodes, "nodes", "max_nodes")
    padded = np.zeros((max_nodes, *values.shape[1:]), dtype=values.dtype)
    padded[: values.shape[0]] = values
    return padded


def node_mask(num_nodes: int, max_nodes: int) -> np.ndarray:
    """1 for real nodes, 0 for padding. Shapes: (max_nodes,) float32."""
    _check_fits(num_nodes, max_nodes, "nodes", "max_nodes")
    mask = np.zeros(max_nodes, dtype=np.float32)
    mask[:num_nodes] = 1.0
    return mask


def padded_adjacency(substrate: Substrate, max_nodes: int) -> np.ndarray:
    """Symmetric 0/1 adjacency, zero in padded rows and columns. Shapes: (max_nodes, max_nodes) float32."""
    _check_fits(substrate.num_nodes, max_nodes, "nodes", "max_nodes")
    adjacency = np.zeros((max_nodes, max_nodes), dtype=np.float32)
    src, dst = substrate.edge_index
    adjacency[src, dst] = 1.0
    adjacency[dst, src] = 1.0
    return adjacency


def padded_edge_index(substrate: Substrate, max_edges: int) -> tuple[np.ndarray, np.ndarray]:
    """The substrate's links (each once, ``src < dst``) padded with ``(0, 0)`` entries, plus a link mask.

    Shapes:
        returns: edge_index (2, max_edges) int64; edge_mask (max_edges,) float32, 1 for real links.
    """
    _check_fits(substrate.num_edges, max_edges, "links", "max_edges")
    edge_index = np.zeros((2, max_edges), dtype=np.int64)
    edge_index[:, : substrate.num_edges] = substrate.edge_index
    mask = np.zeros(max_edges, dtype=np.float32)
    mask[: substrate.num_edges] = 1.0
    return edge_index, mask


def node_capacity_features(substrate: Substrate) -> np.ndarray:
    """Capacity divided by its column maximum (columns that are all zero stay zero).

    Shapes: returns (N, R) float32 in [0, 1].
    """
    peak = substrate.capacity.max(axis=0)
    scaled = np.divide(substrate.capacity, peak, out=np.zeros_like(substrate.capacity), where=peak > 0)
    return scaled.astype(np.float32)


def padded_size(
    num_nodes: int, max_nodes: int | None, multiple: int = 16, *, source: str | None = None
) -> int:
    """Observation padding: ``max_nodes`` if given (must fit), else the next multiple of ``multiple``.

    Raises:
        TopologyError: more nodes than ``max_nodes``, naming ``source`` (the topology URI) if given.
    """
    if max_nodes is None:
        return int(-(-num_nodes // multiple) * multiple)
    if num_nodes > max_nodes:
        raise TopologyError(
            f"topology has {num_nodes} nodes but max_nodes is {max_nodes}", source=source, field="max_nodes"
        )
    return max_nodes


def _check_fits(count: int, limit: int, what: str, name: str) -> None:
    if count > limit:
        raise TopologyError(f"{count} {what} do not fit into {name}={limit}; raise {name}", field=name)
