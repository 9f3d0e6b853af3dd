"""The feature arrays of the metaverse-dag observation (see :mod:`.observation` for the table), computed
for all K agents at once from the env's state."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from edgeplace.envs.metaverse_dag.layout import NUM_PATTERNS, SlotLayout
from edgeplace.envs.metaverse_dag.network import EdgeNetwork
from edgeplace.envs.metaverse_dag.options import RegionOptions
from edgeplace.workloads.metaverse_dag import NUM_CLASSES, PAYLOAD_FRACTION, DagTemplates

RATE_REF = 400.0
RADIO_REF_S = 2.5e-3
DELAY_REF_S = 10e-3
CPU_REF, RAM_REF_GB = 4.0, 8.0
DEADLINE_REF_S = 30e-3
SOJOURN_REF_S = 100e-3


@dataclass(frozen=True)
class LiveState:
    """What the features read besides the static network and templates.

    Shapes: slot_node (K, S) int64 (-1 none); choice (K, S) option indices; pattern (K, E); node_up (N,);
    es_rate (n,) req/s; slot_rho, slot_sojourn_s (K, S) of the last step (0 before the first);
    link_rho (L, 3) of the last step; replica_limit (K, S) int64, the autoscaler's replica count of each
    slot's microservice (slots at or beyond it allow NONE alone), None without an autoscaler.
    """

    slot_node: np.ndarray
    choice: np.ndarray
    pattern: np.ndarray
    node_up: np.ndarray
    es_rate: np.ndarray
    slot_rho: np.ndarray
    slot_sojourn_s: np.ndarray
    link_rho: np.ndarray
    replica_limit: np.ndarray | None = None


def one_hot(index: np.ndarray, width: int) -> np.ndarray:
    """Rows of the identity, zeros for index < 0. Shapes: (...) -> (..., width)."""
    return np.where((index >= 0)[..., None], np.eye(width)[np.maximum(index, 0)], 0.0)


def node_features(
    net: EdgeNetwork, options: RegionOptions, layout: SlotLayout, tpl: DagTemplates, live: LiveState
) -> np.ndarray:
    """Shapes: -> (K, O, 14) float32 (zeros for padding and NONE)."""
    n = net.num_nodes
    placed = live.slot_node >= 0
    hosts = live.slot_node[placed]
    slot_cpu = tpl.cpu[layout.slot_class, layout.slot_ms]
    slot_ram = tpl.ram_gb[layout.slot_class, layout.slot_ms]
    k_idx = np.nonzero(placed)[1]
    cpu_util = np.bincount(hosts, slot_cpu[k_idx], minlength=n) / net.vcpu
    ram_util = np.bincount(hosts, slot_ram[k_idx], minlength=n) / net.ram_gb
    count = np.bincount(hosts, minlength=n)
    mean_rho = np.bincount(hosts, live.slot_rho[placed], minlength=n) / np.maximum(count, 1)
    rate = np.zeros(n)
    rate[: net.num_es] = live.es_rate / RATE_REF
    per_node = np.column_stack(
        [
            1 - cpu_util,
            1 - ram_util,
            cpu_util,
            mean_rho,
            rate,
            live.node_up,
            one_hot(net.zone, 3),
            one_hot(net.kind, 3),
            net.radio_latency_s / RADIO_REF_S,
        ]
    )  # (N, 13)
    weights = np.zeros((net.num_regions, net.num_es))
    weights[net.region[: net.num_es], np.arange(net.num_es)] = live.es_rate
    weights /= np.maximum(weights.sum(axis=1, keepdims=True), 1e-12)
    centroid = weights @ net.delay_matrix_s[: net.num_es] / DELAY_REF_S  # (K, N)
    hosts = np.maximum(options.option_node, 0)
    real = (options.option_node >= 0)[..., None]
    region_delay = np.take_along_axis(centroid, hosts, axis=1)[..., None]
    features = np.concatenate([per_node[hosts], region_delay], axis=2)
    return np.where(real, features, 0.0).astype(np.float32)


def link_features(net: EdgeNetwork, options: RegionOptions, live: LiveState) -> np.ndarray:
    """Shapes: -> (K, L, 6) float32 (zeros for padding)."""
    ids = np.maximum(options.link_ids, 0)
    load_share = live.link_rho * net.slice_bw_mbps
    util = load_share.sum(axis=1) / net.slice_bw_mbps.sum(axis=1)
    up = live.node_up[net.link_src] & live.node_up[net.link_dst]
    per_link = np.column_stack(
        [np.clip(1 - live.link_rho, 0.0, 1.0), util, net.delay_s / DELAY_REF_S, up]
    )  # (L, 6)
    return np.where((options.link_ids >= 0)[..., None], per_link[ids], 0.0).astype(np.float32)


def slot_features(
    layout: SlotLayout, options: RegionOptions, tpl: DagTemplates, live: LiveState, slot_valid: np.ndarray
) -> np.ndarray:
    """Shapes: -> (K, S, 12) float32 (zeros on padding slots)."""
    c, m = layout.slot_class, layout.slot_ms
    static = np.column_stack(
        [
            one_hot(c, NUM_CLASSES),
            m / np.maximum(tpl.num_ms[c] - 1, 1),
            layout.slot_rep / layout.r_max,
            tpl.cpu[c, m] / CPU_REF,
            tpl.ram_gb[c, m] / RAM_REF_GB,
            tpl.stateful[c, m],
            tpl.deadline_s[c] / DEADLINE_REF_S,
        ]
    )  # (S, 9)
    k = live.choice.shape[0]
    dynamic = np.stack(
        [live.choice / (options.num_options - 1), live.slot_rho, live.slot_sojourn_s / SOJOURN_REF_S], axis=2
    )
    features = np.concatenate([np.broadcast_to(static, (k, *static.shape)), dynamic], axis=2)
    return np.where(slot_valid[None, :, None], features, 0.0).astype(np.float32)


def edge_features(
    layout: SlotLayout,
    tpl: DagTemplates,
    edges: tuple[np.ndarray, np.ndarray, np.ndarray],
    pattern: np.ndarray,
) -> np.ndarray:
    """Shapes: -> (K, E, 5) float32 (zeros on padding entries)."""
    src, dst, valid = edges
    c = layout.edge_class
    static = np.column_stack(
        [tpl.payload_fraction[c, src, dst] / PAYLOAD_FRACTION[1], one_hot(c, NUM_CLASSES)]
    )
    k = pattern.shape[0]
    features = np.concatenate(
        [np.broadcast_to(static, (k, *static.shape)), (pattern / (NUM_PATTERNS - 1))[..., None]], axis=2
    )
    return np.where(valid[None, :, None], features, 0.0).astype(np.float32)


def edge_slot_index(layout: SlotLayout, edges: tuple[np.ndarray, np.ndarray, np.ndarray]) -> np.ndarray:
    """Slots of replica 0 of each DAG edge's source and destination (0, 0 on padding).

    Shapes: -> (2, E) int64.
    """
    src, dst, valid = edges
    block = np.concatenate([[0], np.cumsum(np.array(layout.max_ms) * layout.r_max)])[layout.edge_class]
    index = np.stack([block + src * layout.r_max, block + dst * layout.r_max])
    return np.where(valid[None, :], index, 0).astype(np.int64)
