"""State -> observation of the agent-vne scenario (papers/agentvne.md, sections d and f), and back.

The observation is a Dict of padded *dynamic* arrays (keys :class:`VNEObsKey`); static adjacency,
hops, next hops and link ids come from :func:`edgeplace.envs.agent_vne.static.static_network`.
:func:`request_from_observation` rebuilds the request the env is embedding, so policies decide on
exactly what the env will re-validate. Raw amounts are float64, so a policy's feasibility checks
agree with the env's to the last bit.

Feature scales: resources / ref_d (largest capacity of dimension d), bandwidth / ref_bw (largest
per-node sum of incident link bandwidth).
"""

from __future__ import annotations

from enum import IntEnum, StrEnum

import gymnasium as gym
import numpy as np

from edgeplace.envs.agent_vne.instance import EmbeddingInstance
from edgeplace.envs.agent_vne.network_state import NetworkState
from edgeplace.envs.agent_vne.request import NO_TARGET, VirtualRequest, allowed_hosts
from edgeplace.envs.agent_vne.static import StaticNetwork
from edgeplace.topology.ledger import RTOL

Observation = dict[str, np.ndarray]


class VNEObsKey(StrEnum):
    """Keys of the agent-vne observation (Ns = max_nodes, Nv = max_virtual_nodes, Es = max_edges, A tags)."""

    NODE_FEATURES = "node_features"  # (Ns, 6) float32 X_s (NodeFeature), bias included
    NODE_RESIDUAL = "node_residual"  # (Ns, 3) float64 free compute, memory, storage
    NODE_BIAS = "node_bias"  # (Ns,) float32 bias b on each node (0 elsewhere)
    SN_MASK = "sn_mask"  # (Ns,) float32 1 for real nodes
    LINK_RESIDUAL_BW = "link_residual_bw_mbps"  # (Es,) float64 B_e - sum of b_f, Mbit/s
    LINK_FLOWS = "link_flows"  # (Es,) float32 |F_e|, live virtual links on each link
    LINK_WORKFLOWS = "link_workflows"  # (Es,) float32 n_e, live workflows using each link
    REQUEST_FEATURES = "request_features"  # (Nv, 6) float32 X_v (RequestFeature)
    REQUEST_DEMAND = "request_demand"  # (Nv, 3) float64 demand
    REQUEST_ADJACENCY = "request_adjacency"  # (Nv, Nv) float32, 1 at [u, v] for a link u -> v
    REQUEST_LINK_BW = "request_link_bw_mbps"  # (Nv, Nv) float64 b_uv at [u, v]
    REQUEST_AFFINITY = "request_affinity"  # (Nv, A) float32 tags each agent's host must hold
    VN_MASK = "vn_mask"  # (Nv,) float32 1 for real agents (anchors included)
    ANCHOR_TARGET = "anchor_target"  # (Nv,) int64 pinned node of an anchor, -1 otherwise
    HOST_MASK = "host_mask"  # (Nv, Ns) float32 m_ij: room and attributes now (anchors: target only)


class NodeFeature(IntEnum):
    """Columns of X_s."""

    COMPUTE = 0  # free / ref (+ bias on targets)
    MEMORY = 1
    STORAGE = 2
    BANDWIDTH = 3  # sum of residual bandwidth on incident links / ref_bw
    HAS_ATTRIBUTE = 4
    BIAS_FLAG = 5


class RequestFeature(IntEnum):
    """Columns of X_v."""

    COMPUTE = 0  # demand / ref
    MEMORY = 1
    STORAGE = 2
    BANDWIDTH = 3  # sum of b on incident links / ref_bw
    HAS_AFFINITY = 4
    IS_ANCHOR = 5


FEATURE_DIM = 6


class VNEObserver:
    """Builds observations on one static network.

    Args:
        static: the network (gives Ns, Es and the scales).
        max_virtual_nodes: Nv.
    """

    def __init__(self, static: StaticNetwork, max_virtual_nodes: int) -> None:
        self.static, self.max_virtual_nodes = static, max_virtual_nodes
        n, ns = static.num_nodes, static.max_nodes
        self._sn_mask = np.zeros(ns, dtype=np.float32)
        self._sn_mask[:n] = 1.0
        self._has_attribute = static.attributes.any(axis=1).astype(np.float32)
        self._link_ends = static.edge_index.ravel()  # (2E,): the src of every link, then every dst

    def observation_space(self) -> gym.spaces.Dict:
        ns, nv, es = self.static.max_nodes, self.max_virtual_nodes, self.static.max_edges
        tags = len(self.static.attribute_names)

        def box(shape: tuple[int, ...], low: float = -np.inf, dtype: type = np.float32) -> gym.spaces.Box:
            return gym.spaces.Box(low, np.inf, shape, dtype)

        unit = {"low": 0.0, "high": 1.0, "dtype": np.float32}
        return gym.spaces.Dict(
            {
                VNEObsKey.NODE_FEATURES: box((ns, FEATURE_DIM)),
                VNEObsKey.NODE_RESIDUAL: box((ns, 3), 0.0, np.float64),
                VNEObsKey.NODE_BIAS: box((ns,), 0.0),
                VNEObsKey.SN_MASK: gym.spaces.Box(shape=(ns,), **unit),
                VNEObsKey.LINK_RESIDUAL_BW: box((es,), 0.0, np.float64),
                VNEObsKey.LINK_FLOWS: box((es,), 0.0),
                VNEObsKey.LINK_WORKFLOWS: box((es,), 0.0),
                VNEObsKey.REQUEST_FEATURES: box((nv, FEATURE_DIM)),
                VNEObsKey.REQUEST_DEMAND: box((nv, 3), 0.0, np.float64),
                VNEObsKey.REQUEST_ADJACENCY: gym.spaces.Box(shape=(nv, nv), **unit),
                VNEObsKey.REQUEST_LINK_BW: box((nv, nv), 0.0, np.float64),
                VNEObsKey.REQUEST_AFFINITY: gym.spaces.Box(shape=(nv, tags), **unit),
                VNEObsKey.VN_MASK: gym.spaces.Box(shape=(nv,), **unit),
                VNEObsKey.ANCHOR_TARGET: gym.spaces.Box(NO_TARGET, ns - 1, (nv,), np.int64),
                VNEObsKey.HOST_MASK: gym.spaces.Box(shape=(nv, ns), **unit),
            }
        )

    def observe(self, state: NetworkState, instance: EmbeddingInstance | None) -> Observation:
        """The observation of ``state`` with ``instance`` to embed (None: an empty request part)."""
        static, n = self.static, self.static.num_nodes
        ns, es = static.max_nodes, static.max_edges
        node_free, link_free = np.asarray(state.node_free), state.link_free_mbps
        features = np.zeros((ns, FEATURE_DIM), dtype=np.float32)
        features[:n, :3] = node_free / static.ref_capacity
        incident = np.bincount(self._link_ends, np.tile(link_free, 2), minlength=n)
        features[:n, NodeFeature.BANDWIDTH] = incident / static.ref_bw_mbps
        features[:n, NodeFeature.HAS_ATTRIBUTE] = self._has_attribute
        node_bias = np.zeros(ns, dtype=np.float32)
        if instance is not None:
            features[:n] += instance.bias
            node_bias[:n] = instance.bias[:, NodeFeature.COMPUTE]
        obs = {
            VNEObsKey.NODE_FEATURES: features,
            VNEObsKey.NODE_RESIDUAL: _pad(node_free, ns),
            VNEObsKey.NODE_BIAS: node_bias,
            VNEObsKey.SN_MASK: self._sn_mask.copy(),
            VNEObsKey.LINK_RESIDUAL_BW: _pad(link_free, es),
            VNEObsKey.LINK_FLOWS: _pad(state.flow_count, es).astype(np.float32),
            VNEObsKey.LINK_WORKFLOWS: _pad(state.workflow_count, es).astype(np.float32),
        }
        request = instance.request if instance is not None else None
        obs.update(self._request_part(request, node_free))
        return obs

    def _request_part(self, request: VirtualRequest | None, node_free: np.ndarray) -> Observation:
        static, nv, ns = self.static, self.max_virtual_nodes, self.static.max_nodes
        out = {
            VNEObsKey.REQUEST_FEATURES: np.zeros((nv, FEATURE_DIM), dtype=np.float32),
            VNEObsKey.REQUEST_DEMAND: np.zeros((nv, 3)),
            VNEObsKey.REQUEST_ADJACENCY: np.zeros((nv, nv), dtype=np.float32),
            VNEObsKey.REQUEST_LINK_BW: np.zeros((nv, nv)),
            VNEObsKey.REQUEST_AFFINITY: np.zeros((nv, len(static.attribute_names)), dtype=np.float32),
            VNEObsKey.VN_MASK: np.zeros(nv, dtype=np.float32),
            VNEObsKey.ANCHOR_TARGET: np.full(nv, NO_TARGET, dtype=np.int64),
            VNEObsKey.HOST_MASK: np.zeros((nv, ns), dtype=np.float32),
        }
        if request is None:
            return out
        v = request.num_agents
        if v > nv:
            raise ValueError(
                f"request {request.request_id!r} has {v} agents; raise max_virtual_nodes (now {nv})"
            )
        src, dst = request.links.T
        out[VNEObsKey.REQUEST_ADJACENCY][src, dst] = 1.0
        out[VNEObsKey.REQUEST_LINK_BW][src, dst] = request.bw_mbps
        incident_bw = np.bincount(request.links.ravel(), np.tile(request.bw_mbps, 2), minlength=v)
        affinity = request.affinity
        features = out[VNEObsKey.REQUEST_FEATURES]
        features[:v, :3] = request.demand / static.ref_capacity
        features[:v, RequestFeature.BANDWIDTH] = incident_bw / static.ref_bw_mbps
        features[:v, RequestFeature.HAS_AFFINITY] = affinity.any(axis=1)
        features[:v, RequestFeature.IS_ANCHOR] = request.is_anchor
        out[VNEObsKey.REQUEST_DEMAND][:v] = request.demand
        out[VNEObsKey.REQUEST_AFFINITY][:v] = affinity
        out[VNEObsKey.VN_MASK][:v] = 1.0
        out[VNEObsKey.ANCHOR_TARGET][:v] = request.anchor_target
        fits = (request.demand[:, None, :] <= node_free[None, :, :] + RTOL * static.capacity[None]).all(
            axis=2
        )
        out[VNEObsKey.HOST_MASK][:v, : static.num_nodes] = fits & request.allowed
        return out


def request_from_observation(obs: Observation, static: StaticNetwork) -> VirtualRequest:
    """The request an observation shows (link data sizes are not observed: zeros)."""
    v = int(np.asarray(obs[VNEObsKey.VN_MASK]).sum())
    adjacency = np.asarray(obs[VNEObsKey.REQUEST_ADJACENCY])[:v, :v]
    links = np.argwhere(adjacency > 0.5).astype(np.int64)
    affinity = np.asarray(obs[VNEObsKey.REQUEST_AFFINITY])[:v] > 0.5
    target = np.asarray(obs[VNEObsKey.ANCHOR_TARGET])[:v].astype(np.int64)
    return VirtualRequest(
        request_id="observed",
        demand=np.asarray(obs[VNEObsKey.REQUEST_DEMAND], dtype=np.float64)[:v],
        affinity=affinity,
        allowed=allowed_hosts(affinity, target, static),
        is_anchor=target != NO_TARGET,
        anchor_target=target,
        links=links.reshape(-1, 2),
        bw_mbps=np.asarray(obs[VNEObsKey.REQUEST_LINK_BW], dtype=np.float64)[links[:, 0], links[:, 1]],
        data_mb=np.zeros(links.shape[0]),
    )


def _pad(values: np.ndarray, size: int) -> np.ndarray:
    out = np.zeros((size, *values.shape[1:]), dtype=np.float64)
    out[: values.shape[0]] = values
    return out
