"""The immutable physical network that every scenario places services on."""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from types import MappingProxyType

import networkx as nx
import numpy as np
import scipy.sparse as sp
from scipy.sparse import csgraph

from edgeplace.topology.errors import TopologyError
from edgeplace.topology.paths import PathCache


@dataclass(frozen=True, eq=False)
class Substrate:
    """An undirected, connected network with per-node resources and per-link bandwidth and delay.

    Construction copies, validates and freezes every array (``writeable=False``); the mappings become
    read-only mappings of frozen arrays. Node ``i`` is row ``i`` of every node array; link ``e`` is column
    ``e`` of ``edge_index``. Derived tables (``adjacency``, ``degree``, ``paths``) are computed on first
    use and cached; they are not pickled (a copy recomputes them).

    Shapes:
        capacity: (N, R) float64 >= 0, column ``r`` is resource ``resource_names[r]``; R may be 0 (a
            topology that states no node resources, e.g. a Topology Zoo file).
        edge_index: (2, E) int64, each undirected link once with ``src < dst``; no self loops or
            duplicates.
        bandwidth_mb_s: (E,) float64 > 0, megabytes per second.
        delay_s: (E,) float64 >= 0, propagation delay in seconds.
        node_ids: (N,) int64 unique original ids (e.g. ServerID); defaults to ``arange(N)``.
        coords: (N, 2) float64 (longitude, latitude) degrees, or None.
        tier: (N,) int64 >= 0 (see ``names.Tier``), or None.
        affinity: tag -> (N,) bool.
        node_features: key -> (N,) float64, static non-allocatable attributes.

    Raises:
        TopologyError: a bad shape, dtype or value, or a disconnected graph.
    """

    name: str
    resource_names: tuple[str, ...]
    capacity: np.ndarray
    edge_index: np.ndarray
    bandwidth_mb_s: np.ndarray
    delay_s: np.ndarray
    node_ids: np.ndarray | None = None
    coords: np.ndarray | None = None
    tier: np.ndarray | None = None
    affinity: Mapping[str, np.ndarray] = field(default_factory=dict)
    node_features: Mapping[str, np.ndarray] = field(default_factory=dict)

    def __post_init__(self) -> None:
        check = _Checker(self.name)
        names = tuple(str(n) for n in self.resource_names)
        if len(set(names)) != len(names):
            raise check.error("resource_names", f"must be unique, got {names!r}")
        capacity = check.floats("capacity", self.capacity, ndim=2, lower=0.0)
        num_nodes = capacity.shape[0]
        if num_nodes == 0 or capacity.shape[1] != len(names):
            raise check.error("capacity", f"shape {capacity.shape} does not match (N >= 1, {len(names)})")
        edge_index = check.edge_index(self.edge_index, num_nodes)
        num_edges = edge_index.shape[1]
        values = {
            "resource_names": names,
            "capacity": capacity,
            "edge_index": edge_index,
            "bandwidth_mb_s": check.floats(
                "bandwidth_mb_s", self.bandwidth_mb_s, (num_edges,), positive=True
            ),
            "delay_s": check.floats("delay_s", self.delay_s, (num_edges,), lower=0.0),
            "node_ids": check.node_ids(self.node_ids, num_nodes),
            "coords": None if self.coords is None else check.coords(self.coords, num_nodes),
            "tier": None if self.tier is None else check.ints("tier", self.tier, (num_nodes,), lower=0),
            "affinity": MappingProxyType(
                {str(k): check.bools(f"affinity[{k!r}]", v, num_nodes) for k, v in self.affinity.items()}
            ),
            "node_features": MappingProxyType(
                {
                    str(k): check.floats(f"node_features[{k!r}]", v, (num_nodes,))
                    for k, v in self.node_features.items()
                }
            ),
        }
        for key, value in values.items():
            object.__setattr__(self, key, value)
        self._check_connected()

    def __reduce__(self) -> tuple:
        """Pickle the fields only; the copy is re-validated and recomputes its caches lazily."""
        return type(self), tuple(_plain(getattr(self, f.name)) for f in fields(self))

    @property
    def num_nodes(self) -> int:
        """N, the number of nodes."""
        return self.capacity.shape[0]

    @property
    def num_edges(self) -> int:
        """E, the number of undirected links."""
        return self.edge_index.shape[1]

    @property
    def num_resources(self) -> int:
        """R, the number of node resource kinds."""
        return self.capacity.shape[1]

    def resource_index(self, name: str) -> int:
        """Column of ``capacity`` that holds resource ``name``."""
        try:
            return self.resource_names.index(str(name))
        except ValueError:
            raise TopologyError(
                f"unknown resource {str(name)!r}; this substrate has {list(self.resource_names)}",
                source=f"substrate {self.name!r}",
            ) from None

    @functools.cached_property
    def adjacency(self) -> sp.csr_array:
        """Symmetric 0/1 adjacency. Shapes: (N, N) float64 sparse."""
        src, dst = self.edge_index
        ones = np.ones(2 * self.num_edges)
        both = (np.concatenate([src, dst]), np.concatenate([dst, src]))
        return sp.csr_array((ones, both), shape=(self.num_nodes, self.num_nodes))

    @functools.cached_property
    def degree(self) -> np.ndarray:
        """Number of links at each node. Shapes: (N,) int64."""
        return _frozen(np.bincount(self.edge_index.ravel(), minlength=self.num_nodes).astype(np.int64))

    @functools.cached_property
    def paths(self) -> PathCache:
        """All-pairs min-hop paths with hop counts, delay and bottleneck bandwidth (computed once)."""
        return PathCache(self.edge_index, self.bandwidth_mb_s, self.delay_s, self.num_nodes)

    def to_networkx(self) -> nx.Graph:
        """The substrate as a ``networkx.Graph`` on node indices 0..N-1.

        Node attributes: ``node_id``, ``capacity`` (dict resource -> float), and where present
        ``coords`` (lon, lat), ``tier``, ``affinity`` (dict tag -> bool), ``features`` (dict key ->
        float). Edge attributes: ``edge_id``, ``bandwidth_mb_s``, ``delay_s``.
        """
        graph = nx.Graph(name=self.name)
        for i in range(self.num_nodes):
            attrs: dict[str, object] = {
                "node_id": int(self.node_ids[i]),
                "capacity": dict(zip(self.resource_names, self.capacity[i].tolist(), strict=True)),
            }
            if self.coords is not None:
                attrs["coords"] = tuple(self.coords[i].tolist())
            if self.tier is not None:
                attrs["tier"] = int(self.tier[i])
            if self.affinity:
                attrs["affinity"] = {k: bool(v[i]) for k, v in self.affinity.items()}
            if self.node_features:
                attrs["features"] = {k: float(v[i]) for k, v in self.node_features.items()}
            graph.add_node(i, **attrs)
        for e, (u, v) in enumerate(self.edge_index.T.tolist()):
            graph.add_edge(
                u, v, edge_id=e, bandwidth_mb_s=float(self.bandwidth_mb_s[e]), delay_s=float(self.delay_s[e])
            )
        return graph

    def _check_connected(self) -> None:
        count, labels = csgraph.connected_components(self.adjacency, directed=False)
        if count == 1:
            return
        sizes = np.bincount(labels)
        order = np.argsort(-sizes, kind="stable")
        stranded = int(self.node_ids[np.flatnonzero(labels != labels[0])[0]])
        raise TopologyError(
            f"the graph is disconnected: {count} components of sizes {sizes[order].tolist()}; "
            f"e.g. node id {stranded} is unreachable from node id {int(self.node_ids[0])}",
            source=f"substrate {self.name!r}",
        )


def _frozen(array: np.ndarray) -> np.ndarray:
    array.setflags(write=False)
    return array


def _plain(value: object) -> object:
    return dict(value) if isinstance(value, Mapping) else value


class _Checker:
    """Converts and validates the arrays of one substrate, naming it in every error."""

    def __init__(self, name: str) -> None:
        self.name = name

    def error(self, field_name: str, message: str) -> TopologyError:
        return TopologyError(message, source=f"substrate {self.name!r}", field=field_name)

    def _array(self, field_name: str, value: object, shape: tuple[int, ...] | None, ndim: int) -> np.ndarray:
        array = np.array(value)
        if array.ndim != ndim or (shape is not None and array.shape != shape):
            raise self.error(field_name, f"expected shape {shape or ('?',) * ndim}, got {array.shape}")
        return array

    def floats(
        self,
        field_name: str,
        value: object,
        shape: tuple[int, ...] | None = None,
        *,
        ndim: int = 1,
        lower: float | None = None,
        positive: bool = False,
    ) -> np.ndarray:
        array = self._array(field_name, value, shape, len(shape) if shape else ndim)
        if not (np.issubdtype(array.dtype, np.number) or array.dtype == bool):
            raise self.error(field_name, f"expected numbers, got dtype {array.dtype}")
        array = array.astype(np.float64)
        if not np.isfinite(array).all():
            raise self.error(field_name, "contains NaN or infinity")
        if lower is not None and (array < lower).any():
            raise self.error(field_name, f"must be >= {lower}, found {array.min()}")
        if positive and (array <= 0).any():
            raise self.error(field_name, f"must be > 0, found {array.min()}")
        return _frozen(array)

    def ints(
        self, field_name: str, value: object, shape: tuple[int, ...], *, lower: int | None = None
    ) -> np.ndarray:
        array = self._array(field_name, value, shape, len(shape))
        if array.size and not np.issubdtype(array.dtype, np.integer):
            raise self.error(field_name, f"expected integers, got dtype {array.dtype}")
        array = array.astype(np.int64)
        if lower is not None and (array < lower).any():
            raise self.error(field_name, f"must be >= {lower}, found {array.min()}")
        return _frozen(array)

    def bools(self, field_name: str, value: object, num_nodes: int) -> np.ndarray:
        array = self._array(field_name, value, (num_nodes,), 1)
        if array.dtype != bool and not np.isin(array, (0, 1)).all():
            raise self.error(field_name, "expected booleans (or 0/1)")
        return _frozen(array.astype(bool))

    def edge_index(self, value: object, num_nodes: int) -> np.ndarray:
        array = np.array(value)
        if array.size == 0:
            array = np.zeros((2, 0), dtype=np.int64)
        if array.ndim != 2 or array.shape[0] != 2:
            raise self.error("edge_index", f"expected shape (2, E), got {array.shape}")
        edges = self.ints("edge_index", array, array.shape, lower=0)
        src, dst = edges
        if (dst >= num_nodes).any():
            raise self.error("edge_index", f"node index {dst.max()} out of range for {num_nodes} nodes")
        bad = np.flatnonzero(src >= dst)
        if bad.size:
            u, v = edges[:, bad[0]].tolist()
            raise self.error("edge_index", f"link {bad[0]} is ({u}, {v}); each link needs src < dst")
        _, first, counts = np.unique(src * num_nodes + dst, return_index=True, return_counts=True)
        if (counts > 1).any():
            u, v = edges[:, first[counts > 1][0]].tolist()
            raise self.error("edge_index", f"duplicate link ({u}, {v})")
        return edges

    def node_ids(self, value: object, num_nodes: int) -> np.ndarray:
        if value is None:
            return _frozen(np.arange(num_nodes, dtype=np.int64))
        ids = self.ints("node_ids", value, (num_nodes,))
        unique, counts = np.unique(ids, return_counts=True)
        if (counts > 1).any():
            raise self.error("node_ids", f"duplicate node id {unique[counts > 1][0]}")
        return ids

    def coords(self, value: object, num_nodes: int) -> np.ndarray:
        coords = self.floats("coords", value, (num_nodes, 2))
        if (np.abs(coords[:, 0]) > 180).any() or (np.abs(coords[:, 1]) > 90).any():
            raise self.error(
                "coords", "expected (longitude, latitude) degrees within [-180, 180] x [-90, 90]"
            )
        return coords
