"""All-pairs routing table of a substrate, computed once with scipy's csgraph."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from scipy.sparse import csgraph

from edgeplace.topology.errors import TopologyError


class PathCache:
    """One route per ordered node pair: a minimum-hop path, ties broken by the smaller total delay.

    The routes come from one Dijkstra run per source (``scipy.sparse.csgraph.shortest_path``) on link
    weights ``1 + 0.5 * delay_e / sum(delay)``: a path's delay term stays below 0.5, so fewer hops
    always win and, among min-hop paths, the lower delay wins (remaining ties: scipy's order).
    Delay, bottleneck bandwidth and next hop are then filled for all pairs at once, one hop level
    at a time (no per-pair Python loop). The graph must be connected (``Substrate`` guarantees it).

    Shapes (N nodes, E links; row = source, column = destination; all arrays read-only):
        hops: (N, N) int64, 0 on the diagonal.
        delay_s: (N, N) float64, sum of link propagation delays along the route, seconds.
        bottleneck_bw_mb_s: (N, N) float64, smallest link bandwidth on the route, inf on the diagonal.
        predecessor: (N, N) int64, node before the destination on the route, -1 on the diagonal.
        next_hop: (N, N) int64, first node after the source on the route, -1 on the diagonal.
        edge_id: (N, N) int64, index of the link joining two nodes, -1 where there is none.
    """

    def __init__(
        self, edge_index: np.ndarray, bandwidth_mb_s: np.ndarray, delay_s: np.ndarray, num_nodes: int
    ) -> None:
        """Compute the table.

        Shapes:
            edge_index: (2, E) int64, src < dst; bandwidth_mb_s, delay_s: (E,) float64.
        """
        n = num_nodes
        src, dst = edge_index
        link = np.arange(src.size)
        edge_id = np.full((n, n), -1, dtype=np.int64)
        edge_id[src, dst] = link
        edge_id[dst, src] = link

        total_delay = float(delay_s.sum())
        weight = 1.0 + (0.5 / total_delay if total_delay > 0 else 0.0) * delay_s
        graph = sp.csr_array(
            (np.concatenate([weight, weight]), (np.concatenate([src, dst]), np.concatenate([dst, src]))),
            shape=(n, n),
        )
        _, pred = csgraph.shortest_path(graph, method="D", directed=True, return_predecessors=True)
        pred = np.where(pred < 0, -1, pred).astype(np.int64)

        hops = np.full((n, n), -1, dtype=np.int64)
        np.fill_diagonal(hops, 0)
        delay = np.zeros((n, n))
        bottleneck = np.full((n, n), np.inf)
        next_hop = np.full((n, n), -1, dtype=np.int64)
        rows = np.arange(n)[:, None]
        pred_or_self = np.where(pred < 0, np.arange(n)[None, :], pred)
        for level in range(1, n):
            s, t = np.nonzero((hops < 0) & (hops[rows, pred_or_self] == level - 1))
            if s.size == 0:
                break
            p = pred[s, t]
            e = edge_id[p, t]
            hops[s, t] = level
            delay[s, t] = delay[s, p] + delay_s[e]
            bottleneck[s, t] = np.minimum(bottleneck[s, p], bandwidth_mb_s[e])
            next_hop[s, t] = t if level == 1 else next_hop[s, p]

        self.hops = _frozen(hops)
        self.delay_s = _frozen(delay)
        self.bottleneck_bw_mb_s = _frozen(bottleneck)
        self.predecessor = _frozen(pred)
        self.next_hop = _frozen(next_hop)
        self.edge_id = _frozen(edge_id)

    @property
    def num_nodes(self) -> int:
        """N."""
        return self.hops.shape[0]

    def path(self, src: int, dst: int) -> np.ndarray:
        """Node indices of the route, ``src`` first and ``dst`` last. Shapes: (hops[src, dst] + 1,) int64."""
        self._check_node(src, "src")
        self._check_node(dst, "dst")
        nodes = np.empty(self.hops[src, dst] + 1, dtype=np.int64)
        node = dst
        for i in range(nodes.size - 1, -1, -1):
            nodes[i] = node
            node = self.predecessor[src, node]
        return nodes

    def path_edges(self, src: int, dst: int) -> np.ndarray:
        """Link indices of the route in travel order. Shapes: (hops[src, dst],) int64."""
        nodes = self.path(src, dst)
        return self.edge_id[nodes[:-1], nodes[1:]]

    def _check_node(self, node: int, name: str) -> None:
        if not 0 <= node < self.num_nodes:
            raise TopologyError(f"node index {node} out of range for {self.num_nodes} nodes", field=name)


def _frozen(array: np.ndarray) -> np.ndarray:
    array.setflags(write=False)
    return array
