"""The numpy side of the ``memory`` planner (papers/llm-mappo.md, section d): host roles, the context
encoder's inputs, the trace-memory records and queries of a region, the trace graphs the scorer prunes and
re-ranks, and the role-matching bindings of a retrieved trace.

A slot's host *role* is (tier, zone, capacity quantile, delay to the load centroid, free cpu). Traces are
position-aligned with the env's slot layout (class blocks, microservice-major, then replica), so a
trace's slot s is compared with the current slot s. A trace graph is drawn on the current catalogue: its
nodes are the slots, its edges the DAG edges between replica-0 slots and an edge from every other replica
slot to its replica 0 (records keep no DAG structure beyond the signature).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from edgeplace.planners.soft_plans.protocol import PlanContext, Tier, WindowOutcome
from edgeplace.planners.trace_memory import ROLE_NONE, RetrievalQuery, dag_signature

ROLE_TEMPERATURE = 0.1
"""p_j(s, n) proportional to exp(-||role(n) - role_j(s)||^2 / .1)."""
ROLE_DIM = 10
"""Role vector: tier one-hot (ES, EC, CLOUD, NONE), zone one-hot (3), capacity quantile, centroid delay
/ 10 ms, free cpu share."""
DELAY_UNIT_MS = 10.0
SOJOURN_UNIT_MS = 100.0
NODE_FEATURE_DIM = 12
DAG_FEATURE_DIM = 4
SLOT_FEATURE_DIM = 17
EDGE_FEATURE_DIM = 3
TELEMETRY_STATS = 4
"""Per telemetry series: mean, std, slope per step, last value."""
ZONES = 3
LATENCY_KPI_CAP = 2.0
"""Records keep latency / l_max capped at 2 (a window at twice the deadline is simply bad; uncapped, the
20 s overload sojourn would dominate every squared error the scorer is trained on)."""


@dataclass(frozen=True)
class Roles:
    """Host roles, any leading shape: tier (int, :class:`Tier`, NONE for unplaced), zone (int, -1 none),
    capacity_q, centroid_delay_ms, free_cpu (float)."""

    tier: np.ndarray
    zone: np.ndarray
    capacity_q: np.ndarray
    centroid_delay_ms: np.ndarray
    free_cpu: np.ndarray

    def vectors(self) -> np.ndarray:
        """The role vectors. Shapes: (...) -> (..., ROLE_DIM)."""
        tier = np.eye(len(Tier))[self.tier]
        zone = np.where((self.zone >= 0)[..., None], np.eye(ZONES)[np.maximum(self.zone, 0)], 0.0)
        rest = np.stack([self.capacity_q, self.centroid_delay_ms / DELAY_UNIT_MS, self.free_cpu], axis=-1)
        return np.concatenate([tier, zone, rest], axis=-1)

    def take(self, index: np.ndarray) -> Roles:
        """The roles of options ``index`` (NONE where index is the NONE option)."""
        return Roles(
            self.tier[index],
            self.zone[index],
            self.capacity_q[index],
            self.centroid_delay_ms[index],
            self.free_cpu[index],
        )


def option_roles(context: PlanContext, region: int) -> Roles:
    """Roles of the region's options (padding and NONE have the NONE role). Shapes: -> (O,) each."""
    tier = context.option_tier[region]
    real = tier != Tier.NONE
    cpu = context.capacity[region, :, 0]
    ranks = np.argsort(np.argsort(np.where(real, cpu, np.inf), kind="stable"), kind="stable")
    capacity_q = np.where(real, ranks / max(int(real.sum()) - 1, 1), 0.0)
    free = np.clip(np.divide(context.free[region, :, 0], cpu, out=np.zeros_like(cpu), where=cpu > 0), 0, 1)
    return Roles(
        tier=tier,
        zone=np.where(real, context.option_zone[region], -1),
        capacity_q=capacity_q,
        centroid_delay_ms=np.where(real, context.centroid_delay_s[region] * 1e3, 0.0),
        free_cpu=free,
    )


def record_roles(records: np.ndarray) -> Roles:
    """Slot roles of trace records (NONE for unplaced and padding slots). Shapes: (J,) -> (J, S) each."""
    placed = records["role_tier"] >= 0
    return Roles(
        tier=np.where(placed, records["role_tier"], Tier.NONE).astype(np.int64),
        zone=np.where(placed, records["role_zone"], -1).astype(np.int64),
        capacity_q=np.where(placed, records["role_capacity_q"], 0.0).astype(np.float64),
        centroid_delay_ms=np.where(placed, records["role_centroid_delay_ms"], 0.0).astype(np.float64),
        free_cpu=np.where(placed, records["role_free_cpu"], 0.0).astype(np.float64),
    )


def role_bindings(trace_roles: np.ndarray, roles: np.ndarray, allowed: np.ndarray) -> np.ndarray:
    """p_j of J traces: each slot's softmax of -||role(n) - role_j(s)||^2 / .1 over its allowed options.

    Shapes: trace_roles (J, S, ROLE_DIM), roles (O, ROLE_DIM), allowed (S, O) bool -> (J, S, O) float64.
    """
    distance = ((trace_roles[:, :, None, :] - roles[None, None]) ** 2).sum(axis=-1)
    logits = np.where(allowed[None], -distance / ROLE_TEMPERATURE, -np.inf)
    top = logits.max(axis=-1, keepdims=True)
    weights = np.where(allowed[None], np.exp(logits - np.where(np.isfinite(top), top, 0.0)), 0.0)
    total = weights.sum(axis=-1, keepdims=True)
    return np.divide(weights, total, out=np.zeros_like(weights), where=total > 0)


# --- context encoder inputs -------------------------------------------------------------------
def telemetry_stats(telemetry: np.ndarray) -> np.ndarray:
    """Mean, std, least-squares slope per step and last value of every series.

    Shapes: (T, F) -> (F * 4,), series-major.
    """
    steps = np.arange(telemetry.shape[0], dtype=np.float64)
    centred = steps - steps.mean()
    slope = centred @ (telemetry - telemetry.mean(axis=0)) / max(float(centred @ centred), 1e-12)
    return np.stack([telemetry.mean(axis=0), telemetry.std(axis=0), slope, telemetry[-1]], axis=1).ravel()


def context_inputs(context: PlanContext, region: int, policy_id: int = 0) -> dict[str, np.ndarray]:
    """The context encoder's inputs for one region (the keys of :class:`edgeplace.models.toporag`).

    Shapes (O options, L links, C classes, M microservices): telemetry (20,); node_feats (O, 12) tier
    one-hot (3), zone one-hot (3), log2(1 + vCPU) / 10, log2(1 + RAM GB) / 10, free cpu share, util, up,
    centroid delay / 10 ms; node_valid (O,); link_index (2, L); link_valid (L,); dag_feats (C, M, 4) cpu
    / 4 vCPU, RAM / 8 GB, topological quantile, demand tier / 2; dag_parents (C, M, M); dag_valid (C, M);
    class_mix (C,) microservice shares; policy_id () float.
    """
    roles = option_roles(context, region)
    host = (roles.tier != Tier.NONE) & (context.option_tier[region] != Tier.NONE)
    capacity = context.capacity[region]
    node_feats = np.column_stack(
        [
            np.where(host[:, None], np.eye(3)[np.minimum(roles.tier, 2)], 0.0),
            np.where((roles.zone >= 0)[:, None], np.eye(ZONES)[np.maximum(roles.zone, 0)], 0.0),
            np.log2(1 + capacity) / 10,
            roles.free_cpu,
            context.util[region],
            context.up[region],
            roles.centroid_delay_ms / DELAY_UNIT_MS,
        ]
    )
    c_count, m_count = context.num_ms.size, context.parents.shape[1]
    dag_valid = np.arange(m_count)[None, :] < context.num_ms[:, None]
    heads = context.slot_valid & (context.slot_rep == 0)
    c, m = context.slot_class[heads], context.slot_ms[heads]
    dag_feats = np.zeros((c_count, m_count, DAG_FEATURE_DIM))
    dag_feats[c, m] = np.column_stack(
        [
            context.slot_cpu[heads] / 4.0,
            context.slot_ram_gb[heads] / 8.0,
            context.slot_quantile[heads],
            context.demand_tier[c, m] / 2.0,
        ]
    )
    return {
        "telemetry": telemetry_stats(context.telemetry[region]),
        "node_feats": np.where(host[:, None], node_feats, 0.0),
        "node_valid": host,
        "link_index": context.link_index[region],
        "link_valid": context.link_valid[region],
        "dag_feats": dag_feats,
        "dag_parents": context.parents,
        "dag_valid": dag_valid,
        "class_mix": context.num_ms / max(int(context.num_ms.sum()), 1),
        "policy_id": np.array(float(policy_id)),
    }


# --- records and queries ----------------------------------------------------------------------
def shard_key(context: PlanContext, region: int) -> tuple[int, int]:
    """(majority zone of the region's ES, catalogue size in microservices)."""
    es = context.option_tier[region] == Tier.ES
    zones = np.bincount(context.option_zone[region][es], minlength=ZONES)
    return int(zones.argmax()), int(context.num_ms.sum())


def slot_roles(context: PlanContext, region: int, choice: np.ndarray) -> Roles:
    """Roles of the hosts of ``choice`` (NONE for NONE and padding). Shapes: (S,) option indices."""
    return option_roles(context, region).take(np.where(context.slot_valid, choice, context.num_options - 1))


def retrieval_query(context: PlanContext, region: int, q_ctx: np.ndarray) -> RetrievalQuery:
    """What retrieval compares the traces with: the region's context and current placement."""
    roles = slot_roles(context, region, context.choice[region])
    real = context.slot_valid
    placed = roles.tier != Tier.NONE
    return RetrievalQuery(
        shard_key(context, region),
        q_ctx.astype(np.float32),
        dag_signature(context.parents, context.demand_tier, context.num_ms),
        np.where(real, context.slot_class, -1).astype(np.int8),
        np.where(real, context.slot_rep, -1).astype(np.int8),
        np.where(placed, roles.tier, ROLE_NONE).astype(np.int8),
        np.where(placed, roles.zone, ROLE_NONE).astype(np.int8),
    )


def record_columns(outcome: WindowOutcome, q_ctx: np.ndarray, timestamp_s: float, policy_id: int) -> dict:
    """One trace's fields (the trace memory's record layout) from a closed window. Transfer times are not
    observed per edge and are recorded as 0."""
    context, region, plan = outcome.context, outcome.agent, outcome.plan
    query = retrieval_query(context, region, q_ctx)
    roles = slot_roles(context, region, outcome.choice)
    placed = roles.tier != Tier.NONE
    es = context.option_tier[region] == Tier.ES
    zones = np.bincount(context.option_zone[region][es], minlength=ZONES)
    real_edges = context.edge_valid
    columns = {
        "timestamp_s": timestamp_s,
        "shard_zone": query.shard_key[0],
        "catalogue_ms": query.shard_key[1],
        "agent_id": region,
        "policy_id": policy_id,
        "zone_profile": zones / max(int(zones.sum()), 1),
        "dag_sig": query.dag_sig,
        "q_ctx": query.q_ctx,
        "slot_class": query.slot_class,
        "slot_quantile": np.where(context.slot_valid, context.slot_quantile, 0.0),
        "slot_replica": query.slot_replica,
        "role_tier": np.where(placed, roles.tier, ROLE_NONE),
        "role_zone": np.where(placed, roles.zone, ROLE_NONE),
        "role_capacity_q": np.where(placed, roles.capacity_q, 0.0),
        "role_centroid_delay_ms": np.where(placed, roles.centroid_delay_ms, 0.0),
        "role_free_cpu": np.where(placed, roles.free_cpu, 0.0),
        "slot_rho": np.where(context.slot_valid, outcome.slot_rho, 0.0),
        "slot_sojourn_ms": np.where(context.slot_valid, outcome.slot_sojourn_s * 1e3, 0.0),
        "edge_class": np.where(real_edges, context.slot_class[context.edge_src], -1),
        "edge_transfer_ms": np.zeros(real_edges.size),
        "kpis": np.minimum(outcome.kpis, [LATENCY_KPI_CAP, 1.0, np.inf]),
        "utility": np.clip(outcome.utility, 0.0, 1.0),
        "w": plan.w,
        "psi": plan.psi,
        "phi": plan.phi,
        "r_hat": np.clip(plan.r_hat, 0.0, 1.0),
    }
    return {name: np.asarray(value)[None] for name, value in columns.items()}


# --- trace graphs -----------------------------------------------------------------------------
def slot_graph(context: PlanContext) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The trace graph's edges on the current catalogue: DAG edges between replica-0 slots, then every
    slot's edge to its replica 0 (self loops of replica 0 and padding marked invalid).

    Shapes: -> edge_index (2, E + S) int64, valid (E + S,) bool, sibling (E + S,) bool.
    """
    slots = np.arange(context.num_slots)
    head = slots - context.slot_rep
    sibling_valid = context.slot_valid & (context.slot_rep > 0)
    edge_index = np.concatenate(
        [np.stack([context.edge_src, context.edge_dst]), np.stack([slots, head])], axis=1
    ).astype(np.int64)
    valid = np.concatenate([context.edge_valid, sibling_valid])
    sibling = np.concatenate([np.zeros(context.edge_valid.size, bool), np.ones(slots.size, bool)])
    return edge_index, valid, sibling


def edge_features(role_vectors: np.ndarray, edge_index: np.ndarray, sibling: np.ndarray) -> np.ndarray:
    """[|delay difference| / 10 ms, same tier and zone, sibling] of each graph edge under some roles.

    Shapes: role_vectors (..., S, ROLE_DIM), edge_index (2, G), sibling (G,) -> (..., G, 3).
    """
    a, b = role_vectors[..., edge_index[0], :], role_vectors[..., edge_index[1], :]
    delay = np.abs(a[..., 8] - b[..., 8])
    same = np.all(a[..., :7] == b[..., :7], axis=-1)
    return np.stack([delay, same, np.broadcast_to(sibling, same.shape)], axis=-1).astype(np.float64)


def query_graph(context: PlanContext, region: int) -> dict[str, np.ndarray]:
    """What scoring a region's traces needs of the query: the trace graph and the current placement's
    roles. Shapes: -> edge_index (2, G) int64, edge_valid (G,), sibling (G,) bool, current_roles
    (S, ROLE_DIM)."""
    edge_index, edge_valid, sibling = slot_graph(context)
    current = slot_roles(context, region, context.choice[region]).vectors()
    return {"edge_index": edge_index, "edge_valid": edge_valid, "sibling": sibling, "current_roles": current}


def trace_inputs(
    graph: dict[str, np.ndarray], records: np.ndarray, age: np.ndarray, s_j: np.ndarray, r_max: int
) -> dict[str, np.ndarray]:
    """The scorer's inputs for one query (its :func:`query_graph`) and its J retrieved traces (keys of
    :class:`edgeplace.models.toporag.TraceInputs`, without the batch axis).

    Shapes: records (J,), age (J,) age / TTL, s_j (J,) -> slot_feats (J, S, 17), slot_valid (J, S),
    edge_index (2, G), edge_valid (G,), edge_feats (J, G, 3), current_edge_feats (G, 3), age (J,),
    s_j (J,), trace_valid (J,).
    """
    vectors = record_roles(records).vectors()  # (J, S, 10)
    real = records["slot_class"] >= 0
    slot_feats = np.concatenate(
        [
            np.where(real[..., None], np.eye(3)[np.maximum(records["slot_class"], 0)], 0.0),
            records["slot_quantile"][..., None],
            (np.maximum(records["slot_replica"], 0) / max(r_max - 1, 1))[..., None],
            vectors,
            records["slot_rho"][..., None],
            (records["slot_sojourn_ms"] / SOJOURN_UNIT_MS)[..., None],
        ],
        axis=-1,
    ).astype(np.float64)
    edge_index, sibling = graph["edge_index"], graph["sibling"]
    return {
        "slot_feats": np.where(real[..., None], slot_feats, 0.0),
        "slot_valid": real,
        "edge_index": edge_index,
        "edge_valid": graph["edge_valid"],
        "edge_feats": edge_features(vectors, edge_index, sibling),
        "current_edge_feats": edge_features(graph["current_roles"], edge_index, sibling),
        "age": age,
        "s_j": s_j,
        "trace_valid": np.ones(len(records), bool),
    }


def plan_bindings(context: PlanContext, region: int, records: np.ndarray) -> np.ndarray:
    """p_j of every record on the region's options under its masks. Shapes: (J,) -> (J, S, O)."""
    return role_bindings(
        record_roles(records).vectors(), option_roles(context, region).vectors(), context.place_mask[region]
    )
