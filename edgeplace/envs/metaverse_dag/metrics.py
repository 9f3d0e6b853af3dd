"""Step metrics and rewards of the metaverse-dag scenario (papers/llm-mappo.md, section b "Metrics",
Eq. 16-18, and section c "Rewards", Eq. 11, 13, 19, 20)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from edgeplace.envs.metaverse_dag.fluid import StepOutcome
from edgeplace.envs.metaverse_dag.network import EdgeNetwork, NodeKind
from edgeplace.workloads.metaverse_dag import DagTemplates, RequestSample

LATENCY_REF_S = 0.100
"""l_max of the rewards."""
ALPHA = np.array([0.4, 0.2, 0.2, 0.2])
"""Eq. 11 weights on latency, R_tot / R_max, LB, sigma_R."""
OMEGA = np.array([0.4, 0.2, 0.2, 0.2])
"""Eq. 13 static weights on latency, R_tot / R_max, LB, 1 - P."""
PENALTY_RHO = np.array([1.0, 1.0, 1.0])
PENALTY_CLIP = 5.0
PHI0 = 0.5
SIGMA_MAX_SHARE = 0.25
DELTA_SYNC_S = 5e-3
GAMMA_STAB = 0.9
NUM_RESOURCES = 2
SHAPING_RHO = 0.7
"""The replica load above which the RSPPO-like potential (:func:`potential`) falls."""


@dataclass(frozen=True)
class StepMetrics:
    """One step's metrics per region (K,) and over the whole network (floats), and the rewards.

    Per region: latency_s, violations, success, lb, r_tot_ratio, local_costs (K, 4) the Eq. 13 cost terms
    g_i (latency / l_max, R_tot / R_max, LB, 1 - P), penalties (K, 3) c1..c3, r_l, r_pen, reward, utility.
    Global: global_costs (4,) the Eq. 11 terms (latency / l_max, R_tot / R_max, LB, sigma_R), latency_s,
    violations, success, lb, lb_cv, sigma_r, r_tot_ratio, r_g, busy_fraction, cpu_util, bandwidth_util,
    cloud_share.
    """

    region_latency_s: np.ndarray
    region_violations: np.ndarray
    region_success: np.ndarray
    region_lb: np.ndarray
    region_r_tot_ratio: np.ndarray
    local_costs: np.ndarray
    penalties: np.ndarray
    r_l: np.ndarray
    r_pen: np.ndarray
    reward: np.ndarray
    utility: np.ndarray
    latency_s: float
    violations: float
    success: float
    lb: float
    lb_cv: float
    sigma_r: float
    r_tot_ratio: float
    global_costs: np.ndarray
    r_g: float
    busy_fraction: float
    cpu_util: float
    bandwidth_util: float
    cloud_share: float


def _region_mean(values: np.ndarray, region: np.ndarray, regions: int) -> np.ndarray:
    """Mean of ``values`` per region (0 where a region has none). Shapes: (Q,), (Q,) -> (K,)."""
    count = np.bincount(region, minlength=regions)
    return np.bincount(region, values, minlength=regions) / np.maximum(count, 1)


def step_metrics(
    net: EdgeNetwork, templates: DagTemplates, out: StepOutcome, requests: RequestSample
) -> StepMetrics:
    """Spec b's metrics and section c's rewards of one step."""
    k_count = net.num_regions
    capacity = np.stack([net.vcpu, net.ram_gb], axis=1)  # (N, 2)
    util = np.stack([out.cpu_reserved, out.ram_reserved], axis=1) / capacity
    es = net.kind == NodeKind.ES
    es_region = net.region[es]
    es_util = util[es]
    region_count = np.bincount(es_region, minlength=k_count)
    region_mean = np.stack(
        [_region_mean(es_util[:, r], es_region, k_count) for r in range(NUM_RESOURCES)], axis=1
    )
    deviation = es_util - region_mean[es_region]
    region_lb = np.stack(
        [np.bincount(es_region, deviation[:, r] ** 2, minlength=k_count) for r in range(NUM_RESOURCES)],
        axis=1,
    ).sum(axis=1) / np.maximum(region_count, 1)
    cpu = es_util[:, 0]
    lb = float(es_util.var(axis=0).sum())
    lb_cv = float(cpu.std() / cpu.mean()) if cpu.mean() > 0 else 0.0
    sigma_r = float(region_mean[:, 0].std())

    host = np.maximum(out.node, 0)
    share = (
        templates.cpu[None, :, :, None] / net.vcpu[host]
        + templates.ram_gb[None, :, :, None] / net.ram_gb[host]
    )
    r_tot = np.where(out.placed, share, 0.0).sum(axis=(1, 2, 3))  # (K,)
    r_max = NUM_RESOURCES * (region_count + 1)
    node_region = net.region
    over = np.maximum(util - 1.0, 0.0).sum(axis=1)  # (N,)
    owned = node_region >= 0
    c1 = np.bincount(node_region[owned], over[owned], minlength=k_count)

    deadline = templates.deadline_s[requests.cls]
    c2_terms = (
        np.maximum(out.latency_s / deadline - 1, 0)
        + np.maximum(out.sigma_s / (SIGMA_MAX_SHARE * deadline) - 1, 0)
        + np.maximum(out.spread_s / DELTA_SYNC_S - 1, 0)
    )
    p_min = templates.p_min[requests.cls]
    p_ratio = np.divide(p_min, out.success_prob, out=np.full_like(p_min, np.inf), where=out.success_prob > 0)
    c3_terms = np.maximum(out.max_rho / GAMMA_STAB - 1, 0) + np.maximum(p_ratio - 1, 0)
    region = requests.region
    c2 = _region_mean(np.minimum(c2_terms, 1e9), region, k_count)
    c3 = _region_mean(np.minimum(c3_terms, 1e9), region, k_count)
    penalties = np.minimum(np.stack([c1, c2, c3], axis=1), PENALTY_CLIP)

    latency = _region_mean(out.latency_s, region, k_count)
    violations = _region_mean(out.violated.astype(np.float64), region, k_count)
    success = _region_mean(out.success_prob, region, k_count)
    mean_latency = float(out.latency_s.mean())
    r_tot_ratio = float(r_tot.sum() / r_max.sum())
    global_costs = np.array([mean_latency / LATENCY_REF_S, r_tot_ratio, lb, sigma_r])
    r_g = -float(ALPHA @ global_costs)
    local = np.stack([latency / LATENCY_REF_S, r_tot / r_max, region_lb, 1 - success], axis=1)
    r_l = -(local @ OMEGA)
    r_pen = -(penalties @ PENALTY_RHO)
    reward = PHI0 * r_g + (1 - PHI0) * r_l + r_pen
    started = out.started
    hosts = out.node[started]
    load = out.link_load_mbps.sum()
    return StepMetrics(
        region_latency_s=latency,
        region_violations=violations,
        region_success=success,
        region_lb=region_lb,
        region_r_tot_ratio=r_tot / r_max,
        local_costs=local,
        penalties=penalties,
        r_l=r_l,
        r_pen=r_pen,
        reward=reward,
        utility=1.0 + np.clip(reward, -1.0, 0.0),
        latency_s=mean_latency,
        violations=float(out.violated.mean()),
        success=float(out.success_prob.mean()),
        lb=lb,
        lb_cv=lb_cv,
        sigma_r=sigma_r,
        r_tot_ratio=r_tot_ratio,
        global_costs=global_costs,
        r_g=r_g,
        busy_fraction=float(np.minimum(out.rho[started], 1.0).mean()) if started.any() else 0.0,
        cpu_util=float(cpu.mean()),
        bandwidth_util=float(load / (net.slice_bw_mbps.sum())),
        cloud_share=float((hosts == net.cloud).mean()) if hosts.size else 0.0,
    )


def potential(out: StepOutcome, region_violations: np.ndarray) -> np.ndarray:
    """The RSPPO-like potential Phi of each region after a step (section f): -(mean over the region's
    running replicas of [rho - .7]+ + the region's violation share); a region without a running replica
    counts 0 for the first term.

    Shapes: region_violations (K,) -> (K,).
    """
    excess = np.where(out.started, np.maximum(out.rho - SHAPING_RHO, 0.0), 0.0).sum(axis=(1, 2, 3))
    running = out.started.sum(axis=(1, 2, 3))
    return -(excess / np.maximum(running, 1) + region_violations)


def local_reward(metrics: StepMetrics) -> np.ndarray:
    """Eq. 20 with phi0 = 0 (the mu-DDRL-like local scope): r_l + r_pen. Shapes: -> (K,)."""
    return metrics.r_l + metrics.r_pen
