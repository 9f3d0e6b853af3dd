"""Strict validation of the llm agents' JSON answers (spec d, "Planner JSON", "Scheduler JSON",
"Deployer JSON"). Names are the cluster's node names (``VM2``..) and the LM labels (``LM1``..);
unknown keys are errors. Each parser raises :class:`AnswerError`, naming the field, on an answer its
caller must replace by the spec's fallback; the scheduler's missing or infeasible pairs are not errors
but -1 entries, for a per-pair fallback.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np

from edgeplace.envs.lm_inference.cluster import Cluster
from edgeplace.envs.lm_inference.cluster_view import ClusterView
from edgeplace.envs.lm_inference.lm_types import LM_LABELS, LM_TABLE, Mode
from edgeplace.envs.lm_inference.node_config import NodeConfig
from edgeplace.envs.lm_inference.plan import Plan

ROUTING_SUM_TOLERANCE = 0.01
"""An LM's routing weights over its feasible nodes must sum to 1 within this."""
NO_ROUTE = -1
"""A scheduler pair the answer leaves without a feasible destination."""
MODES = {"off": Mode.OFF, "cpu": Mode.CPU, "gpu": Mode.GPU}
_POD_KEYS = {Mode.OFF: {"mode"}, Mode.CPU: {"mode", "cpu"}, Mode.GPU: {"mode", "cpu", "vgpu"}}


class AnswerError(ValueError):
    """An answer that breaks its agent's JSON contract (the message names the field)."""


def parse_plan(text: str, cluster: Cluster) -> Plan:
    """The planner's answer ``{"routing": {LM: {node: p}}, "roles": {node: [LM, ...]}}`` as a plan.

    Weights must be finite and >= 0, none on a node that cannot host the LM, and each LM's sum within
    1 +- 0.01 (then renormalised); roles name LMs the node can host and are widened to every node with
    p_in > 0; per node, at most G_n GPU-only LMs and their minimum RAM within the allocatable RAM.
    """
    answer = _object(_load(text), "answer", required={"routing", "roles"})
    can_host = cluster.can_host  # (N, I)
    routing = np.zeros(can_host.T.shape)  # (I, N)
    for label, weights in _object(answer["routing"], "routing", allowed=LM_LABELS).items():
        lm = LM_LABELS.index(label)
        for name, weight in _object(weights, f"routing.{label}", allowed=cluster.names).items():
            where, node = f"routing.{label}.{name}", cluster.names.index(name)
            if not _is_number(weight) or not math.isfinite(weight) or weight < 0:
                raise AnswerError(f"{where}: must be a finite number >= 0, got {weight!r}")
            if weight > 0 and not can_host[node, lm]:
                raise AnswerError(f"{where}: {label} cannot run on {name}")
            routing[lm, node] = weight
    for lm, label in enumerate(LM_LABELS):
        total = routing[lm].sum()
        if can_host[:, lm].any() and abs(total - 1.0) > ROUTING_SUM_TOLERANCE:
            raise AnswerError(f"routing.{label}: weights must sum to 1, got {total:g}")
    routing /= np.maximum(routing.sum(axis=1, keepdims=True), 1e-12)
    roles = routing.T > 0  # (N, I): widened to every routed node
    for name, labels in _object(answer["roles"], "roles", allowed=cluster.names).items():
        node = cluster.names.index(name)
        for lm in _labels(labels, f"roles.{name}"):
            if not can_host[node, lm]:
                raise AnswerError(f"roles.{name}: {LM_LABELS[lm]} cannot run on {name}")
            roles[node, lm] = True
    _check_roles_fit(roles, cluster)
    return Plan(routing, roles)


def parse_routes(text: str, cluster: Cluster) -> np.ndarray:
    """The scheduler's answer ``{"routes": {origin: {LM: node}}}`` as destinations, :data:`NO_ROUTE`
    where the answer names none or one that cannot host the LM. Shapes: -> (N, I) int64."""
    answer = _object(_load(text), "answer", required={"routes"})
    can_host = cluster.can_host
    destinations = np.full(can_host.shape, NO_ROUTE, dtype=np.int64)
    for origin, pairs in _object(answer["routes"], "routes", allowed=cluster.names).items():
        for label, name in _object(pairs, f"routes.{origin}", allowed=LM_LABELS).items():
            if name not in cluster.names:
                raise AnswerError(f"routes.{origin}.{label}: {name!r} is not a node ({list(cluster.names)})")
            lm, dest = LM_LABELS.index(label), cluster.names.index(name)
            if can_host[dest, lm]:
                destinations[cluster.names.index(origin), lm] = dest
    return destinations


def parse_node_config(text: str, cluster: Cluster, node: int, view: ClusterView) -> NodeConfig:
    """A deployer's answer ``{LM: {"mode": "cpu", "cpu": c} | {"mode": "gpu", "vgpu": g, "cpu": c}}``
    (omitted LMs off) as node ``node``'s configuration: integer resources >= 1, CPU mode only for LMs
    that allow it, Eq. 1 on the allocatable capacity, and no change to a locked pod."""
    pods: dict[int, tuple[int, int, int]] = {}
    for label, pod in _object(_load(text), "answer", allowed=LM_LABELS).items():
        mode_name = _object(pod, label, required={"mode"}, allowed=_POD_KEYS[Mode.GPU])["mode"]
        if not isinstance(mode_name, str) or mode_name not in MODES:
            raise AnswerError(f"{label}.mode: must be one of {list(MODES)}, got {mode_name!r}")
        mode = MODES[mode_name]
        pod = _object(pod, label, required=_POD_KEYS[mode])
        for key in _POD_KEYS[mode] - {"mode"}:
            if isinstance(pod[key], bool) or not isinstance(pod[key], int) or pod[key] < 1:
                raise AnswerError(f"{label}.{key}: must be an integer >= 1, got {pod[key]!r}")
        lm = LM_LABELS.index(label)
        if mode == Mode.CPU and not LM_TABLE.cpu_allowed[lm]:
            raise AnswerError(f"{label}.mode: {label} runs on GPU only")
        pods[lm] = (mode, pod.get("cpu", 0), pod.get("vgpu", 0))
    try:
        config = NodeConfig.from_pods(pods)
        config.check_fits(cluster, node)
    except ValueError as err:
        raise AnswerError(str(err)) from None
    heading = view.node_config(node)
    for lm in np.flatnonzero(view.locked[node]):
        if config.pod(lm) != heading.pod(lm):
            raise AnswerError(f"{LM_LABELS[lm]}: the pod is locked (pending or in transition)")
    return config


def _load(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError as err:
        raise AnswerError(f"answer: not JSON ({err})") from None


def _object(
    value: Any,
    where: str,
    required: set[str] | frozenset[str] = frozenset(),
    allowed: Iterable[str] | None = None,
) -> Mapping[str, Any]:
    """``value`` as a JSON object holding exactly ``required`` (or keys out of ``allowed``)."""
    if not isinstance(value, dict):
        raise AnswerError(f"{where}: must be a JSON object, got {type(value).__name__}")
    allowed = set(required) if allowed is None else set(allowed)
    if missing := set(required) - value.keys():
        raise AnswerError(f"{where}: missing {sorted(missing)}")
    if unknown := value.keys() - allowed:
        raise AnswerError(f"{where}: unknown keys {sorted(unknown)} (allowed: {sorted(allowed)})")
    return value


def _labels(value: Any, where: str) -> list[int]:
    """LM indices of a JSON list of LM labels."""
    if not isinstance(value, list) or any(label not in LM_LABELS for label in value):
        raise AnswerError(f"{where}: must be a list of LM labels {list(LM_LABELS)}, got {value!r}")
    return [LM_LABELS.index(label) for label in value]


def _check_roles_fit(roles: np.ndarray, cluster: Cluster) -> None:
    """Per node: GPU-only LMs in role <= vGPUs, minimum RAM of the LMs in role <= allocatable RAM.
    Shapes: roles (N, I) bool."""
    gpu_only = roles & ~LM_TABLE.cpu_allowed[None, :]
    ram_gb = roles @ LM_TABLE.min_ram_gb
    for node, name in enumerate(cluster.names):
        if gpu_only[node].sum() > cluster.vgpus[node]:
            raise AnswerError(
                f"roles.{name}: {gpu_only[node].sum()} GPU-only LMs on {cluster.vgpus[node]} vGPUs"
            )
        if ram_gb[node] > cluster.ram_gb[node] + 1e-9:
            raise AnswerError(
                f"roles.{name}: the LMs need {ram_gb[node]:g} GB RAM, {name} has {cluster.ram_gb[node]:g}"
            )


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)
