"""The topology core: substrates, loaders and generators, routing tables, resource ledgers, feature export.

Imports only numpy, scipy, networkx and the standard library (no RL, no torch).
"""

from edgeplace.topology.allocation import Allocation, LedgerSnapshot
from edgeplace.topology.errors import InsufficientCapacityError, TopologyError
from edgeplace.topology.features import (
    node_capacity_features,
    node_mask,
    pad_nodes,
    padded_adjacency,
    padded_edge_index,
    padded_size,
)
from edgeplace.topology.genai_edge import GenAIEdgeDataset, ModelDeployment, TaskTable, load_genai_edge
from edgeplace.topology.generators import cell_cluster, geo_radius, synthetic_genai, waxman
from edgeplace.topology.gml import load_gml
from edgeplace.topology.ledger import Ledger
from edgeplace.topology.names import Affinity, NodeFeature, Resource, Tier
from edgeplace.topology.paths import PathCache
from edgeplace.topology.shipped_data import SHIPPED_GENAI_EDGE, shipped_genai_edge_root
from edgeplace.topology.substrate import Substrate
from edgeplace.topology.uri import load_topology, parse_topology_uri

__all__ = [
    "Affinity",
    "Allocation",
    "GenAIEdgeDataset",
    "InsufficientCapacityError",
    "Ledger",
    "LedgerSnapshot",
    "ModelDeployment",
    "NodeFeature",
    "PathCache",
    "Resource",
    "SHIPPED_GENAI_EDGE",
    "Substrate",
    "TaskTable",
    "Tier",
    "TopologyError",
    "cell_cluster",
    "geo_radius",
    "load_genai_edge",
    "load_gml",
    "load_topology",
    "node_capacity_features",
    "node_mask",
    "pad_nodes",
    "padded_adjacency",
    "padded_edge_index",
    "padded_size",
    "parse_topology_uri",
    "shipped_genai_edge_root",
    "synthetic_genai",
    "waxman",
]
