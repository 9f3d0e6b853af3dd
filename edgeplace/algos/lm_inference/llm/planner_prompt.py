"""The llm planner's prompt (spec d, "`llm` backend", "Prompts"): objective, static context, LM
constraints, the random-baseline reference, the memory's cases as sentences sorted by J (the negative
precedent flagged) and the last epoch's telemetry, read from the planner's observation.

The observation's feature layouts are those of
:meth:`~edgeplace.envs.lm_inference.epoch_summary.EpochSummary.features` (``telemetry``),
:meth:`~edgeplace.envs.lm_inference.epoch_summary.EpochSummary.case_features` (``memory`` rows) and
:func:`~edgeplace.envs.lm_inference.epoch_summary.kpi_features` (``baseline``).
"""

from __future__ import annotations

import numpy as np

from edgeplace.algos.lm_inference.llm.sentences import (
    ANSWER_RULE,
    lm_constraints,
    node_hardware,
    number,
    per_lm,
    per_node,
)
from edgeplace.envs.lm_inference.cluster import Cluster
from edgeplace.envs.lm_inference.cluster_view import ClusterView
from edgeplace.envs.lm_inference.epoch_summary import BACKLOG_SCALE
from edgeplace.envs.lm_inference.lm_types import LM_LABELS, NUM_LMS
from edgeplace.envs.lm_inference.observation import LmObs
from edgeplace.envs.lm_inference.params import LmInferenceParams
from edgeplace.policy import Observation
from edgeplace.workloads.lm_inference import MAX_PROMPTS

NEGATIVE_SLOT = 3
"""Memory slot of the worst retrieved case (best, second, third, worst, most recent)."""

SYSTEM = (
    "You are the planner of an edge cluster that serves four generative language-model (LM) types. "
    "Once per epoch you set, for each LM, the probabilities of routing its requests to each worker "
    "node, and each node's roles: the LMs it should keep deployed. "
    f"{ANSWER_RULE} Format: "
    '{"routing": {"LM1": {"<node>": <probability>, ...}, ...}, "roles": {"<node>": ["LM1", ...], ...}}. '
    "Give every LM probabilities that sum to 1 over nodes that can run it, and no weight on a node that "
    "cannot. A node's roles may hold at most as many GPU-only LMs as it has vGPUs, and must fit its RAM; "
    "nodes you route an LM to join its roles."
)


def planner_messages(
    observation: Observation, view: ClusterView, cluster: Cluster, params: LmInferenceParams
) -> list[dict[str, str]]:
    """The planner's ``[system, user]`` messages for the epoch starting at ``view.slot``."""
    epoch = view.slot // params.epoch_slots
    names = cluster.names
    lines = [
        f"Objective: minimise J = {params.latency_weight:g} T_norm + {1 - params.latency_weight:g} "
        "(1 - F_norm). T_norm is the mean latency of successful requests over the deadline "
        f"tau = {params.deadline_s:g} s; "
        "F_norm is the normalised Jain fairness of the per-LM success ratios (1 = all equal). A request "
        "fails unless its result is back within tau.",
        f"Epoch {epoch} starts at slot {view.slot}; an epoch is {params.epoch_slots} slots of "
        f"{params.slot_s:g} s. Every slot each node sends at most one request per LM of 1 to "
        f"{MAX_PROMPTS} prompts.",
        "Nodes (allocatable): "
        + "; ".join(node_hardware(cluster, n) for n in range(cluster.num_nodes))
        + ".",
        "LMs: " + " ".join(lm_constraints(cluster, lm) for lm in range(NUM_LMS)),
        "Random-baseline reference (uniform routing, rule-based deployment): "
        + _kpis(np.asarray(observation[LmObs.BASELINE]), params),
        *_memory(np.asarray(observation[LmObs.MEMORY]), np.asarray(observation[LmObs.MEMORY_MASK]), names),
        _telemetry(np.asarray(observation[LmObs.TELEMETRY]), view, names, params),
        "Current routing: " + _routing(np.asarray(observation[LmObs.CURRENT_POLICY]), names) + ".",
    ]
    return [{"role": "system", "content": SYSTEM}, {"role": "user", "content": "\n".join(lines)}]


def _kpis(features: np.ndarray, params: LmInferenceParams) -> str:
    """A :func:`kpi_features` vector as a sentence. Shapes: features (2 I + 3,)."""
    rho, latency = features[:NUM_LMS], features[NUM_LMS : 2 * NUM_LMS] * params.deadline_s
    t_norm, f_norm, objective = features[2 * NUM_LMS :]
    return (
        f"success ratio {per_lm(rho)}; mean latency {per_lm(latency, ' s')}; "
        f"T_norm {number(t_norm)}, F_norm {number(f_norm)}, J {number(objective)}."
    )


def _routing(probabilities: np.ndarray, names: tuple[str, ...], roles: np.ndarray | None = None) -> str:
    """Per LM the nonzero p_in. Shapes: probabilities (I N,); roles (I, N) bool or None."""
    table = probabilities.reshape(NUM_LMS, len(names))
    return "; ".join(
        f"{label}: {per_node(table[lm], names, None if roles is None else roles[lm])}"
        for lm, label in enumerate(LM_LABELS)
    )


def _memory(memory: np.ndarray, mask: np.ndarray, names: tuple[str, ...]) -> list[str]:
    """The retrieved cases, distinct, best J first, the negative precedent flagged.

    Shapes: memory (5, 3 I + 3 + I N) case features; mask (5,)."""
    negative = memory[NEGATIVE_SLOT].tobytes() if mask[NEGATIVE_SLOT] else None
    cases = {row.tobytes(): row for row, valid in zip(memory, mask, strict=True) if valid}
    if not cases:
        return ["Memory: no past epochs yet."]
    lines = ["Memory of past epochs in similar conditions (best J first):"]
    for key, case in sorted(cases.items(), key=lambda item: float(item[1][2 * NUM_LMS + 2])):
        rho, latency_norm = case[:NUM_LMS], case[NUM_LMS : 2 * NUM_LMS]
        f_norm, t_norm, objective = case[2 * NUM_LMS : 2 * NUM_LMS + 3]
        load = case[2 * NUM_LMS + 3 : 3 * NUM_LMS + 3]
        weights = case[3 * NUM_LMS + 3 :].reshape(NUM_LMS, len(names))
        shares = weights / np.maximum(weights.sum(axis=1, keepdims=True), 1e-12)
        flag = "NEGATIVE PRECEDENT, avoid repeating it: " if key == negative and len(cases) > 1 else ""
        lines.append(
            f"- {flag}J {number(objective)} (F_norm {number(f_norm)}, T_norm {number(t_norm)}); "
            f"success ratio {per_lm(rho)}; latency / tau {per_lm(latency_norm)}; "
            f"load {per_lm(load)}; routing {_routing(shares.ravel(), names)}."
        )
    return lines


def _telemetry(
    features: np.ndarray, view: ClusterView, names: tuple[str, ...], params: LmInferenceParams
) -> str:
    """The last epoch's telemetry (:meth:`EpochSummary.features`) as sentences.

    Shapes: features (4 I + 4 + 4 N I,)."""
    if view.slot < params.epoch_slots:
        return "Last epoch: no measurements yet (this is the first epoch)."
    n = len(names)
    rho, latency = features[:NUM_LMS], features[NUM_LMS : 2 * NUM_LMS] * params.deadline_s
    requests = features[2 * NUM_LMS : 3 * NUM_LMS] * n
    prompts = features[3 * NUM_LMS : 4 * NUM_LMS] * MAX_PROMPTS
    t_norm, f_norm, objective, off_role = features[4 * NUM_LMS : 4 * NUM_LMS + 4]
    active, gpu, served, backlog = features[4 * NUM_LMS + 4 :].reshape(4, n, NUM_LMS)
    pods = [
        [
            f"{label} active {number(active[node, lm])} (GPU {number(gpu[node, lm])}), served share "
            f"{number(served[node, lm])}, backlog {number(backlog[node, lm] * BACKLOG_SCALE)}"
            for lm, label in enumerate(LM_LABELS)
            if active[node, lm] or served[node, lm] or backlog[node, lm]
        ]
        for node in range(n)
    ]
    nodes = "; ".join(f"{name}: {', '.join(pods[node]) or 'idle'}" for node, name in enumerate(names))
    return (
        f"Last epoch: success ratio {per_lm(rho)}; mean latency {per_lm(latency, ' s')}; requests per "
        f"slot {per_lm(requests)}; mean prompts per request {per_lm(prompts)}; T_norm {number(t_norm)}, "
        f"F_norm {number(f_norm)}, J {number(objective)}; share routed off-role {number(off_role)}. "
        f"Per node (fractions of the epoch; backlog in prompts): {nodes}."
    )
