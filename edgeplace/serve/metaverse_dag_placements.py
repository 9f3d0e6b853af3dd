"""The decisions of placed metaverse-dag requests and their ``MetaversePlacement`` JSON documents: each
request's action (a place option per slot, a split pattern per route entry) read back through the slot
layout (slot -> microservice and replica, option -> node) and the route entries (entry -> DAG edge)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from edgeplace.envs.metaverse_dag.layout import PATTERNS
from edgeplace.envs.metaverse_dag.options import NONE
from edgeplace.serve.metaverse_dag_schemas import ServiceClassName
from edgeplace.serve.responses import PlacedBatch, rounded, top_k_actions
from edgeplace.workloads.metaverse_dag import ServiceClass

if TYPE_CHECKING:
    from edgeplace.serve.metaverse_dag_placer import MetaverseDagPlacer, MvJob


@dataclass(frozen=True)
class Decisions:
    """B greedy decisions of one kind of part (place slots or route entries) and their top-k.

    Shapes: action (B, P); probability (B, P, n) softmax over the allowed choices; top, top_probability,
    listed (B, P, k).
    """

    action: np.ndarray
    probability: np.ndarray
    top: np.ndarray
    top_probability: np.ndarray
    listed: np.ndarray

    @classmethod
    def of(cls, logits: np.ndarray, allowed: np.ndarray, k: int) -> Decisions:
        """The masked argmax of each part, as ``ModulePolicy`` acts. Shapes: logits, allowed (B, P, n)."""
        b, parts, n = logits.shape
        masked = np.where(allowed, logits.astype(np.float64), -np.inf)
        weights = np.exp(masked - masked.max(axis=-1, keepdims=True))
        top = top_k_actions(logits.reshape(-1, n), allowed.reshape(-1, n), k)
        top_index, top_probability, listed = (part.reshape(b, parts, -1) for part in top)
        return cls(
            masked.argmax(axis=-1),
            weights / weights.sum(axis=-1, keepdims=True),
            top_index,
            top_probability,
            listed,
        )


class PlacedDags(PlacedBatch):
    """The decisions of B independently placed DAGs (row b: ``jobs[b]``)."""

    def __init__(
        self, placer: MetaverseDagPlacer, jobs: Sequence[MvJob], place: Decisions, route: Decisions
    ) -> None:
        self.policy, self.placer, self.jobs = placer.policy.name, placer, jobs
        self.place, self.route = place, route

    def documents(self) -> list[dict[str, Any]]:
        return [self.document(b, job) for b, job in enumerate(self.jobs)]

    def document(self, b: int, job: MvJob) -> dict[str, Any]:
        """The ``MetaversePlacement`` document of job ``b``."""
        placer, dag = self.placer, job.dag
        c, k = dag.service_class, job.region
        option_node = placer.options.option_node[k]
        node = option_node[self.place.action[b]]  # (S,) -1 for NONE
        slot_of = placer.slot_of[c]  # (M, R) slot of (position, replica)
        microservices: list[dict[str, Any]] = [{}] * dag.order.size
        for position, index in enumerate(dag.order.tolist()):
            replicas = [
                self.replica(b, int(slot), r, option_node) for r, slot in enumerate(slot_of[position])
            ]
            microservices[index] = {
                "index": index,
                "nodes": [replica["node_name"] for replica in replicas if replica["node"] is not None],
                "replicas": replicas,
            }
        return {
            "policy": self.policy,
            "agent": placer.agent_ids[k],
            "region": k,
            "service_class": ServiceClassName[ServiceClass(c).name].value,
            "microservices": microservices,
            "edges": self.edges(b, job),
            "overcommitted_nodes": self.overcommitted(job, node),
        }

    def replica(self, b: int, slot: int, r: int, option_node: np.ndarray) -> dict[str, Any]:
        """The decision of replica slot ``slot`` (replica ``r``) of job ``b``."""
        names, d = self.placer.node_names, self.place
        option = int(d.action[b, slot])
        node = int(option_node[option])
        candidates = [
            {
                "option": int(o),
                "node": None if option_node[o] == NONE else int(option_node[o]),
                "node_name": None if option_node[o] == NONE else names[option_node[o]],
                "probability": p,
            }
            for o, p, shown in zip(
                d.top[b, slot], rounded(d.top_probability[b, slot]), d.listed[b, slot], strict=True
            )
            if shown
        ]
        return {
            "replica": r,
            "option": option,
            "node": None if node == NONE else node,
            "node_name": None if node == NONE else names[node],
            "probability": rounded(d.probability[b, slot, option]),
            "candidates": candidates,
        }

    def edges(self, b: int, job: MvJob) -> list[dict[str, Any]]:
        """The ``MetaverseEdgePlacement`` documents of job ``b``'s DAG edges, in route-entry order."""
        d, order = self.route, job.dag.order
        src, dst, valid = job.workload.edges
        out = []
        for entry in np.flatnonzero(valid).tolist():
            pattern = int(d.action[b, entry])
            out.append(
                {
                    "source": int(order[src[entry]]),
                    "destination": int(order[dst[entry]]),
                    "pattern": pattern,
                    "split": rounded(PATTERNS[pattern]),
                    "probability": rounded(d.probability[b, entry, pattern]),
                    "candidates": [
                        {"pattern": int(p), "probability": q}
                        for p, q, shown in zip(
                            d.top[b, entry],
                            rounded(d.top_probability[b, entry]),
                            d.listed[b, entry],
                            strict=True,
                        )
                        if shown
                    ],
                }
            )
        return out

    def overcommitted(self, job: MvJob, node: np.ndarray) -> list[str]:
        """Names of the nodes whose reservations, with the DAG's placed replicas, exceed a capacity.
        Shapes: node (S,) the chosen node per slot, -1 for NONE."""
        placer, tpl = self.placer, job.workload.templates
        net, layout = placer.net, placer.layout
        placed = (node >= 0) & job.workload.slot_valid
        hosts, c, m = node[placed], layout.slot_class[placed], layout.slot_ms[placed]
        cpu = job.state.reserved_cpu + np.bincount(hosts, tpl.cpu[c, m], minlength=net.num_nodes)
        ram_gb = job.state.reserved_ram_gb + np.bincount(hosts, tpl.ram_gb[c, m], minlength=net.num_nodes)
        over = np.flatnonzero((cpu > net.vcpu) | (ram_gb > net.ram_gb))
        return [placer.node_names[n] for n in over.tolist()]
