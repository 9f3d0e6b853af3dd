"""GenAI request chains: model instances deployed on a substrate and 5-stage requests over them.

A workload is what the genai-chain scenario places: ``M`` model instances (type, quality, host node)
and, per split, a table of chain requests. It comes from the GenAI edge dataset
(``genai-edge:DIR``) or, for any other topology URI, from :func:`synthesize_workload`, a seeded
generator with the dataset's shape (227 instances of 3 types, the same route constraints). The
substrate carries :data:`NODE_ATTRIBUTES`: the topology's where it has them, else drawn with the
dataset's ranges (the rule of :mod:`edgeplace.topology.attributes`).

Model types: 1 = text-to-text, 2 = text-to-image, 3 = image-to-video.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from edgeplace.topology import (
    AttributeNeed,
    GenAIEdgeDataset,
    NodeFeature,
    Resource,
    Substrate,
    TaskTable,
    UniformInt,
    keep_resources,
    load_genai_edge,
    load_with_attributes,
    with_attributes,
)
from edgeplace.topology.generators import GENAI_COMPUTE_RANGE, GENAI_STORAGE_RANGE, GENAI_TRAFFIC_RANGE

NUM_STAGES = 5
NUM_MODEL_TYPES = 3
#: Size of the dataset's ``size`` column that maps to a size scale of 1 (spec c.3).
SIZE_UNIT = 512.0
#: Instance counts per model type in the dataset (191 text-to-text, 30 text-to-image, 6 image-to-video).
DATASET_TYPE_COUNTS = (191, 30, 6)
SPLITS = ("train", "test")
EARTH_RADIUS_KM = 6371.0
#: The node attributes the scenario reads, drawn with the dataset's integer ranges where a topology
#: lacks them: compute capacity (the system model divides by it) and the storage and traffic-rate
#: features of the observation.
NODE_ATTRIBUTES = (
    AttributeNeed.resource(Resource.COMPUTE, UniformInt(*GENAI_COMPUTE_RANGE), positive=True),
    AttributeNeed.feature(NodeFeature.STORAGE, UniformInt(*GENAI_STORAGE_RANGE)),
    AttributeNeed.feature(NodeFeature.TRAFFIC_RATE, UniformInt(*GENAI_TRAFFIC_RANGE)),
)


@dataclass(frozen=True)
class ChainRequests:
    """K chain requests.

    Shapes:
        route (K, 5) int64, the model type (1..3) each stage needs;
        omega (K,) float64 in [0, 1], weight of quality against latency;
        size_scale (K,) float64 >= 0, request size / 512;
        access_node (K,) int64, node index where the user's input enters the network.
    """

    route: np.ndarray
    omega: np.ndarray
    size_scale: np.ndarray
    access_node: np.ndarray

    def __len__(self) -> int:
        return int(self.route.shape[0])


@dataclass(frozen=True)
class GenAIChainWorkload:
    """Model instances on a substrate plus chain requests per split.

    Shapes: instance_type, instance_quality, instance_node are (M,).
    """

    substrate: Substrate
    instance_type: np.ndarray
    instance_quality: np.ndarray
    instance_node: np.ndarray
    requests: Mapping[str, ChainRequests]

    @property
    def num_instances(self) -> int:
        return int(self.instance_type.shape[0])

    def split(self, name: str) -> ChainRequests:
        """The requests of split ``name`` (``train`` or ``test``)."""
        if name not in self.requests:
            raise KeyError(f"unknown split {name!r}; this workload has {sorted(self.requests)}")
        return self.requests[name]


def nearest_nodes(substrate: Substrate, lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    """Haversine-nearest node of each point. Shapes: lat, lon (K,) degrees -> (K,) node indices."""
    if substrate.coords is None:
        raise ValueError(f"{substrate.name}: nodes have no coordinates; cannot map users to nodes")
    node_lon, node_lat = np.radians(substrate.coords[:, 0]), np.radians(substrate.coords[:, 1])
    lat_r, lon_r = np.radians(lat)[:, None], np.radians(lon)[:, None]
    a = (
        np.sin((node_lat - lat_r) / 2) ** 2
        + np.cos(lat_r) * np.cos(node_lat) * np.sin((node_lon - lon_r) / 2) ** 2
    )
    return np.argmin(2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0))), axis=1)


def requests_from_tasks(tasks: TaskTable, substrate: Substrate) -> ChainRequests:
    """Turn dataset task rows into requests (spec c): omega = w1/(w1+w2), size scale = size/512."""
    weight_sum = tasks.w_quality + tasks.w_latency
    omega = np.divide(tasks.w_quality, weight_sum, out=np.full_like(weight_sum, 0.5), where=weight_sum > 0)
    return ChainRequests(
        route=np.asarray(tasks.route, dtype=np.int64),
        omega=omega,
        size_scale=np.asarray(tasks.size, dtype=np.float64) / SIZE_UNIT,
        access_node=nearest_nodes(substrate, tasks.lat, tasks.lon),
    )


def workload_from_dataset(dataset: GenAIEdgeDataset) -> GenAIChainWorkload:
    """The workload of a GenAI edge dataset directory (its deployment and train/test tasks)."""
    deployment = dataset.deployment
    return GenAIChainWorkload(
        substrate=dataset.substrate,
        instance_type=np.asarray(deployment.model_type, dtype=np.int64),
        instance_quality=np.asarray(deployment.quality, dtype=np.float64),
        instance_node=np.asarray(deployment.node, dtype=np.int64),
        requests={
            name: requests_from_tasks(table, dataset.substrate) for name, table in dataset.tasks.items()
        },
    )


def synthesize_routes(num: int, rng: np.random.Generator) -> np.ndarray:
    """Seeded routes with the dataset's constraints: stage 1 is never type 3, stage 5 never type 2,
    and type 3 is never directly followed by type 2. Shapes: -> (num, 5) int64 in 1..3."""
    stage_probs = np.array(
        [[0.5, 0.5, 0.0], [0.5, 0.37, 0.13], [0.47, 0.27, 0.26], [0.5, 0.12, 0.38], [0.5, 0.0, 0.5]]
    )
    draws = rng.random((num, NUM_STAGES))
    route = 1 + (draws[:, :, None] > np.cumsum(stage_probs, axis=1)[None]).sum(axis=2)
    route = np.minimum(route, NUM_MODEL_TYPES)
    after_video = np.zeros_like(route, dtype=bool)
    after_video[:, 1:] = route[:, :-1] == 3
    route[after_video & (route == 2)] = 1
    return route.astype(np.int64)


def synthesize_instances(
    substrate: Substrate, rng: np.random.Generator, type_counts: tuple[int, ...] = DATASET_TYPE_COUNTS
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Seeded instances: types in dataset proportions, qualities in [0, 1], hosts uniform over nodes.

    Returns (instance_type, instance_quality, instance_node), each (M,) with M = sum(type_counts).
    """
    instance_type = np.repeat(np.arange(1, len(type_counts) + 1), type_counts)
    quality = np.round(rng.uniform(0.05, 1.0, instance_type.size), 3)
    node = rng.integers(0, substrate.num_nodes, instance_type.size)
    return instance_type.astype(np.int64), quality, node.astype(np.int64)


def synthesize_requests(substrate: Substrate, num: int, rng: np.random.Generator) -> ChainRequests:
    """Seeded requests: uniform omega and sizes 0..512, users entering at uniformly drawn nodes."""
    return ChainRequests(
        route=synthesize_routes(num, rng),
        omega=rng.uniform(0.0, 1.0, num),
        size_scale=rng.integers(0, 513, num) / SIZE_UNIT,
        access_node=rng.integers(0, substrate.num_nodes, num).astype(np.int64),
    )


def synthesize_workload(
    substrate: Substrate, *, seed: int = 0, num_train: int = 1000, num_test: int = 200
) -> GenAIChainWorkload:
    """A seeded GenAI workload for any substrate (same seed, same workload)."""
    rng = np.random.default_rng(seed)
    instance_type, quality, node = synthesize_instances(substrate, rng)
    return GenAIChainWorkload(
        substrate=substrate,
        instance_type=instance_type,
        instance_quality=quality,
        instance_node=node,
        requests={
            "train": synthesize_requests(substrate, num_train, rng),
            "test": synthesize_requests(substrate, num_test, rng),
        },
    )


@functools.lru_cache(maxsize=16)
def load_workload(topology_uri: str, *, seed: int = 0, attribute_seed: int = 0) -> GenAIChainWorkload:
    """The workload for a topology URI: the dataset's own for ``genai-edge:DIR``, else synthesized
    (from ``seed``). The substrate has :data:`NODE_ATTRIBUTES` (missing ones drawn from
    ``attribute_seed``) and the one resource ``compute``.

    Cached per process, so the many vectorised env copies of an RLlib EnvRunner share one load.
    """
    if topology_uri.startswith("genai-edge:"):
        workload = workload_from_dataset(load_genai_edge(topology_uri.removeprefix("genai-edge:")))
        substrate = with_attributes(workload.substrate, NODE_ATTRIBUTES, attribute_seed, source=topology_uri)
        return dataclasses.replace(workload, substrate=keep_resources(substrate, (Resource.COMPUTE,)))
    substrate = load_with_attributes(topology_uri, NODE_ATTRIBUTES, attribute_seed)
    return synthesize_workload(keep_resources(substrate, (Resource.COMPUTE,)), seed=seed)
