"""Records handed out by a ``Ledger``: one allocation, and a saved ledger state."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True, eq=False)
class Allocation:
    """Node resources and link bandwidth held by one ``Ledger.allocate_*`` call.

    Pass it back to ``Ledger.release`` exactly once. Repeated links in one request are merged.

    Shapes (A nodes, K links, R resources; arrays read-only):
        nodes: (A,) int64 unique node indices; node_demand: (A, R) float64.
        edge_ids: (K,) int64 unique link indices; bw_mb_s: (K,) float64 MB/s.
    """

    ledger_id: int
    """Identity of the ledger that made it."""
    alloc_id: int
    """Sequence number within that ledger, never reused."""
    nodes: np.ndarray
    node_demand: np.ndarray
    edge_ids: np.ndarray
    bw_mb_s: np.ndarray


@dataclass(frozen=True, eq=False)
class LedgerSnapshot:
    """A saved ledger state for ``Ledger.restore`` (only on the ledger that took it).

    Shapes: node_used (N, R), link_used (E,), node_holders (N,), link_holders (E,).
    """

    ledger_id: int
    node_used: np.ndarray
    link_used: np.ndarray
    node_holders: np.ndarray
    """Number of outstanding allocations on each node."""
    link_holders: np.ndarray
    """Number of outstanding allocations on each link."""
    outstanding: Mapping[int, Allocation]
