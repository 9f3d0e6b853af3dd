"""Mutable resource state on top of an immutable substrate."""

from __future__ import annotations

import itertools

import numpy as np
from numpy.typing import ArrayLike

from edgeplace.topology.allocation import Allocation, LedgerSnapshot
from edgeplace.topology.errors import InsufficientCapacityError, TopologyError
from edgeplace.topology.substrate import Substrate

_LEDGER_IDS = itertools.count()
RTOL = 1e-9
"""A request fits when ``demand <= free + RTOL * capacity``: 0.1 + 0.2 fits into 0.3."""


class Ledger:
    """Free node resources and link bandwidth of one substrate; allocate, release, snapshot, restore.

    Invariants: ``0 <= node_free <= capacity`` and ``0 <= link_free <= bandwidth`` always; a failed
    allocation changes nothing; releasing every outstanding allocation gives ``free == capacity``
    exactly. Bookkeeping: ``used`` grows by each demand (clipped to capacity) and shrinks by it on
    release (clipped at 0); a node or link that no outstanding allocation touches any more is snapped
    back to ``used = 0``, so floating-point residue cannot build up. A request fits when
    ``demand <= free + RTOL * capacity`` element-wise; use ``feasible_nodes`` for masks rather than
    comparing ``node_free`` directly.

    Shapes (N nodes, R resources, E links): node_free (N, R); link_free (E,).
    """

    def __init__(self, substrate: Substrate) -> None:
        self.substrate = substrate
        self._id = next(_LEDGER_IDS)
        self._next_alloc_id = 0
        self._node_used = np.zeros_like(substrate.capacity)
        self._link_used = np.zeros_like(substrate.bandwidth_mb_s)
        self._node_holders = np.zeros(substrate.num_nodes, dtype=np.int64)
        self._link_holders = np.zeros(substrate.num_edges, dtype=np.int64)
        self._node_free = substrate.capacity.copy()
        self._link_free = substrate.bandwidth_mb_s.copy()
        self._outstanding: dict[int, Allocation] = {}

    @property
    def node_free(self) -> np.ndarray:
        """Free node resources, a read-only live view. Shapes: (N, R) float64."""
        return _read_only(self._node_free)

    @property
    def link_free(self) -> np.ndarray:
        """Free link bandwidth, a read-only live view. Shapes: (E,) float64 MB/s."""
        return _read_only(self._link_free)

    @property
    def num_outstanding(self) -> int:
        """Number of allocations not yet released."""
        return len(self._outstanding)

    def utilisation(self) -> np.ndarray:
        """Used / capacity per node and resource, 0 where the capacity is 0. Shapes: (N, R) in [0, 1]."""
        return _ratio(self._node_used, self.substrate.capacity)

    def link_utilisation(self) -> np.ndarray:
        """Used / bandwidth per link. Shapes: (E,) in [0, 1]."""
        return _ratio(self._link_used, self.substrate.bandwidth_mb_s)

    def feasible_nodes(self, demand: ArrayLike) -> np.ndarray:
        """Which nodes can host ``demand`` now. Shapes: demand (R,) or scalar -> (N,) bool."""
        return self._fits(self._demand(demand), self._node_free, self.substrate.capacity).all(axis=1)

    def can_allocate_node(self, node: int, demand: ArrayLike) -> bool:
        """Whether ``allocate_node(node, demand)`` would succeed."""
        index = self._node(node)
        return bool(
            self._fits(self._demand(demand), self._node_free[index], self.substrate.capacity[index]).all()
        )

    def can_allocate_links(self, edge_ids: ArrayLike, bw_mb_s: ArrayLike) -> bool:
        """Whether ``allocate_links(edge_ids, bw_mb_s)`` would succeed."""
        edges, bw = self._links(edge_ids, bw_mb_s)
        return bool(self._fits(bw, self._link_free[edges], self.substrate.bandwidth_mb_s[edges]).all())

    def can_allocate_path(self, src: int, dst: int, bw_mb_s: float) -> bool:
        """Whether ``allocate_path(src, dst, bw_mb_s)`` would succeed."""
        return self.can_allocate_links(self.substrate.paths.path_edges(src, dst), bw_mb_s)

    def allocate_node(self, node: int, demand: ArrayLike) -> Allocation:
        """Take ``demand`` from one node. Shapes: demand (R,), or a scalar for every resource.

        Raises:
            InsufficientCapacityError: some resource has less free than asked (nothing changes).
        """
        index = self._node(node)
        need = self._demand(demand)
        short = np.flatnonzero(~self._fits(need, self._node_free[index], self.substrate.capacity[index]))
        if short.size:
            r = short[0]
            raise InsufficientCapacityError(
                f"node {index} (id {self.substrate.node_ids[index]}) needs {need[r]:g}, "
                f"has {self._node_free[index, r]:g} free",
                source=self._source,
                field=self.substrate.resource_names[r],
            )
        nodes = np.array([index], dtype=np.int64)
        self._node_used[nodes] = np.minimum(self._node_used[nodes] + need, self.substrate.capacity[nodes])
        self._node_holders[nodes] += 1
        self._refresh_nodes(nodes)
        return self._record(nodes, need[None, :], np.zeros(0, np.int64), np.zeros(0))

    def allocate_links(self, edge_ids: ArrayLike, bw_mb_s: ArrayLike) -> Allocation:
        """Take bandwidth on links. Shapes: edge_ids (K,); bw_mb_s (K,) or a scalar for every link.

        Raises:
            InsufficientCapacityError: some link has less free bandwidth than asked (nothing changes).
        """
        edges, bw = self._links(edge_ids, bw_mb_s)
        short = np.flatnonzero(~self._fits(bw, self._link_free[edges], self.substrate.bandwidth_mb_s[edges]))
        if short.size:
            e = edges[short[0]]
            u, v = self.substrate.node_ids[self.substrate.edge_index[:, e]]
            raise InsufficientCapacityError(
                f"link {e} (node ids {u}-{v}) needs {bw[short[0]]:g} MB/s, has {self._link_free[e]:g} free",
                source=self._source,
                field="bandwidth_mb_s",
            )
        self._link_used[edges] = np.minimum(self._link_used[edges] + bw, self.substrate.bandwidth_mb_s[edges])
        self._link_holders[edges] += 1
        self._refresh_links(edges)
        return self._record(np.zeros(0, np.int64), np.zeros((0, self.substrate.num_resources)), edges, bw)

    def allocate_path(self, src: int, dst: int, bw_mb_s: float) -> Allocation:
        """Take ``bw_mb_s`` on every link of the cached route from ``src`` to ``dst`` (none if equal)."""
        return self.allocate_links(self.substrate.paths.path_edges(src, dst), bw_mb_s)

    def release(self, allocation: Allocation) -> None:
        """Give back what ``allocation`` holds.

        Raises:
            TopologyError: it was already released, was made after the snapshot last restored, or
                belongs to another ledger.
        """
        if allocation.ledger_id != self._id or self._outstanding.get(allocation.alloc_id) is not allocation:
            raise TopologyError(
                f"allocation #{allocation.alloc_id} is not outstanding here (released twice, made after "
                "the restored snapshot, or from another ledger)",
                source=self._source,
            )
        del self._outstanding[allocation.alloc_id]
        nodes, edges = allocation.nodes, allocation.edge_ids
        self._node_used[nodes] = np.maximum(self._node_used[nodes] - allocation.node_demand, 0.0)
        self._node_holders[nodes] -= 1
        self._node_used[nodes[self._node_holders[nodes] == 0]] = 0.0
        self._link_used[edges] = np.maximum(self._link_used[edges] - allocation.bw_mb_s, 0.0)
        self._link_holders[edges] -= 1
        self._link_used[edges[self._link_holders[edges] == 0]] = 0.0
        self._refresh_nodes(nodes)
        self._refresh_links(edges)

    def reset(self) -> None:
        """Drop every outstanding allocation: free == capacity."""
        self._restore_arrays(0.0, 0.0, 0, 0)
        self._outstanding.clear()

    def snapshot(self) -> LedgerSnapshot:
        """Save the current state (copies)."""
        return LedgerSnapshot(
            ledger_id=self._id,
            node_used=self._node_used.copy(),
            link_used=self._link_used.copy(),
            node_holders=self._node_holders.copy(),
            link_holders=self._link_holders.copy(),
            outstanding=dict(self._outstanding),
        )

    def restore(self, snapshot: LedgerSnapshot) -> None:
        """Return to a saved state: allocations made since are void, ones released since are held again."""
        if snapshot.ledger_id != self._id:
            raise TopologyError("snapshot was taken from another ledger", source=self._source)
        self._restore_arrays(
            snapshot.node_used, snapshot.link_used, snapshot.node_holders, snapshot.link_holders
        )
        self._outstanding = dict(snapshot.outstanding)

    @property
    def _source(self) -> str:
        return f"ledger of substrate {self.substrate.name!r}"

    def _restore_arrays(
        self, node_used: ArrayLike, link_used: ArrayLike, node_holders: ArrayLike, link_holders: ArrayLike
    ) -> None:
        self._node_used[...] = node_used
        self._link_used[...] = link_used
        self._node_holders[...] = node_holders
        self._link_holders[...] = link_holders
        np.subtract(self.substrate.capacity, self._node_used, out=self._node_free)
        np.subtract(self.substrate.bandwidth_mb_s, self._link_used, out=self._link_free)

    @staticmethod
    def _fits(need: np.ndarray, free: np.ndarray, capacity: np.ndarray) -> np.ndarray:
        return need <= free + RTOL * capacity

    def _record(self, nodes: np.ndarray, demand: np.ndarray, edges: np.ndarray, bw: np.ndarray) -> Allocation:
        for array in (nodes, demand, edges, bw):
            array.setflags(write=False)
        allocation = Allocation(self._id, self._next_alloc_id, nodes, demand, edges, bw)
        self._next_alloc_id += 1
        self._outstanding[allocation.alloc_id] = allocation
        return allocation

    def _refresh_nodes(self, nodes: np.ndarray) -> None:
        self._node_free[nodes] = self.substrate.capacity[nodes] - self._node_used[nodes]

    def _refresh_links(self, edges: np.ndarray) -> None:
        self._link_free[edges] = self.substrate.bandwidth_mb_s[edges] - self._link_used[edges]

    def _node(self, node: int) -> int:
        index = int(node)
        if index != node or not 0 <= index < self.substrate.num_nodes:
            raise TopologyError(
                f"node index {node!r} out of range for {self.substrate.num_nodes} nodes",
                source=self._source,
                field="node",
            )
        return index

    def _demand(self, demand: ArrayLike) -> np.ndarray:
        """Shapes: scalar or (R,) -> (R,) float64, finite and >= 0."""
        need = np.asarray(demand, dtype=np.float64)
        if need.ndim > 1 or (need.ndim == 1 and need.shape[0] != self.substrate.num_resources):
            raise TopologyError(
                f"demand shape {need.shape} does not match the {self.substrate.num_resources} resources "
                f"{self.substrate.resource_names}",
                source=self._source,
                field="demand",
            )
        _check_amount(need, "demand", self._source)
        return np.broadcast_to(need, (self.substrate.num_resources,)).copy()

    def _links(self, edge_ids: ArrayLike, bw_mb_s: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
        """Validate and merge repeated links. Shapes: (K,), (K,) or scalar -> (K',), (K',) with K' unique."""
        edges = np.asarray(edge_ids)
        if edges.ndim != 1 or (edges.size and not np.issubdtype(edges.dtype, np.integer)):
            raise TopologyError("edge_ids must be a 1-D integer array", source=self._source, field="edge_ids")
        if edges.size and (edges.min() < 0 or edges.max() >= self.substrate.num_edges):
            raise TopologyError(
                f"link index out of range for {self.substrate.num_edges} links",
                source=self._source,
                field="edge_ids",
            )
        bw = np.asarray(bw_mb_s, dtype=np.float64)
        if bw.ndim > 1 or (bw.ndim == 1 and bw.shape != edges.shape):
            raise TopologyError(
                f"bandwidth shape {bw.shape} does not match edge_ids {edges.shape}",
                source=self._source,
                field="bw_mb_s",
            )
        _check_amount(bw, "bw_mb_s", self._source)
        unique, inverse = np.unique(edges.astype(np.int64), return_inverse=True)
        merged = np.bincount(inverse, weights=np.broadcast_to(bw, edges.shape), minlength=unique.size)
        return unique, merged


def _check_amount(amount: np.ndarray, name: str, source: str) -> None:
    if not np.isfinite(amount).all() or (amount < 0).any():
        raise TopologyError(f"must be finite and >= 0, got {amount}", source=source, field=name)


def _ratio(used: np.ndarray, capacity: np.ndarray) -> np.ndarray:
    return np.divide(used, capacity, out=np.zeros_like(used), where=capacity > 0)


def _read_only(array: np.ndarray) -> np.ndarray:
    view = array.view()
    view.setflags(write=False)
    return view
