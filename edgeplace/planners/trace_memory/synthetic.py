"""Synthetic but realistic trace records, for tests and the retrieval benchmark (no env needed).

The structure a real memory has is imitated:

* a few catalogues (one DAG template per class each, drawn as in spec b); a trace's shard is its region's
  majority zone (45/35/20 %) x its catalogue size;
* q_ctx is a mixture: each shard has ``clusters`` Gaussian centres, and a trace is a centre plus noise;
* each centre has a prototype placement (host tier and zone per slot), which a trace copies per slot with
  probability .8 (so traces close in q_ctx also place alike, and S_place is informative);
* slot order is the env's: class blocks padded to ``max_ms``, microservice-major, then replica.
"""

from __future__ import annotations

import numpy as np

from edgeplace.planners.trace_memory.signature import dag_signature
from edgeplace.planners.trace_memory.trace import NUM_ZONES, ROLE_NONE, Tier, TraceLayout
from edgeplace.workloads.metaverse_dag import CLASSES, max_edges, sample_templates

ZONE_SHARES = np.array([0.45, 0.35, 0.20])
TIER_SHARES = np.array([0.70, 0.25, 0.05])
"""Share of placed replicas on ES / EC / cloud."""


class SyntheticTraces:
    """A generator of trace records for one layout.

    Args:
        max_ms: most microservices per class (the slot blocks), e.g. (6, 6, 6) or (6, 15, 20).
        r_max: replica slots per microservice.
        catalogues: distinct catalogues (template sets); each has its own size where the class ranges allow.
        clusters: q_ctx mixture components per shard.
        noise: std of a trace around its centre (centres have unit-scale entries).
        seed: seeds the catalogues, centres and prototypes.
        ms_counts: microservices per class of the first catalogue (default: drawn in the class ranges,
            capped at ``max_ms``), e.g. `small`'s (4, 6, 6).
    """

    def __init__(
        self,
        max_ms: tuple[int, ...],
        r_max: int,
        catalogues: int = 1,
        clusters: int = 32,
        noise: float = 0.35,
        seed: int = 0,
        ms_counts: tuple[int, ...] | None = None,
    ) -> None:
        rng = np.random.default_rng(seed)
        self.layout = TraceLayout.for_catalogue(max_ms, r_max)
        c = len(max_ms)
        self.clusters, self.noise = clusters, noise
        # Slot and edge blocks, as the env lays them out.
        self.slot_class = np.repeat(np.arange(c), np.array(max_ms) * r_max)
        self.slot_ms = np.concatenate([np.repeat(np.arange(m), r_max) for m in max_ms])
        self.slot_rep = np.concatenate([np.tile(np.arange(r_max), m) for m in max_ms])
        edge_counts = [max_edges(m) for m in max_ms]
        self.edge_class_block = np.repeat(np.arange(c), edge_counts)
        self.edge_start = np.concatenate([[0], np.cumsum(edge_counts)])
        m_pad = max(max_ms)
        self.sig, self.num_ms, self.edge_valid = [], [], []
        for i in range(catalogues):
            counts = (
                ms_counts
                if i == 0 and ms_counts is not None
                else tuple(
                    int(rng.integers(min(spec.ms_range[0], m), min(spec.ms_range[1], m) + 1))
                    for spec, m in zip(CLASSES, max_ms, strict=True)
                )
            )
            tpl = sample_templates(rng, counts, m_pad)
            tier = (tpl.cpu > 0.5).astype(np.int64) + (tpl.cpu > 1.5)
            self.sig.append(dag_signature(tpl.parents, tier, tpl.num_ms))
            self.num_ms.append(tpl.num_ms)
            valid = np.zeros(self.edge_class_block.size, bool)
            for k in range(c):
                valid[self.edge_start[k] : self.edge_start[k] + int(tpl.parents[k].sum())] = True
            self.edge_valid.append(valid)
        self.catalogue_ms = np.array([int(n.sum()) for n in self.num_ms])
        shards = NUM_ZONES * catalogues
        q = self.layout.q_dim
        self.centres = rng.normal(size=(shards, clusters, q)).astype(np.float32)
        proto = rng.choice(3, p=TIER_SHARES, size=(shards, clusters, self.slot_class.size))
        self.proto_tier = np.where(
            self.slot_rep == 0, proto, np.where(rng.random(proto.shape) < 0.5, proto, -1)
        )
        self.proto_zone = rng.choice(NUM_ZONES, p=ZONE_SHARES, size=proto.shape)

    def sample(self, rng: np.random.Generator, n: int, t0_s: float = 0.0, num_agents: int = 8) -> np.ndarray:
        """``n`` records, timestamps from ``t0_s`` at one window (600 s) per ``num_agents`` traces.

        Shapes: -> (n,) of ``self.layout.dtype``.
        """
        out = self.layout.empty(n)
        zone = rng.choice(NUM_ZONES, p=ZONE_SHARES, size=n)
        cat = rng.integers(0, len(self.sig), n)
        shard = cat * NUM_ZONES + zone
        cluster = rng.integers(0, self.clusters, n)
        out["timestamp_s"] = t0_s + 600.0 * (np.arange(n) // num_agents)
        out["shard_zone"], out["catalogue_ms"] = zone, self.catalogue_ms[cat]
        out["agent_id"], out["policy_id"] = rng.integers(0, num_agents, n), rng.integers(0, 3, n)
        profile = rng.dirichlet(np.ones(NUM_ZONES), n)
        profile[np.arange(n), zone] += 1.0  # the majority zone
        out["zone_profile"] = profile / profile.sum(axis=1, keepdims=True)
        out["dag_sig"] = np.stack(self.sig)[cat]
        out["q_ctx"] = self.centres[shard, cluster] + self.noise * rng.normal(size=(n, self.layout.q_dim))

        s = self.slot_class.size
        real = self.slot_ms[None, :] < np.stack(self.num_ms)[cat][:, self.slot_class]  # (n, S)
        keep = rng.random((n, s)) < 0.8
        tier = np.where(keep, self.proto_tier[shard, cluster], rng.choice(3, p=TIER_SHARES, size=(n, s)))
        tier = np.where((self.slot_rep[None, :] == 0) & (tier < 0), Tier.EC, tier)
        tier = np.where(real, tier, ROLE_NONE)
        zone_es = np.where(keep, self.proto_zone[shard, cluster], zone[:, None])
        role_zone = np.select([tier == Tier.ES, tier == Tier.EC], [zone_es, zone[:, None]], ROLE_NONE)
        placed = tier >= 0
        out["slot_class"][:, :s] = np.where(real, self.slot_class, -1)
        out["slot_replica"][:, :s] = np.where(real, self.slot_rep, -1)
        quantile = self.slot_ms / np.maximum(np.stack(self.num_ms)[cat][:, self.slot_class] - 1, 1)
        out["slot_quantile"][:, :s] = np.where(real, np.clip(quantile, 0, 1), 0)
        out["role_tier"][:, :s], out["role_zone"][:, :s] = tier, role_zone
        out["role_capacity_q"][:, :s] = np.where(placed, rng.random((n, s)), 0)
        delay_ms = np.choose(
            np.maximum(tier, 0),
            [rng.uniform(0.1, 2.0, (n, s)), rng.uniform(0.5, 3.0, (n, s)), rng.uniform(5.0, 6.0, (n, s))],
        )
        out["role_centroid_delay_ms"][:, :s] = np.where(placed, delay_ms, 0)
        out["role_free_cpu"][:, :s] = np.where(placed, rng.random((n, s)), 0)
        rho = np.where(placed, rng.uniform(0.05, 0.95, (n, s)), 0)
        out["slot_rho"][:, :s] = rho
        out["slot_sojourn_ms"][:, :s] = np.where(placed, rng.lognormal(0.5, 0.6, (n, s)) / (1 - rho), 0)
        e = self.edge_class_block.size
        edge_valid = np.stack(self.edge_valid)[cat]
        out["edge_class"][:, :e] = np.where(edge_valid, self.edge_class_block, -1)
        out["edge_transfer_ms"][:, :e] = np.where(edge_valid, rng.uniform(0.05, 3.0, (n, e)), 0)
        out["kpis"] = np.stack(
            [rng.uniform(0.2, 1.5, n), rng.beta(1, 8, n), rng.uniform(0.2, 0.9, n)], axis=1
        )
        out["utility"] = rng.uniform(0.3, 1.0, n)
        out["w"] = rng.dirichlet(np.full(4, 2.0), n)
        out["psi"] = rng.uniform(0.2, 0.8, (n, 3))
        out["phi"] = rng.uniform(0.2, 0.8, n)
        out["r_hat"] = np.clip(out["utility"] + rng.normal(0, 0.05, n), 0, 1)
        return out
