"""Loader for GML topologies (Internet Topology Zoo, SNDlib-style and Virne-style files).

Attributes read where present, with documented seeded defaults where absent:

- Node position: ``Longitude`` / ``Latitude`` (Topology Zoo); otherwise ``x`` / ``y`` read as
  longitude / latitude when every node has them and they lie within [-180, 180] x [-90, 90]
  (e.g. Brain). Other layouts (Virne's unit-square ``pos``) are not geographic and are ignored.
  ``Substrate.coords`` is set only when every node has a position.
- Link delay: great-circle length / 200,000 km/s when both ends have a position, else
  ``DEFAULT_DELAY_S`` (1 ms).
- Link bandwidth: ``LinkSpeedRaw`` (bit/s, Topology Zoo) / 8e6, else ``bw`` (Virne, unitless, read as
  MB/s), else a seeded draw from ``DEFAULT_BANDWIDTH_MB_S``. Other attributes (e.g. Brain's
  ``capacity_st``) are ignored.
- Node resources: ``compute`` from ``cpu`` (Virne) when every node has it; a file without ``cpu``
  (Topology Zoo) states no resources, and a scenario draws the ones it needs by its own rule
  (:mod:`edgeplace.topology.attributes`). A file where only some nodes have ``cpu`` is an error.

Default bandwidths come from ``np.random.default_rng(seed)``: E draws, one per link in index order
whether used or not, so a link's default does not depend on the other links.
Directed graphs are read as undirected: the two directions of a link give the smaller bandwidth.
Parallel links (multigraphs, or edges listed twice) are merged into one link whose bandwidth is the
sum of the known ones. Self loops are dropped. Node index =
position after sorting the GML ids; ``node_ids`` keeps the ids.
"""

from __future__ import annotations

import re
import warnings
from pathlib import Path

import networkx as nx
import numpy as np

from edgeplace.topology.errors import TopologyError
from edgeplace.topology.geo import fibre_delay_s, haversine_km
from edgeplace.topology.names import Resource
from edgeplace.topology.substrate import Substrate

DEFAULT_DELAY_S = 1e-3
"""Delay of a link with an end of unknown position, s."""
DEFAULT_BANDWIDTH_MB_S = (50.0, 100.0, 200.0)
"""Bandwidths drawn uniformly for links without a bandwidth attribute, MB/s."""
_BITS_PER_MB = 8e6


def load_gml(path: str | Path, *, seed: int = 0, largest_component: bool = False) -> Substrate:
    """Read a GML file into a ``Substrate`` named ``gml:<file stem>``.

    Args:
        path: The file; a relative path is taken from the current working directory.
        seed: Seed of the defaults for missing link bandwidths.
        largest_component: Keep only the largest connected component (ties: the one holding the
            smallest id) with a ``UserWarning``, instead of raising on a disconnected graph.

    Raises:
        TopologyError: a missing or malformed file, non-integer ids, a bad coordinate, ``cpu`` on some
            nodes only, or a disconnected graph; the error names the file.
    """
    path = Path(path)
    source = str(path)
    graph = _undirected_simple(_read(path), source)
    if not nx.is_connected(graph):
        components = sorted(nx.connected_components(graph), key=lambda c: (-len(c), min(c)))
        if not largest_component:
            raise TopologyError(
                f"the graph is disconnected: {len(components)} components of sizes "
                f"{[len(c) for c in components]}; pass largest_component=True (URI: ?largest_component=true) "
                "to keep the largest",
                source=source,
            )
        warnings.warn(
            f"{source}: keeping the largest of {len(components)} components "
            f"({len(components[0])} of {graph.number_of_nodes()} nodes)",
            UserWarning,
            stacklevel=2,
        )
        graph = graph.subgraph(components[0]).copy()

    ids = sorted(graph.nodes)
    index = {node: i for i, node in enumerate(ids)}
    pairs = sorted((min(index[u], index[v]), max(index[u], index[v])) for u, v in graph.edges)
    edge_index = np.array(pairs, dtype=np.int64).reshape(-1, 2).T
    default_bw = np.random.default_rng(seed).choice(DEFAULT_BANDWIDTH_MB_S, size=len(pairs))
    resources, capacity = _capacity(graph, ids, source)
    known_bw = np.array([graph.edges[ids[u], ids[v]]["bandwidth_mb_s"] for u, v in pairs], dtype=np.float64)
    bandwidth = np.where(np.isnan(known_bw), default_bw, known_bw)

    lonlat = _positions(graph, ids, source)
    length_km = haversine_km(lonlat[edge_index[0]], lonlat[edge_index[1]])
    delay = np.where(np.isnan(length_km), DEFAULT_DELAY_S, fibre_delay_s(length_km))
    return Substrate(
        name=f"gml:{path.stem}",
        resource_names=resources,
        capacity=capacity,
        edge_index=edge_index,
        bandwidth_mb_s=bandwidth,
        delay_s=delay,
        node_ids=np.array(ids, dtype=np.int64),
        coords=None if np.isnan(lonlat).any() else lonlat,
    )


def _capacity(graph: nx.Graph, ids: list[int], source: str) -> tuple[tuple[str, ...], np.ndarray]:
    """Resource names and capacity: ``compute`` from ``cpu`` on every node, or none. Shapes: (N, R)."""
    cpu = np.array([_number(graph.nodes[n].get("cpu"), source, "cpu") for n in ids], dtype=np.float64)
    missing = np.isnan(cpu)
    if missing.all():
        return (), np.zeros((len(ids), 0))
    if missing.any():
        raise TopologyError(
            f"node {ids[int(np.flatnonzero(missing)[0])]} has no 'cpu' while other nodes have one",
            source=source,
            field="cpu",
        )
    return (Resource.COMPUTE,), cpu[:, None]


def _read(path: Path) -> nx.Graph:
    if not path.is_file():
        raise TopologyError("no such file", source=str(path))
    try:
        try:
            return nx.read_gml(path, label="id")
        except nx.NetworkXError as err:
            if "duplicated" not in str(err):
                raise
            # A simple-graph file that lists an edge twice: parse it again as a multigraph.
            text = re.sub(r"\bgraph\s*\[", "graph [\n  multigraph 1", path.read_text(), count=1)
            return nx.parse_gml(text, label="id")
    except (nx.NetworkXError, ValueError, UnicodeDecodeError) as err:
        raise TopologyError(f"not a valid GML file: {err}", source=str(path)) from None


def _undirected_simple(graph: nx.Graph, source: str) -> nx.Graph:
    """Merge parallel and reverse edges and drop self loops; edges get ``bandwidth_mb_s`` (NaN: unknown).

    Parallel edges (same direction) add up; the two directions of a directed link give the smaller.
    """
    bad = [n for n in graph.nodes if not isinstance(n, int)]
    if bad:
        raise TopologyError(f"node ids must be integers, found {bad[0]!r}", source=source, field="id")
    per_direction: dict[tuple[int, int], list[float]] = {}
    for u, v, data in graph.edges(data=True):
        if u != v:
            key = (u, v) if graph.is_directed() else (min(u, v), max(u, v))
            per_direction.setdefault(key, []).append(_link_bandwidth(data, source))
    simple = nx.Graph()
    simple.add_nodes_from(graph.nodes(data=True))
    for (u, v), values in per_direction.items():
        bw = np.nan if np.isnan(values).all() else float(np.nansum(values))
        if simple.has_edge(u, v):
            other = simple.edges[u, v]["bandwidth_mb_s"]
            bw = other if np.isnan(bw) else bw if np.isnan(other) else min(bw, other)
        simple.add_edge(u, v, bandwidth_mb_s=bw)
    return simple


def _link_bandwidth(data: dict, source: str) -> float:
    """MB/s from the edge's attributes, NaN when it has none."""
    raw = _number(data.get("LinkSpeedRaw"), source, "LinkSpeedRaw")
    if not np.isnan(raw):
        return raw / _BITS_PER_MB
    return _number(data.get("bw"), source, "bw")


def _positions(graph: nx.Graph, ids: list[int], source: str) -> np.ndarray:
    """(longitude, latitude) per node, NaN where unknown. Shapes: (N, 2) degrees."""
    nodes = [graph.nodes[n] for n in ids]
    if any("Longitude" in d or "Latitude" in d for d in nodes):
        keys = ("Longitude", "Latitude")
    elif all("x" in d and "y" in d for d in nodes):
        keys = ("x", "y")
    else:
        return np.full((len(ids), 2), np.nan)
    lonlat = np.array(
        [[_number(d.get(k), source, k, signed=True) for k in keys] for d in nodes], dtype=np.float64
    )
    outside = (np.abs(lonlat[:, 0]) > 180) | (np.abs(lonlat[:, 1]) > 90)
    if keys == ("x", "y") and outside.any():
        return np.full((len(ids), 2), np.nan)  # x / y are a drawing layout, not degrees
    if outside.any():
        i = int(np.flatnonzero(outside)[0])
        raise TopologyError(f"node {ids[i]}: position {lonlat[i].tolist()} is not in degrees", source=source)
    return lonlat


def _number(value: object, source: str, name: str, *, signed: bool = False) -> float:
    """An attribute as a float (numbers or numeric strings), NaN when absent; >= 0 unless ``signed``."""
    if value is None:
        return np.nan
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise TopologyError(f"not a number: {value!r}", source=source, field=name) from None
    if not np.isfinite(number) or (number < 0 and not signed):
        raise TopologyError(f"must be finite and >= 0, got {value!r}", source=source, field=name)
    return number
