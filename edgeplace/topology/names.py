"""Names shared by loaders, generators and consumers: resources, node features, affinity tags, tiers.

``StrEnum`` members compare equal to their string values, so ``substrate.resource_index(Resource.COMPUTE)``
and ``substrate.resource_index("compute")`` are the same call.
"""

from enum import IntEnum, StrEnum


class Resource(StrEnum):
    """Node resource names (columns of ``Substrate.capacity``).

    ``compute``, ``memory`` and ``storage`` are in the abstract units of the topology family that sets
    them (GenAI-edge compute 16-55, AgentVNE capacities 1-8, a GML file's ``cpu``); names with a unit
    suffix are physical. A scenario reads the name whose units it models (see ``attributes``).
    """

    COMPUTE = "compute"
    MEMORY = "memory"
    STORAGE = "storage"
    COMPUTE_TFLOPS = "compute_tflops"
    """Compute throughput, TFLOP/s."""
    MEMORY_MB = "memory_mb"
    """Memory, MB."""


class NodeFeature(StrEnum):
    """Keys of ``Substrate.node_features`` (static per-node floats that are not allocatable)."""

    STORAGE = "storage"
    TRAFFIC_RATE = "traffic_rate"
    UPLINK_MB_S = "uplink_mb_s"


class Affinity(StrEnum):
    """Keys of ``Substrate.affinity`` (per-node boolean capability tags)."""

    TEE = "tee"
    CAMERA = "camera"


class Tier(IntEnum):
    """Values of ``Substrate.tier``."""

    CLOUD = 0
    EDGE = 1
    ACCESS = 2
