"""The fluid latency model of the metaverse-dag scenario (papers/llm-mappo.md, section b, "Latency"):
rates set replica and link utilisations analytically (M/M/1, capped at rho = .95), and S sampled
requests per region give the end-to-end latency (access + longest entry->sink path + state sync),
the success probability and the violations.

Arrays over replicas are dense (K, C, M, R) = (regions, classes, padded microservices, replica slots);
over DAG edges (K, E) route entries; over requests (Q,). Units: s, Mbit/s, M instructions, GIPS.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from edgeplace.envs.metaverse_dag.layout import PATTERNS, SlotLayout
from edgeplace.envs.metaverse_dag.network import EdgeNetwork
from edgeplace.envs.metaverse_dag.paths import NUM_RANKS
from edgeplace.workloads.metaverse_dag import (
    NUM_CLASSES,
    PAYLOAD_MEAN_MB,
    DagTemplates,
    RequestSample,
    mean_work_minstr,
)

RHO_CAP = 0.95
CAPPED_SOJOURN_S = 20.0
MIGRATION_SLOWDOWN = 0.8
MINSTR_PER_GI = 1e3
MBIT_PER_MB = 8.0


@dataclass(frozen=True)
class Deployment:
    """What the agents decided, as the model reads it.

    Shapes: node (K, C, M, R) int64 host node, -1 for NONE or padding; migrated (K, C, M, R) bool;
    pattern (K, E) int64 split pattern per route entry; edge_class (E,) int64 (the layout's) and
    edge_src, edge_dst (E,) int64, edge_valid (E,) bool, the episode's DAG edges per route entry
    (:meth:`SlotLayout.edges`).
    """

    node: np.ndarray
    migrated: np.ndarray
    pattern: np.ndarray
    edge_class: np.ndarray
    edge_src: np.ndarray
    edge_dst: np.ndarray
    edge_valid: np.ndarray


@dataclass(frozen=True)
class StepOutcome:
    """One step's fluid state and sampled requests.

    Shapes: replica arrays (K, C, M, R): node (host, -1 none), placed, started (bool), rho, sojourn_s
    (mean); node arrays (N,):
    cpu_reserved, ram_reserved; link arrays (L, 3): link_load_mbps, link_rho; request arrays (Q,):
    latency_s, sigma_s, spread_s, success_prob, max_rho, violated (bool).
    """

    node: np.ndarray
    placed: np.ndarray
    started: np.ndarray
    rho: np.ndarray
    sojourn_s: np.ndarray
    cpu_reserved: np.ndarray
    ram_reserved: np.ndarray
    link_load_mbps: np.ndarray
    link_rho: np.ndarray
    latency_s: np.ndarray
    sigma_s: np.ndarray
    spread_s: np.ndarray
    success_prob: np.ndarray
    max_rho: np.ndarray
    violated: np.ndarray


def ram_started(node: np.ndarray, ram_gb: np.ndarray, capacity_gb: np.ndarray, up: np.ndarray) -> np.ndarray:
    """RAM over-commit: per node, replicas start lowest replica slot first while they fit; a replica that
    does not fit does not start (nor do the higher ones behind it on that node).

    Shapes: node (K, C, M, R) int64, ram_gb (K, C, M, R), capacity_gb (N,), up (K, C, M, R) bool
    (placed on an up node) -> (K, C, M, R) bool.
    """
    flat = np.flatnonzero(up)
    rep = np.unravel_index(flat, up.shape)[3]
    hosts = node.ravel()[flat]
    order = np.lexsort((flat, rep, hosts))
    sorted_hosts, sorted_ram = hosts[order], ram_gb.ravel()[flat][order]
    cum = np.cumsum(sorted_ram)
    first = np.r_[True, sorted_hosts[1:] != sorted_hosts[:-1]]
    base = np.maximum.accumulate(np.where(first, cum - sorted_ram, 0.0))
    fits = cum - base <= capacity_gb[sorted_hosts] + 1e-9
    started = np.zeros(up.size, bool)
    started[flat[order]] = _prefix_true_per_segment(fits, first)
    return started.reshape(up.shape)


def _prefix_true_per_segment(fits: np.ndarray, first: np.ndarray) -> np.ndarray:
    """Within each segment (``first`` marks starts), True up to the first False. Shapes: (F,) -> (F,)."""
    segment = np.cumsum(first) - 1
    failed = np.cumsum(~fits)
    failed_before = np.concatenate([[0], failed])[np.flatnonzero(first)][segment]
    return failed - failed_before == 0


def evaluate(
    net: EdgeNetwork,
    layout: SlotLayout,
    templates: DagTemplates,
    deployment: Deployment,
    class_rate: np.ndarray,
    node_up: np.ndarray,
    requests: RequestSample,
    rng: np.random.Generator,
) -> StepOutcome:
    """One step of the fluid model (spec b, "Latency").

    Shapes: class_rate (K, C) req/s served by each region; node_up (N,) bool.
    """
    node = deployment.node
    safe = np.maximum(node, 0)
    real = (np.arange(layout.padded_ms)[None, :] < templates.num_ms[:, None])[None, :, :, None]
    placed = (node >= 0) & real
    up = placed & node_up[safe]
    cpu = np.broadcast_to(templates.cpu[None, :, :, None], node.shape)
    ram = np.broadcast_to(templates.ram_gb[None, :, :, None], node.shape)
    started = ram_started(node, ram, net.ram_gb, up)
    n = net.num_nodes
    cpu_reserved = np.bincount(safe[up], cpu[up], minlength=n)
    ram_reserved = np.bincount(safe[up], ram[up], minlength=n)
    running_cpu = np.bincount(safe[started], cpu[started], minlength=n)
    squeeze = np.minimum(1.0, net.vcpu / np.maximum(running_cpu, 1e-12))
    c_eff = np.where(
        started, cpu * squeeze[safe] * np.where(deployment.migrated, MIGRATION_SLOWDOWN, 1.0), 0.0
    )

    total = c_eff.sum(axis=3, keepdims=True)
    share = np.divide(c_eff, total, out=np.zeros_like(c_eff), where=total > 0)  # replica choice
    speed = c_eff * net.gips_per_vcpu[safe] * MINSTR_PER_GI  # M instr / s
    mean_work = templates.work_share * mean_work_minstr()[:, None]  # (C, M)
    mean_s = np.divide(mean_work[None, :, :, None], speed, out=np.zeros_like(speed), where=started)
    rho = class_rate[:, :, None, None] * share * mean_s
    capped = rho >= RHO_CAP
    sojourn = np.where(capped, CAPPED_SOJOURN_S, mean_s / np.maximum(1.0 - rho, 1e-12))
    drop_rep = np.where(capped, 1.0 - RHO_CAP / np.maximum(rho, RHO_CAP), 0.0)

    transfer = _transfers(net, templates, deployment, started, share, class_rate, node_up)
    latency, sigma, spread, success, max_rho = _requests(
        net, templates, deployment, started, share, speed, rho, capped, drop_rep, transfer, requests, rng
    )
    failed = rng.random(latency.size) >= success
    violated = failed | (latency > templates.deadline_s[requests.cls])
    return StepOutcome(
        node=node,
        placed=placed,
        started=started,
        rho=rho,
        sojourn_s=np.where(started, sojourn, 0.0),
        cpu_reserved=cpu_reserved,
        ram_reserved=ram_reserved,
        link_load_mbps=transfer.load_mbps,
        link_rho=transfer.rho,
        latency_s=latency,
        sigma_s=sigma,
        spread_s=spread,
        success_prob=success,
        max_rho=max_rho,
        violated=violated,
    )


@dataclass(frozen=True)
class _Transfer:
    """Per (K, E, R, R) replica pair of each route entry: s per Mbit (a), fixed delay (s) and the share
    of traffic kept (not dropped), expected over the split; link loads and utilisation (L, 3)."""

    s_per_mbit: np.ndarray
    delay_s: np.ndarray
    keep: np.ndarray
    load_mbps: np.ndarray
    rho: np.ndarray


def effective_shares(pattern_share: np.ndarray, admissible: np.ndarray) -> np.ndarray:
    """Section c's fallback: a missing, down or non-admitting rank's share goes to the best admissible
    rank; with no admissible rank everything goes via the EC.

    Shapes: pattern_share (..., 3), admissible (..., 3) bool -> (..., 4) (ranks 1-3, via EC).
    """
    any_ok = admissible.any(axis=-1, keepdims=True)
    lost = (pattern_share * ~admissible).sum(axis=-1, keepdims=True)
    best = np.eye(NUM_RANKS)[admissible.argmax(axis=-1)]
    ranked = np.where(any_ok, pattern_share * admissible + lost * best, 0.0)
    return np.concatenate([ranked, np.where(any_ok, 0.0, 1.0)], axis=-1)


def _transfers(
    net: EdgeNetwork,
    templates: DagTemplates,
    dep: Deployment,
    started: np.ndarray,
    share: np.ndarray,
    class_rate: np.ndarray,
    node_up: np.ndarray,
) -> _Transfer:
    """Link loads per slice from every route entry's replica pairs, then each pair's transfer terms.

    Only the active pairs (both replicas running, on different nodes, of a real DAG edge) carry traffic
    and are routed, P of them; the others keep 0 s and keep share 1 (co-located, or never chosen).
    """
    kk = np.arange(dep.node.shape[0])[:, None]
    c, src, dst = dep.edge_class, dep.edge_src, dep.edge_dst
    node_a, node_b = dep.node[kk, c, src], dep.node[kk, c, dst]  # (K, E, R)
    live_a, live_b = started[kk, c, src], started[kk, c, dst]
    active = (
        live_a[:, :, :, None]
        & live_b[:, :, None, :]
        & (node_a[:, :, :, None] != node_b[:, :, None, :])
        & dep.edge_valid[None, :, None, None]
    )  # (K, E, R, R)
    k, e, ra, rb = np.nonzero(active)
    a, b = node_a[k, e, ra], node_b[k, e, rb]  # (P,)
    links = net.routes.links[a, b]  # (P, 4, H)
    hop = links >= 0
    cells = np.maximum(links, 0) * 3 + c[e][:, None, None]  # (link, slice) cell of every hop
    link_ok = (node_up[net.link_src] & node_up[net.link_dst])[:, None] & net.slice_admit  # (L, 3)
    path_ok = net.routes.exists[a, b] & np.where(hop, link_ok.ravel()[cells], True).all(axis=-1)  # (P, 4)
    eff = effective_shares(PATTERNS[dep.pattern[k, e]], path_ok[:, :NUM_RANKS])  # (P, 4)
    payload_mbit = MBIT_PER_MB * PAYLOAD_MEAN_MB * templates.payload_fraction[c[e], src[e], dst[e]]
    flow = class_rate[k, c[e]] * share[k, c[e], src[e], ra] * share[k, c[e], dst[e], rb]  # (P,) req/s
    weight = np.broadcast_to((flow * payload_mbit)[:, None, None] * eff[:, :, None], links.shape)
    load = np.bincount(cells[hop], weight[hop], minlength=net.delay_s.size * 3).reshape(-1, 3)
    rho = load / net.slice_bw_mbps
    capped = rho >= RHO_CAP
    inv = np.where(capped, 0.0, 1.0 / (net.slice_bw_mbps * np.maximum(1.0 - rho, 1e-12)))
    fixed = net.delay_s[:, None] + np.where(capped, CAPPED_SOJOURN_S, 0.0)
    keep_link = np.where(capped, RHO_CAP / np.maximum(rho, RHO_CAP), 1.0)
    shape = active.shape
    s_per_mbit, delay, keep = np.zeros(shape), np.zeros(shape), np.ones(shape)
    s_per_mbit[k, e, ra, rb] = (eff * np.where(hop, inv.ravel()[cells], 0.0).sum(axis=-1)).sum(axis=-1)
    delay[k, e, ra, rb] = (eff * np.where(hop, fixed.ravel()[cells], 0.0).sum(axis=-1)).sum(axis=-1)
    keep[k, e, ra, rb] = (eff * np.where(hop, keep_link.ravel()[cells], 1.0).prod(axis=-1)).sum(axis=-1)
    return _Transfer(s_per_mbit=s_per_mbit, delay_s=delay, keep=keep, load_mbps=load, rho=rho)


def sync_delay(net: EdgeNetwork, node: np.ndarray, started: np.ndarray) -> np.ndarray:
    """State-replication delay of each replica: the largest delay to its microservice's other running
    replicas (0 alone). Shapes: (K, C, M, R) -> (K, C, M, R) s."""
    hosts = np.maximum(node, 0)
    delay = net.delay_matrix_s[hosts[..., :, None], hosts[..., None, :]]  # (K, C, M, R, R)
    others = started[..., None, :] & ~np.eye(node.shape[-1], dtype=bool)
    return np.where(others, delay, 0.0).max(axis=-1)


def longest_paths(
    parents: np.ndarray, node_s: np.ndarray, edge_s: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Finish time of every microservice on the longest entry->node path (node weights W, edge weights
    T) and the parent each one waits for (itself for the entry).

    Shapes: parents (Q, M, M) bool ``[q, j, i]`` = i -> j; node_s (Q, M); edge_s (Q, M, M) ``[q, i, j]``
    -> finish (Q, M) s, critical parent (Q, M) int64.
    """
    q, m = node_s.shape
    finish = np.zeros((q, m))
    critical = np.tile(np.arange(m), (q, 1))
    rows = np.arange(q)
    for j in range(m):
        ready = np.where(parents[:, j, :], finish + edge_s[:, :, j], -np.inf)
        best = ready.argmax(axis=1)
        start = ready[rows, best]
        has = np.isfinite(start)
        finish[:, j] = np.where(has, start, 0.0) + node_s[:, j]
        critical[:, j] = np.where(has, best, j)
    return finish, critical


def critical_path(critical: np.ndarray, sink: np.ndarray) -> np.ndarray:
    """Microservices on the path from the entry to ``sink`` through the critical parents.

    Shapes: critical (Q, M), sink (Q,) -> (Q, M) bool.
    """
    q, m = critical.shape
    rows = np.arange(q)
    on_path = np.zeros((q, m), bool)
    current = sink
    for _ in range(m):
        on_path[rows, current] = True
        current = critical[rows, current]
    return on_path


def _request_entries(dep: Deployment, cls: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The route entries of each request's class block (padded to the widest block) and which are
    real DAG edges. Shapes: cls (Q,) -> (Q, W) int64, (Q, W) bool."""
    sizes = np.bincount(dep.edge_class, minlength=NUM_CLASSES)
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    offset = np.arange(sizes.max())[None, :]
    inside = offset < sizes[cls][:, None]
    entry = np.where(inside, starts[cls][:, None] + offset, 0)
    return entry, inside & dep.edge_valid[entry]


def _requests(
    net: EdgeNetwork,
    templates: DagTemplates,
    dep: Deployment,
    started: np.ndarray,
    share: np.ndarray,
    speed: np.ndarray,
    rho: np.ndarray,
    capped: np.ndarray,
    drop_rep: np.ndarray,
    transfer: _Transfer,
    req: RequestSample,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Latency, sigma, sink spread, success probability and max replica rho of each sampled request.
    Shapes: -> 5 x (Q,)."""
    k, c = req.region[:, None], req.cls[:, None]
    q, m_pad, r_max = req.region.size, share.shape[2], share.shape[3]
    ms = np.arange(m_pad)[None, :]
    pi = share[req.region, req.cls]  # (Q, M, R)
    real = ms < templates.num_ms[req.cls][:, None]
    dead = real & (pi.sum(axis=2) <= 0)
    cdf = np.cumsum(pi, axis=2)
    draw = rng.random((q, m_pad))[..., None] * cdf[..., -1:]
    rep = np.minimum((cdf <= draw).sum(axis=2), r_max - 1)  # (Q, M) chosen replica
    host = np.maximum(dep.node[k, c, ms, rep], 0)
    rho_q = rho[k, c, ms, rep]
    work = templates.work_share[req.cls] * req.work_minstr[:, None]
    rep_speed = speed[k, c, ms, rep]
    service = np.divide(work, rep_speed, out=np.zeros_like(work), where=rep_speed > 0)
    overloaded = capped[k, c, ms, rep] | dead
    node_s = np.where(
        real, np.where(overloaded, CAPPED_SOJOURN_S, service / np.maximum(1 - rho_q, 1e-12)), 0.0
    )

    entry, has_edge = _request_entries(dep, req.cls)  # (Q, W) route entries of each request's class
    rows = np.arange(q)[:, None]
    src, dst = dep.edge_src[entry], dep.edge_dst[entry]
    pair = (req.region[:, None], entry, rep[rows, src], rep[rows, dst])
    payload_mbit = (
        MBIT_PER_MB * templates.payload_fraction[req.cls[:, None], src, dst] * req.payload_mb[:, None]
    )
    per_entry = np.where(has_edge, payload_mbit * transfer.s_per_mbit[pair] + transfer.delay_s[pair], 0.0)
    keep = np.where(has_edge, transfer.keep[pair], 1.0).prod(axis=1)
    edge_s = np.zeros((q, m_pad, m_pad))
    edge_s[rows, src, dst] = per_entry  # padding entries write 0 to (0, 0), never an edge

    parents = templates.parents[req.cls]
    finish, critical = longest_paths(parents, node_s, edge_s)
    sinks = templates.sinks[req.cls]
    last = np.where(sinks, finish, -np.inf)
    sink = last.argmax(axis=1)
    processing = last.max(axis=1)
    spread = processing - np.where(sinks, finish, np.inf).min(axis=1)
    on_path = critical_path(critical, sink)
    stateful = on_path & templates.stateful[req.cls]
    sync = (sync_delay(net, dep.node, started)[k, c, ms, rep] * stateful).sum(axis=1)
    access = net.radio_latency_s[req.origin] + net.delay_matrix_s[req.origin, host[:, 0]]
    survive = np.where(real, (1 - net.p_fail[host]) * (1 - drop_rep[k, c, ms, rep]), 1.0)
    success = np.where(dead.any(axis=1), 0.0, survive.prod(axis=1) * keep)
    return (
        access + processing + sync,
        np.sqrt((node_s**2 * on_path).sum(axis=1)),
        spread,
        success,
        np.where(real, rho_q, 0.0).max(axis=1),
    )
