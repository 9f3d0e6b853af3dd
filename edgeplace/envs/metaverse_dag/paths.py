"""Routes of the metaverse-dag scenario (papers/llm-mappo.md, section c, "Routing"): up to 3 loop-free
shortest-delay paths per node pair inside each region (its ES, its EC and the cloud), plus a fourth via
the region's EC (the fallback when no rank admits a slice), precomputed once into padded arrays."""

from __future__ import annotations

from dataclasses import dataclass
from itertools import islice

import networkx as nx
import numpy as np

NUM_RANKS = 3
"""Path ranks a split pattern spreads over."""
VIA_EC = NUM_RANKS
"""Index of the via-EC fallback path."""


@dataclass(frozen=True, eq=False)
class RoutePaths:
    """Paths between every ordered pair of distinct nodes of one region (pairs across regions have none).

    Shapes (N nodes, H the longest path's links):
        links: (N, N, 4, H) int32 link ids in travel order, -1 after the path's end; rank 3 = via the EC.
        exists: (N, N, 4) bool.
    """

    links: np.ndarray
    exists: np.ndarray

    @classmethod
    def build(
        cls, src: np.ndarray, dst: np.ndarray, delay_s: np.ndarray, region: np.ndarray, num_es: int
    ) -> RoutePaths:
        """Paths of the network with links (src, dst, delay) and node regions (-1: the cloud, last node;
        EC k is node ``num_es + k``). Shapes: (L,), (L,), (L,), (N,)."""
        n = region.size
        regions = int(region.max()) + 1
        link_of = {(int(a), int(b)): e for e, (a, b) in enumerate(zip(src, dst, strict=True))}
        link_of |= {(b, a): e for (a, b), e in list(link_of.items())}
        found: dict[tuple[int, int], list[list[int]]] = {}
        for k in range(regions):
            members = set(np.flatnonzero(region == k).tolist()) | {n - 1}
            graph = nx.Graph()
            graph.add_nodes_from(members)
            graph.add_weighted_edges_from(
                (int(a), int(b), float(d))
                for a, b, d in zip(src, dst, delay_s, strict=True)
                if int(a) in members and int(b) in members
            )
            ec = num_es + k
            nodes = sorted(members)
            for i, a in enumerate(nodes):
                for b in nodes[i + 1 :]:
                    ranked = list(islice(nx.shortest_simple_paths(graph, a, b, weight="weight"), NUM_RANKS))
                    if ec in (a, b):
                        via = ranked[0]
                    else:
                        via = nx.shortest_path(graph, a, ec, weight="weight")[:-1] + nx.shortest_path(
                            graph, ec, b, weight="weight"
                        )
                    found[(a, b)] = [*ranked, *[[]] * (NUM_RANKS - len(ranked)), via]
        hops = max(len(path) - 1 for paths in found.values() for path in paths)
        links = np.full((n, n, NUM_RANKS + 1, max(hops, 1)), -1, np.int32)
        exists = np.zeros((n, n, NUM_RANKS + 1), bool)
        for (a, b), paths in found.items():
            for rank, path in enumerate(paths):
                if not path:
                    continue
                ids = [link_of[(u, v)] for u, v in zip(path[:-1], path[1:], strict=True)]
                links[a, b, rank, : len(ids)] = ids
                links[b, a, rank, : len(ids)] = ids[::-1]
                exists[a, b, rank] = exists[b, a, rank] = True
        return cls(links, exists)
