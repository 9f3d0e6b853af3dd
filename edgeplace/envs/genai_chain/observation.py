"""State -> observation of the genai-chain scenario (spec d, "Observation"), written once and used by
the env, the baselines, evaluation and Serve.

Feature layouts are the IntEnums below; node rows beyond the topology's N are zero padding.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import IntEnum

import gymnasium as gym
import numpy as np

from edgeplace.envs.action_masks import discrete_mask
from edgeplace.envs.base import Observation, placement_observation_space
from edgeplace.envs.genai_chain.params import GenAIChainParams
from edgeplace.envs.genai_chain.system_model import (
    ChainSystemModel,
    RequestProfile,
    StageOutcome,
    sigmoid_utility,
)
from edgeplace.obs_keys import ObsKey
from edgeplace.topology import pad_nodes
from edgeplace.workloads.genai_chain import NUM_MODEL_TYPES, NUM_STAGES, GenAIChainWorkload

#: Length of the request vector: stage (5) | route (15) | type (3) | next type (3) | 8 scalars.
REQUEST_DIM = NUM_STAGES + NUM_STAGES * NUM_MODEL_TYPES + 2 * NUM_MODEL_TYPES + 8


class RequestFeature(IntEnum):
    """Scalar columns at the end of the request vector."""

    OMEGA = REQUEST_DIM - 8
    SIZE_SCALE = REQUEST_DIM - 7
    INPUT_MB = REQUEST_DIM - 6  # / 10
    DEADLINE_S = REQUEST_DIM - 5
    ELAPSED_S = REQUEST_DIM - 4
    BUDGET_S = REQUEST_DIM - 3
    PRED_QUALITY = REQUEST_DIM - 2
    PROGRESS = REQUEST_DIM - 1


class NodeFeature(IntEnum):
    """Columns of the node feature matrix (spec d minus its ``valid`` column, which is NODE_MASK)."""

    CAPACITY = 0  # C / 55
    STORAGE = 1  # / 40
    TRAFFIC = 2  # / 50
    LOAD_RATIO = 3  # L / C
    TELEMETRY = 4  # previous request's slowdown delta
    HOSTS_TYPE_1 = 5
    HOSTS_TYPE_2 = 6
    HOSTS_TYPE_3 = 7
    REQUIRED_COUNT = 8  # instances of the required type / 10
    REQUIRED_BEST_QUALITY = 9
    IS_PREDECESSOR = 10  # stage 1: is the access node
    HOPS_FROM_PREDECESSOR = 11  # / 10
    HOPS_TO_NEXT_TYPE = 12  # hops to the nearest host of the next stage's type / 10


class ItemFeature(IntEnum):
    """Columns of the per-instance feature matrix."""

    QUALITY = 0
    PROFILED_S = 1
    EST_COMPUTE_S = 2
    EST_COMM_S = 3
    EST_LATENCY_S = 4
    EST_LATENCY_UTILITY = 5


NODE_DIM = len(NodeFeature)
ITEM_DIM = len(ItemFeature)
CAPACITY_SCALE, STORAGE_SCALE, TRAFFIC_SCALE, COUNT_SCALE, HOP_SCALE, SIZE_MB_SCALE = (
    55.0,
    40.0,
    50.0,
    10,
    10,
    10,
)


@dataclass
class ChainProgress:
    """Where a request stands: the next stage to place and what the placed ones did."""

    request: RequestProfile
    request_index: int
    requests_per_episode: int
    stage: int = 0
    prev_node: int = -1
    elapsed_s: float = 0.0
    pred_quality: float = 0.0

    @property
    def anchor_node(self) -> int:
        """The node the next stage's input comes from: the predecessor's, or the access node."""
        return self.request.access_node if self.stage == 0 else self.prev_node

    def place_stage(
        self,
        model: ChainSystemModel,
        instance: int,
        delta: np.ndarray,
        load: np.ndarray,
        extra_comm_s: float = 0.0,
    ) -> StageOutcome:
        """Put the next stage on ``instance`` and move on to the stage after it: the one stage step of
        the env (``delta`` the true slowdown) and of Serve (``delta`` the telemetry estimate).

        Adds the stage's demand to ``load`` in place; ``extra_comm_s`` is transfer time paid on top of
        Eq.1 (a migration's), seconds. Shapes: delta, load (N,).
        """
        outcome = model.place(self.request, self.stage, self.anchor_node, instance, delta, load, extra_comm_s)
        self.elapsed_s += outcome.latency_s
        self.prev_node, self.pred_quality = outcome.node, outcome.quality
        self.stage += 1
        return outcome


class ChainObserver:
    """Builds observations for a workload; static parts are precomputed per (type, next type).

    Args:
        workload: instances and substrate.
        params: system-model constants.
        max_nodes: node padding of the observation (>= the substrate's node count).
    """

    def __init__(self, workload: GenAIChainWorkload, params: GenAIChainParams, max_nodes: int) -> None:
        substrate = workload.substrate
        self.num_nodes, self.max_nodes = substrate.num_nodes, max_nodes
        self.params = params
        self.capacity = substrate.capacity[:, 0].astype(np.float64)
        self.model = ChainSystemModel(
            hops=substrate.paths.hops,
            capacity=self.capacity,
            instance_type=workload.instance_type,
            instance_quality=workload.instance_quality,
            instance_node=workload.instance_node,
            params=params,
        )
        self.item_node = workload.instance_node.astype(np.int64)
        #: (3, M) int8: row t-1 is the action mask of a stage of type t (the instances of that type)
        self._type_mask_table = discrete_mask(
            workload.instance_type[None, :] == np.arange(1, NUM_MODEL_TYPES + 1)[:, None]
        )
        self._templates = pad_nodes(self._node_templates(workload).transpose(2, 0, 1, 3), max_nodes)
        self._templates = np.ascontiguousarray(self._templates.transpose(1, 2, 0, 3), dtype=np.float32)
        self._hops_scaled = (self.model.hops / HOP_SCALE).astype(np.float32)
        self._item_template = np.zeros((workload.num_instances, ITEM_DIM), dtype=np.float32)
        self._item_template[:, ItemFeature.QUALITY] = workload.instance_quality
        self.node_mask = pad_nodes(np.ones(self.num_nodes, dtype=np.float32), max_nodes).astype(np.float32)
        self.space = placement_observation_space(
            max_nodes=max_nodes,
            node_dim=NODE_DIM,
            request_dim=REQUEST_DIM,
            num_items=workload.num_instances,
            item_dim=ITEM_DIM,
        )

    def _node_templates(self, workload: GenAIChainWorkload) -> np.ndarray:
        """Static node features per (required type, next type or none). Shapes: (3, 4, N, F_node);
        ``__init__`` pads them to (3, 4, max_nodes, F_node) float32."""
        substrate, n = workload.substrate, self.num_nodes
        base = np.zeros((n, NODE_DIM))
        base[:, NodeFeature.CAPACITY] = self.capacity / CAPACITY_SCALE
        for column, name, scale in (
            (NodeFeature.STORAGE, "storage", STORAGE_SCALE),
            (NodeFeature.TRAFFIC, "traffic_rate", TRAFFIC_SCALE),
        ):
            if name in substrate.node_features:
                base[:, column] = np.asarray(substrate.node_features[name]) / scale
        counts = np.zeros((NUM_MODEL_TYPES, n))
        best = np.zeros((NUM_MODEL_TYPES, n))
        np.add.at(counts, (workload.instance_type - 1, workload.instance_node), 1.0)
        np.maximum.at(best, (workload.instance_type - 1, workload.instance_node), workload.instance_quality)
        base[:, NodeFeature.HOSTS_TYPE_1 : NodeFeature.HOSTS_TYPE_3 + 1] = (counts > 0).T
        hops = substrate.paths.hops.astype(np.float64)
        to_type = np.stack(
            [hops[:, counts[t] > 0].min(axis=1) if (counts[t] > 0).any() else np.zeros(n) for t in range(3)]
        )
        templates = np.repeat(base[None, None], NUM_MODEL_TYPES, axis=0).repeat(NUM_MODEL_TYPES + 1, axis=1)
        for t in range(NUM_MODEL_TYPES):
            templates[t, :, :, NodeFeature.REQUIRED_COUNT] = counts[t] / COUNT_SCALE
            templates[t, :, :, NodeFeature.REQUIRED_BEST_QUALITY] = best[t]
            templates[t, :NUM_MODEL_TYPES, :, NodeFeature.HOPS_TO_NEXT_TYPE] = to_type / HOP_SCALE
        return templates

    def observation_space(self) -> gym.spaces.Dict:
        return self.space

    def observe(self, progress: ChainProgress, load: np.ndarray, telemetry: np.ndarray) -> Observation:
        """The observation of the agent placing ``progress.stage``.

        Shapes: load, telemetry (N,) for the real nodes; returns arrays as in ``observation_space()``.
        """
        request, stage = progress.request, progress.stage
        stage_type = int(request.types[stage])
        next_type = int(request.types[stage + 1]) if stage + 1 < NUM_STAGES else 0
        anchor = progress.anchor_node

        nodes = self._templates[stage_type - 1, next_type - 1 if next_type else NUM_MODEL_TYPES].copy()
        real = slice(0, self.num_nodes)
        nodes[real, NodeFeature.LOAD_RATIO] = load / self.capacity
        nodes[real, NodeFeature.TELEMETRY] = telemetry
        nodes[anchor, NodeFeature.IS_PREDECESSOR] = 1.0
        nodes[real, NodeFeature.HOPS_FROM_PREDECESSOR] = self._hops_scaled[anchor]

        items = self._item_features(progress, stage, load, telemetry)
        return {
            ObsKey.REQUEST: self._request_features(progress, stage_type, next_type),
            ObsKey.NODES: nodes,
            ObsKey.NODE_MASK: self.node_mask.copy(),
            ObsKey.ITEMS: items,
            ObsKey.ITEM_NODE: self.item_node.copy(),
            ObsKey.ACTION_MASK: self._type_mask_table[stage_type - 1].copy(),
        }

    def _item_features(
        self, progress: ChainProgress, stage: int, load: np.ndarray, telemetry: np.ndarray
    ) -> np.ndarray:
        """Per-instance estimates with telemetry in place of the unseen delta. Shapes: -> (M, F_item)."""
        request = progress.request
        profiled = self.model.profiled_time_s(request.size_scale)
        est_compute = self.model.compute_time_s(profiled, telemetry, load)
        est_comm = self.model.comm_time_s(request, stage, progress.anchor_node)
        est_latency = est_compute + est_comm
        items = self._item_template.copy()
        items[:, ItemFeature.PROFILED_S] = profiled
        items[:, ItemFeature.EST_COMPUTE_S] = est_compute
        items[:, ItemFeature.EST_COMM_S] = est_comm
        items[:, ItemFeature.EST_LATENCY_S] = est_latency
        items[:, ItemFeature.EST_LATENCY_UTILITY] = sigmoid_utility(
            request.deadline_s[stage], est_latency, self.params.kappa_per_s
        )
        return items

    def _request_features(self, progress: ChainProgress, stage_type: int, next_type: int) -> np.ndarray:
        request, stage = progress.request, progress.stage
        out = np.zeros(REQUEST_DIM, dtype=np.float32)
        out[stage] = 1.0
        route_offset = NUM_STAGES
        out[route_offset + np.arange(NUM_STAGES) * NUM_MODEL_TYPES + request.types - 1] = 1.0
        type_offset = route_offset + NUM_STAGES * NUM_MODEL_TYPES
        out[type_offset + stage_type - 1] = 1.0
        if next_type:
            out[type_offset + NUM_MODEL_TYPES + next_type - 1] = 1.0
        out[RequestFeature.OMEGA :] = _request_scalars(progress)
        return out

    def observe_batch(
        self, progresses: Sequence[ChainProgress], loads: np.ndarray, telemetry: np.ndarray
    ) -> Observation:
        """:meth:`observe` of B requests at once, vectorised over the batch (Serve's placer; the env
        observes one request at a time, where :meth:`observe` is faster, and a batch of one uses
        it). Row b equals ``observe(progresses[b], loads[b], telemetry[b])`` bit for bit; every
        array is fresh.

        Shapes: loads, telemetry (B, N) for the real nodes; returns (B, ...) arrays, each row as in
        ``observation_space()``.
        """
        if len(progresses) == 1:  # the single-request path is faster for one
            single = self.observe(progresses[0], loads[0], telemetry[0])
            return {key: value[None] for key, value in single.items()}
        rows = _StageRows.of(progresses)
        next_column = np.where(rows.next_type > 0, rows.next_type - 1, NUM_MODEL_TYPES)
        nodes = self._templates[rows.stage_type - 1, next_column]  # (B, max_nodes, F_node), a copy
        real = slice(0, self.num_nodes)
        nodes[:, real, NodeFeature.LOAD_RATIO] = loads / self.capacity
        nodes[:, real, NodeFeature.TELEMETRY] = telemetry
        nodes[rows.index, rows.anchor, NodeFeature.IS_PREDECESSOR] = 1.0
        nodes[:, real, NodeFeature.HOPS_FROM_PREDECESSOR] = self._hops_scaled[rows.anchor]
        return {
            ObsKey.REQUEST: self._request_features_batch(rows),
            ObsKey.NODES: nodes,
            ObsKey.NODE_MASK: np.repeat(self.node_mask[None], rows.size, axis=0),
            ObsKey.ITEMS: self._item_features_batch(rows, loads, telemetry),
            ObsKey.ITEM_NODE: np.repeat(self.item_node[None], rows.size, axis=0),
            ObsKey.ACTION_MASK: self._type_mask_table[rows.stage_type - 1],
        }

    def _item_features_batch(self, rows: _StageRows, loads: np.ndarray, telemetry: np.ndarray) -> np.ndarray:
        """:meth:`_item_features` of every row. Shapes: -> (B, M, F_item).

        Compute and communication times depend on each row's own load and anchor: the system model
        evaluates them row by row; the rest is vectorised over the batch.
        """
        model = self.model
        profiled = model.profiled_time_s(rows.scalars[:, _SIZE_SCALE, None])  # (B, M)
        est_compute, est_comm = np.empty_like(profiled), np.empty_like(profiled)
        for b, progress in enumerate(rows.progresses):
            est_compute[b] = model.compute_time_s(profiled[b], telemetry[b], loads[b])
            est_comm[b] = model.comm_time_s(progress.request, progress.stage, progress.anchor_node)
        est_latency = est_compute + est_comm
        items = np.repeat(self._item_template[None], rows.size, axis=0)
        items[:, :, ItemFeature.PROFILED_S] = profiled
        items[:, :, ItemFeature.EST_COMPUTE_S] = est_compute
        items[:, :, ItemFeature.EST_COMM_S] = est_comm
        items[:, :, ItemFeature.EST_LATENCY_S] = est_latency
        items[:, :, ItemFeature.EST_LATENCY_UTILITY] = sigmoid_utility(
            rows.scalars[:, _DEADLINE_S, None], est_latency, self.params.kappa_per_s
        )
        return items

    def _request_features_batch(self, rows: _StageRows) -> np.ndarray:
        """:meth:`_request_features` of every row. Shapes: -> (B, REQUEST_DIM)."""
        out = np.zeros((rows.size, REQUEST_DIM), dtype=np.float32)
        out[rows.index, rows.stage] = 1.0
        route_offset = NUM_STAGES
        route_columns = route_offset + np.arange(NUM_STAGES) * NUM_MODEL_TYPES + rows.types - 1  # (B, 5)
        out[rows.index[:, None], route_columns] = 1.0
        type_offset = route_offset + NUM_STAGES * NUM_MODEL_TYPES
        out[rows.index, type_offset + rows.stage_type - 1] = 1.0
        has_next = rows.next_type > 0
        out[rows.index[has_next], type_offset + NUM_MODEL_TYPES + rows.next_type[has_next] - 1] = 1.0
        out[:, RequestFeature.OMEGA :] = rows.scalars
        return out


def _request_scalars(progress: ChainProgress) -> tuple[float, ...]:
    """The request vector's trailing scalars (RequestFeature.OMEGA ... PROGRESS, in order) for one
    request at its current stage, float64: both observation paths take them from here."""
    request, stage = progress.request, progress.stage
    return (
        request.omega,
        request.size_scale,
        request.input_mb[stage] / SIZE_MB_SCALE,
        request.deadline_s[stage],
        progress.elapsed_s,
        request.deadline_s[: stage + 1].sum() - progress.elapsed_s,
        progress.pred_quality,
        progress.request_index / progress.requests_per_episode,
    )


#: Columns of ``_StageRows.scalars`` (see :func:`_request_scalars`).
_SIZE_SCALE = RequestFeature.SIZE_SCALE - RequestFeature.OMEGA
_DEADLINE_S = RequestFeature.DEADLINE_S - RequestFeature.OMEGA


@dataclass(frozen=True)
class _StageRows:
    """B progresses as arrays, for observing them together.

    Shapes: index, stage, stage_type, next_type (0 after the last stage), anchor (B,) int64; types
    (B, 5) int64; scalars (B, 8) float64 (:func:`_request_scalars` of each row).
    """

    progresses: Sequence[ChainProgress]
    index: np.ndarray
    stage: np.ndarray
    types: np.ndarray
    stage_type: np.ndarray
    next_type: np.ndarray
    anchor: np.ndarray
    scalars: np.ndarray

    @property
    def size(self) -> int:
        return len(self.progresses)

    @classmethod
    def of(cls, progresses: Sequence[ChainProgress]) -> _StageRows:
        if not progresses:
            raise ValueError("progresses: need at least one request to observe")
        stage, anchor = np.array([(p.stage, p.anchor_node) for p in progresses], dtype=np.int64).T
        types = np.array([progress.request.types for progress in progresses], dtype=np.int64)  # (B, 5)
        index = np.arange(len(progresses))
        following = np.minimum(stage + 1, NUM_STAGES - 1)
        return cls(
            progresses=progresses,
            index=index,
            stage=stage,
            types=types,
            stage_type=types[index, stage],
            next_type=np.where(stage + 1 < NUM_STAGES, types[index, following], 0),
            anchor=anchor,
            scalars=np.array([_request_scalars(progress) for progress in progresses], dtype=np.float64),
        )
