"""The greedy heuristic of the metaverse-dag scenario (papers/llm-mappo.md, section f, "Heuristics").

Each agent re-places its region from scratch every step: microservices by deadline, then topological
order; replica slots r < n*_m (n*_m = the replicas the last step's load needs at rho .6, at least 1) go
to the allowed node with room that minimises projected CPU utilisation plus the delay to the
predecessor's node (the delay to the region's load centroid for an entry) in ms; other
slots are NONE; every DAG edge takes its rank-1 path. It reads the observation and the static network
(node capacities and delays) built from ``env_config``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from edgeplace.envs.metaverse_dag.config import MetaverseDagConfig
from edgeplace.envs.metaverse_dag.encode import CPU_REF, DELAY_REF_S, RAM_REF_GB
from edgeplace.envs.metaverse_dag.layout import SlotLayout
from edgeplace.envs.metaverse_dag.network import load_network
from edgeplace.envs.metaverse_dag.observation import MvObsKey, NodeCol, SlotCol
from edgeplace.envs.metaverse_dag.options import RegionOptions
from edgeplace.policy import Observation

TARGET_RHO = 0.6
"""Replica utilisation the replica count aims at."""
DELAY_UNIT_S = 1e-3
"""Delay that weighs as much as the whole CPU of a node in the score (1 ms: co-location keeps DAG
traffic off the slices, whose overload costs far more than a busier node)."""


class GreedyPolicy:
    """Section f's greedy placement with rank-1 routes."""

    name = "greedy"

    def __init__(self, env_config: Mapping[str, Any] | None = None) -> None:
        cfg = MetaverseDagConfig.from_env_config(env_config)
        net = load_network(cfg)
        self.layout = SlotLayout.of(cfg.max_ms, cfg.r_max)
        self.options = RegionOptions.of(net, cfg.max_region_es)
        hosts = np.maximum(self.options.option_node, 0)
        real = self.options.option_node >= 0
        self.cpu_cap = np.where(real, net.vcpu[hosts], 0.0)  # (K, O)
        self.ram_cap = np.where(real, net.ram_gb[hosts], 0.0)
        self.delay = net.delay_matrix_s[hosts[:, :, None], hosts[:, None, :]] / DELAY_UNIT_S  # (K, O, O)
        self.agents = {f"ec_{k}": k for k in range(net.num_regions)}

    def act_batch(self, agent_ids: Sequence[str], observations: Sequence[Observation]) -> np.ndarray:
        """Shapes: B observations -> (B, S + E) int64."""
        return np.stack(
            [self._act(self.agents[a], obs) for a, obs in zip(agent_ids, observations, strict=True)]
        )

    def _act(self, k: int, obs: Observation) -> np.ndarray:
        layout, none = self.layout, self.options.none_option
        s_count = layout.num_slots
        parts = obs[MvObsKey.ACTION_MASK]
        allowed = np.stack(parts[:s_count]) > 0  # (S, O)
        routes_valid = np.array([part.sum() > 1 for part in parts[s_count:]])
        slots, nodes = obs[MvObsKey.SLOT_FEATS], obs[MvObsKey.NODE_FEATS]
        cpu, ram = slots[:, SlotCol.CPU] * CPU_REF, slots[:, SlotCol.RAM] * RAM_REF_GB
        current = np.rint(slots[:, SlotCol.OPTION] * (self.options.num_options - 1)).astype(np.int64)
        mine = current != none
        used_cpu = nodes[:, NodeCol.CPU_UTIL] * self.cpu_cap[k] - np.bincount(
            current[mine], cpu[mine], none + 1
        )
        used_ram = (1 - nodes[:, NodeCol.FREE_RAM]) * self.ram_cap[k] - np.bincount(
            current[mine], ram[mine], none + 1
        )
        used_cpu, used_ram = np.maximum(used_cpu, 0.0), np.maximum(used_ram, 0.0)

        src, dst = obs[MvObsKey.EDGE_INDEX][:, routes_valid]
        heads = np.flatnonzero((layout.slot_rep == 0) & ~allowed[:, none])  # replica 0 of each microservice
        order = heads[np.lexsort((heads, slots[heads, SlotCol.DEADLINE]))]
        choice = np.full(s_count, none, np.int64)
        for head in order:
            load = slots[head : head + layout.r_max, SlotCol.LAST_RHO][mine[head : head + layout.r_max]].sum()
            needed = int(np.clip(np.ceil(load / TARGET_RHO), 1, layout.r_max))
            parents = src[dst == head]
            placed_parent = parents[choice[parents] != none]
            closeness = (
                self.delay[k, :, choice[placed_parent[0]]]
                if placed_parent.size
                else nodes[:, NodeCol.CENTROID_DELAY] * (DELAY_REF_S / DELAY_UNIT_S)
            )
            for slot in range(head, head + needed):
                candidates = allowed[slot].copy()
                candidates[none] = False
                room = (
                    candidates
                    & (used_cpu + cpu[slot] <= self.cpu_cap[k])
                    & (used_ram + ram[slot] <= self.ram_cap[k])
                )
                pool = room if room.any() else candidates
                score = np.where(
                    pool, (used_cpu + cpu[slot]) / np.maximum(self.cpu_cap[k], 1e-9) + closeness, np.inf
                )
                option = int(score.argmin())
                choice[slot] = option
                used_cpu[option] += cpu[slot]
                used_ram[option] += ram[slot]
        return np.concatenate([choice, np.zeros(len(parts) - s_count, np.int64)])
