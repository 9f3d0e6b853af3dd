"""Loader for the GenAI-edge dataset directory format (VAMAPPO benchmark; the dataset ships in
``edgeplace/data/genai_edge``, its provenance and layout in ``PROVENANCE.md`` there).

A directory such as ``Server1/`` holds ``*_information.csv`` (one row per server),
``*_topology.csv`` (adjacency matrix), one or more ``*_<Name>Deployment.csv`` files (model instances)
and ``train.csv`` / ``test.csv`` (requests). How the data sheet's quirks are handled:

1. File names are matched ignoring case (``.csv`` / ``.CSV``).
2. Files are decoded as UTF-8, falling back to GBK (the Server4 deployment files).
3. Columns are selected by header name; extra columns (Server4's ``Model``) are allowed.
4. Node index = position after sorting by ServerID; ``Substrate.node_ids`` keeps the ServerIDs, so
   ids need not be 1..N.
5. Topology rows and columns are labelled by ServerID; the top-left header cell is ignored.
6. An asymmetric adjacency (Server2: 1->15, 1->35) is repaired by logical OR, with a ``UserWarning``.
7. ``route`` is parsed as a JSON list.
8. ``w1`` / ``w2`` are kept as in the file; ``TaskTable.quality_preference`` normalises them.
9. ``size`` may be 0 or exceed 512; it is kept as is (>= 0).
10. Servers are (Longitude, Latitude); tasks are (La, Lo); both are read by name.
11. A missing final newline is fine.
12. Nodes hosting no model (Server3: 69, 80) are ordinary nodes.
13. ``LinkBandwidth`` (constant 50, unit undocumented) is read as MB/s; a link gets the smaller value
    of its two ends.

Link delay = great-circle distance / 200,000 km/s (fibre). Any other inconsistency raises one
``TopologyError`` naming the file, row and column.
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from edgeplace.topology.csv_table import CsvTable, find_file
from edgeplace.topology.errors import TopologyError
from edgeplace.topology.geo import fibre_delay_s, link_length_km
from edgeplace.topology.names import NodeFeature, Resource
from edgeplace.topology.shipped_data import GENAI_EDGE_FORMS, genai_edge_directory
from edgeplace.topology.substrate import Substrate

MODEL_TYPES = (1, 2, 3)
"""Model types: 1 text-to-text, 2 text-to-image, 3 image-to-video."""

SPLITS = ("train", "test")


@dataclass(frozen=True)
class ModelDeployment:
    """Model instances placed on servers. Shapes: every array (M,) for M instances."""

    name: str
    """Deployment name, e.g. ``"RandomDeployment"``."""
    model_id: np.ndarray
    """int64, as in the file (unique)."""
    model_type: np.ndarray
    """int64 in ``MODEL_TYPES``."""
    quality: np.ndarray
    """float64 ArenaScore in [0, 1]."""
    node: np.ndarray
    """int64 node index in the substrate (not the ServerID)."""
    model_name: tuple[str, ...] | None = None
    """Model names where the file has a ``Model`` column (only Server4), else None."""


@dataclass(frozen=True)
class TaskTable:
    """Service requests. Shapes: (K,) per column for K requests; ``route`` (K, L), L = 5 in the data."""

    user_id: np.ndarray
    """int64."""
    lat: np.ndarray
    """float64 degrees (column ``La``)."""
    lon: np.ndarray
    """float64 degrees (column ``Lo``)."""
    route: np.ndarray
    """int64 required model type per chain stage."""
    w_quality: np.ndarray
    """float64 >= 0, column ``w1`` as in the file."""
    w_latency: np.ndarray
    """float64 >= 0, column ``w2`` as in the file."""
    size: np.ndarray
    """float64 >= 0, request size (unit undocumented)."""

    @property
    def num_tasks(self) -> int:
        """K."""
        return self.user_id.shape[0]

    @property
    def quality_preference(self) -> np.ndarray:
        """``w1 / (w1 + w2)``: weights normalised to sum to 1 (Server1 train: raw sums vary). Shapes: (K,)."""
        return self.w_quality / (self.w_quality + self.w_latency)


@dataclass(frozen=True)
class GenAIEdgeDataset:
    """One topology directory: the substrate, one model deployment, and the request tables."""

    substrate: Substrate
    deployment: ModelDeployment
    tasks: Mapping[str, TaskTable]
    """``"train"`` and ``"test"``."""


def load_genai_edge(directory: str | Path, *, deployment: str = "RandomDeployment") -> GenAIEdgeDataset:
    """Read a GenAI-edge topology directory (e.g. ``data/genai-edge/Server1``) or a shipped one (``"S1"``).

    Args:
        directory: The directory (a relative path is taken from the current working directory), or
            the short name ``"S1"`` .. ``"S4"`` of a topology shipped with the package.
        deployment: Which ``*_<deployment>.csv`` file to read, e.g. ``"SingleDeployment"``.

    Raises:
        TopologyError: an unknown short name, a missing directory, file or column, or a bad cell; the
            error names the file, row and column (or, for the first two, both forms of the argument).
    """
    root = genai_edge_directory(directory)
    if not root.is_dir():
        raise TopologyError(f"not a directory; use {GENAI_EDGE_FORMS}", source=str(root))
    substrate = _read_substrate(root)
    table = CsvTable(find_file(root, rf"(.*_)?{deployment}\.csv", f"{deployment} deployment"))
    return GenAIEdgeDataset(
        substrate=substrate,
        deployment=_read_deployment(table, deployment, substrate.node_ids),
        tasks={split: _read_tasks(CsvTable(find_file(root, rf"{split}\.csv", split))) for split in SPLITS},
    )


def _read_substrate(root: Path) -> Substrate:
    info = CsvTable(find_file(root, r"(.*_)?information\.csv", "server information"))
    if not info.rows:
        raise info.error(None, None, "no servers (no data rows)")
    server_id = info.ints("ServerID")
    _check_unique(info, server_id, "ServerID")
    order = np.argsort(server_id, kind="stable")
    node_ids = server_id[order]
    coords = np.stack(
        [info.floats("Longitude", low=-180, high=180), info.floats("Latitude", low=-90, high=90)], 1
    )
    coords = coords[order]
    link_bw = info.floats("LinkBandwidth", positive=True)[order]
    capacity = info.floats("ComputationCapacity", low=0)[order]
    storage = info.floats("StorageCapacity", low=0)[order]
    traffic = info.floats("TrafficRate", low=0)[order]

    topology_path = find_file(root, r"(.*_)?topology\.csv", "topology")
    edge_index = _read_adjacency(CsvTable(topology_path), node_ids)
    try:
        return Substrate(
            name=f"genai-edge:{root.name}",
            resource_names=(Resource.COMPUTE,),
            capacity=capacity[:, None],
            edge_index=edge_index,
            bandwidth_mb_s=np.minimum(link_bw[edge_index[0]], link_bw[edge_index[1]]),
            delay_s=fibre_delay_s(link_length_km(coords, edge_index)),
            node_ids=node_ids,
            coords=coords,
            node_features={NodeFeature.STORAGE: storage, NodeFeature.TRAFFIC_RATE: traffic},
        )
    except TopologyError as err:
        raise TopologyError(err.message, source=str(topology_path)) from err


def _read_adjacency(table: CsvTable, node_ids: np.ndarray) -> np.ndarray:
    """Undirected links of a ServerID-labelled 0/1 matrix, OR-symmetrised. Shapes: returns (2, E) int64."""
    header_line = table.header_line
    labels = table.check_ints(table.header[1:], [header_line] * (len(table.header) - 1), "column labels")
    n = labels.size
    if len(table.rows) != n:
        raise table.error(None, None, f"matrix is not square: {n} column labels but {len(table.rows)} rows")
    row_labels = table.check_ints(
        [row[0] for row in table.rows], table.lines, table.header[0] or "row labels"
    )
    mismatch = np.flatnonzero(row_labels != labels)
    if mismatch.size:
        i = int(mismatch[0])
        raise table.error(
            table.lines[i], None, f"row label {row_labels[i]} differs from column label {labels[i]}"
        )
    _check_unique(table, labels, "column labels", lines=[header_line] * n)
    node = _node_index(table, labels, node_ids, lines=[header_line] * n, column="column labels")
    missing = np.setdiff1d(node_ids, labels)
    if missing.size:
        raise table.error(None, None, f"ServerID {missing[0]} of the information file has no row/column")

    cells = [cell for row in table.rows for cell in row[1:]]
    lines = [line for line in table.lines for _ in range(n)]
    matrix = table.check_ints(cells, lines, "adjacency", low=0, high=1).reshape(n, n).astype(bool)
    loops = np.flatnonzero(np.diag(matrix))
    if loops.size:
        raise table.error(table.lines[loops[0]], str(labels[loops[0]]), "self loop (diagonal entry 1)")
    one_way = np.argwhere(matrix & ~matrix.T)
    if one_way.size:
        pairs = ", ".join(f"{labels[i]}->{labels[j]}" for i, j in one_way[:6])
        warnings.warn(
            f"{table.source}: adjacency is not symmetric ({len(one_way)} one-way entries: {pairs}); "
            "repaired by logical OR",
            UserWarning,
            stacklevel=4,
        )
    adjacency = np.zeros((n, n), dtype=bool)
    adjacency[np.ix_(node, node)] = matrix | matrix.T
    return np.stack(np.nonzero(np.triu(adjacency, k=1))).astype(np.int64)


def _read_deployment(table: CsvTable, name: str, node_ids: np.ndarray) -> ModelDeployment:
    model_id = table.ints("ModelID")
    _check_unique(table, model_id, "ModelID")
    return ModelDeployment(
        name=name,
        model_id=model_id,
        model_type=table.ints("ModelType", low=min(MODEL_TYPES), high=max(MODEL_TYPES)),
        quality=table.floats("ArenaScore", low=0.0, high=1.0),
        node=_node_index(table, table.ints("ServerID"), node_ids, lines=table.lines, column="ServerID"),
        model_name=tuple(table.cells("Model")) if "Model" in table.header else None,
    )


def _read_tasks(table: CsvTable) -> TaskTable:
    w_quality = table.floats("w1", low=0.0)
    w_latency = table.floats("w2", low=0.0)
    zero = np.flatnonzero(w_quality + w_latency <= 0)
    if zero.size:
        raise table.error(table.lines[zero[0]], "w1", "w1 and w2 are both 0; the preference is undefined")
    return TaskTable(
        user_id=table.ints("UserId"),
        lat=table.floats("La", low=-90, high=90),
        lon=table.floats("Lo", low=-180, high=180),
        route=_parse_routes(table),
        w_quality=w_quality,
        w_latency=w_latency,
        size=table.floats("size", low=0.0),
    )


def _parse_routes(table: CsvTable) -> np.ndarray:
    """Shapes: returns (K, L) int64, every stage in ``MODEL_TYPES``."""
    routes = []
    for line, cell in zip(table.lines, table.cells("route"), strict=True):
        try:
            route = json.loads(cell)
        except json.JSONDecodeError:
            route = None
        if not isinstance(route, list) or not route or any(type(t) is not int for t in route):
            raise table.error(
                line, "route", f"expected a list of model types like '[1, 2, 3, 1, 3]', got {cell!r}"
            )
        if not set(route) <= set(MODEL_TYPES):
            raise table.error(line, "route", f"model types must be in {MODEL_TYPES}, got {cell!r}")
        if routes and len(route) != len(routes[0]):
            raise table.error(line, "route", f"has {len(route)} stages, earlier rows have {len(routes[0])}")
        routes.append(route)
    return np.array(routes, dtype=np.int64).reshape(len(routes), -1)


def _node_index(
    table: CsvTable, ids: np.ndarray, node_ids: np.ndarray, *, lines: list[int], column: str
) -> np.ndarray:
    """Map ServerIDs to node indices (``node_ids`` is sorted). Shapes: (K,) -> (K,) int64."""
    index = np.clip(np.searchsorted(node_ids, ids), 0, node_ids.size - 1)
    unknown = np.flatnonzero(node_ids[index] != ids)
    if unknown.size:
        i = int(unknown[0])
        raise table.error(lines[i], column, f"unknown server ID {ids[i]} (not in the information file)")
    return index.astype(np.int64)


def _check_unique(
    table: CsvTable, values: np.ndarray, column: str, *, lines: list[int] | None = None
) -> None:
    _, first, counts = np.unique(values, return_index=True, return_counts=True)
    if (counts > 1).any():
        value = values[first[counts > 1][0]]
        repeat = int(np.flatnonzero(values == value)[1])
        raise table.error((lines or table.lines)[repeat], column, f"duplicate {column} {value}")
