"""The topology core: substrates, loaders and generators, routing tables, resource ledgers, feature export.

Imports only numpy, scipy, networkx and the standard library (no RL, no torch).
"""

from edgeplace.topology.allocation import Allocation, LedgerSnapshot
from edgeplace.topology.attributes import (
    AttributeKind,
    AttributeNeed,
    keep_resources,
    load_with_attributes,
    with_attributes,
)
from edgeplace.topology.distributions import (
    Choice,
    NodeDistribution,
    PerTier,
    Tagged,
    TierMix,
    Uniform,
    UniformInt,
    ValueDistribution,
)
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
from edgeplace.topology.uri import load_topology, parse_topology_uri, topology_schemes

__all__ = [
    "Affinity",
    "Allocation",
    "AttributeKind",
    "AttributeNeed",
    "Choice",
    "GenAIEdgeDataset",
    "InsufficientCapacityError",
    "Ledger",
    "LedgerSnapshot",
    "ModelDeployment",
    "NodeDistribution",
    "NodeFeature",
    "PathCache",
    "PerTier",
    "Resource",
    "SHIPPED_GENAI_EDGE",
    "Substrate",
    "Tagged",
    "TaskTable",
    "Tier",
    "TierMix",
    "TopologyError",
    "Uniform",
    "UniformInt",
    "ValueDistribution",
    "cell_cluster",
    "geo_radius",
    "keep_resources",
    "load_genai_edge",
    "load_gml",
    "load_topology",
    "load_with_attributes",
    "node_capacity_features",
    "node_mask",
    "pad_nodes",
    "padded_adjacency",
    "padded_edge_index",
    "padded_size",
    "parse_topology_uri",
    "shipped_genai_edge_root",
    "synthetic_genai",
    "topology_schemes",
    "waxman",
    "with_attributes",
]
