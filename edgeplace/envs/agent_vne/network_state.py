"""The live state of the agent-vne substrate (papers/agentvne.md, section b).

Live workflows hold node resources and link bandwidth through a :class:`edgeplace.topology.Ledger`
(bandwidth b_f of every flow is reserved on each link of its fixed route, so Eq.13 is the Ledger's
capacity check). Per link the state counts the flows F_e (virtual links routed over e, Eq.12) and the
workflows n_e(t) with at least one link over e (Eq.26). A departure gives back exactly its
allocations. A state may also hold background load (:meth:`NetworkState.holding`): resources and counts
of live workflows it does not track one by one, as a Serve request body gives them.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass

import numpy as np

from edgeplace.envs.agent_vne.feasibility import check_mapping, link_load, route_edges
from edgeplace.envs.agent_vne.request import VirtualRequest
from edgeplace.envs.agent_vne.static import MBPS_PER_MB_S, NO_EDGE, StaticNetwork
from edgeplace.topology import Allocation, InsufficientCapacityError, Ledger


@dataclass(frozen=True, eq=False)
class LiveWorkflow:
    """An embedded workflow.

    Shapes (V agents, L links, D route depth, K links used): hosts (V,); route (L, D) link ids, -1
    padded; edge_ids (K,) unique links used; flows (K,) its virtual links on each of them.
    """

    key: int
    request: VirtualRequest
    hosts: np.ndarray
    route: np.ndarray
    edge_ids: np.ndarray
    flows: np.ndarray
    departure: int
    allocations: tuple[Allocation, ...]

    @property
    def link_hops(self) -> np.ndarray:
        """Route length of each virtual link. Shapes: (L,) int64."""
        return (self.route != NO_EDGE).sum(axis=1)


LEDGER_REFUSED = "the ledger refused an allocation"
"""Why a mapping that passed :func:`check_mapping` was not committed."""


class NetworkState:
    """Live workflows on one static network; departures are scheduled by step.

    Shapes (N nodes, E links): node_free (N, 3); link_free_mbps (E,); flow_count, workflow_count (E,).
    ``background_workflows`` counts the live workflows held only as background load (Eq.26's |W|).
    """

    def __init__(self, static: StaticNetwork) -> None:
        self.static = static
        self.ledger = Ledger(static.substrate)
        self.flow_count = np.zeros(static.num_edges, dtype=np.int64)
        self.workflow_count = np.zeros(static.num_edges, dtype=np.int64)
        self.live: dict[int, LiveWorkflow] = {}
        self.background_workflows = 0
        self._schedule: list[tuple[int, int]] = []
        self._hop_sum = 0

    @classmethod
    def holding(
        cls,
        static: StaticNetwork,
        node_free: np.ndarray,
        link_free_mbps: np.ndarray,
        link_flows: np.ndarray,
        link_workflows: np.ndarray,
        live_workflows: int,
    ) -> NetworkState:
        """A state whose ``live_workflows`` live workflows are background load: one allocation per busy
        node and one for the busy links, then the flow and workflow counts. For states the env produced,
        the free amounts come back bit for bit (capacity - (capacity - free) is exact there).

        Shapes: node_free (N, 3) within capacity; link_free_mbps (E,) within bandwidth, Mbit/s;
        link_flows, link_workflows (E,) int.
        """
        state = cls(static)
        node_used = static.capacity - node_free
        for node in np.flatnonzero((node_used > 0).any(axis=1)):
            state.ledger.allocate_node(int(node), node_used[node])
        link_used_mbps = static.bandwidth_mbps - link_free_mbps
        busy = np.flatnonzero(link_used_mbps > 0)
        if busy.size:
            state.ledger.allocate_links(busy, link_used_mbps[busy] / MBPS_PER_MB_S)
        state.flow_count[:] = link_flows
        state.workflow_count[:] = link_workflows
        state.background_workflows = live_workflows
        return state

    def reset(self) -> None:
        """No live workflow: everything free."""
        self.ledger.reset()
        self.flow_count[:] = 0
        self.workflow_count[:] = 0
        self.live.clear()
        self.background_workflows = 0
        self._schedule.clear()
        self._hop_sum = 0

    @property
    def node_free(self) -> np.ndarray:
        """Free node resources, read-only. Shapes: (N, 3)."""
        return self.ledger.node_free

    @property
    def link_free_mbps(self) -> np.ndarray:
        """Free link bandwidth B_e - sum of b_f, Mbit/s. Shapes: (E,)."""
        return self.ledger.link_free * MBPS_PER_MB_S

    def commit(
        self, key: int, request: VirtualRequest, hosts: np.ndarray, departure: int
    ) -> LiveWorkflow | None:
        """Embed ``request`` on ``hosts`` (checked by the caller) until step ``departure``.

        Returns None and changes nothing if the Ledger refuses an allocation.
        """
        if key in self.live:
            raise ValueError(f"workflow key {key} is already live")
        hosts = np.asarray(hosts, dtype=np.int64)
        route = route_edges(self.static, hosts[request.links[:, 0]], hosts[request.links[:, 1]])
        load_mbps = link_load(self.static, route, request.bw_mbps)
        used = np.flatnonzero(load_mbps > 0)
        demand = np.zeros((self.static.num_nodes, 3))
        np.add.at(demand, hosts, request.demand)
        nodes = np.flatnonzero(demand.any(axis=1))
        snapshot = self.ledger.snapshot()
        try:
            allocations = [self.ledger.allocate_node(int(n), demand[n]) for n in nodes]
            if used.size:
                allocations.append(self.ledger.allocate_links(used, load_mbps[used] / MBPS_PER_MB_S))
        except InsufficientCapacityError:
            self.ledger.restore(snapshot)
            return None
        valid = route != NO_EDGE
        flows = np.bincount(route[valid], minlength=self.static.num_edges)
        edge_ids = np.flatnonzero(flows)
        workflow = LiveWorkflow(
            key, request, hosts, route, edge_ids, flows[edge_ids], departure, tuple(allocations)
        )
        self.flow_count[edge_ids] += workflow.flows
        self.workflow_count[edge_ids] += 1
        self._hop_sum += int(valid.sum())
        self.live[key] = workflow
        heapq.heappush(self._schedule, (departure, key))
        return workflow

    def embed(
        self, key: int, request: VirtualRequest, hosts: np.ndarray, departure: int
    ) -> tuple[LiveWorkflow | None, str]:
        """Re-validate the complete mapping ``hosts`` (V,) with :func:`check_mapping` and commit it:
        the embedding step of the env and of Serve. Returns the workflow and "", or None and why the
        mapping was rejected (the state is then unchanged)."""
        reason = check_mapping(self.static, request, hosts, self.node_free, self.link_free_mbps)
        if reason is not None:
            return None, reason
        workflow = self.commit(key, request, hosts, departure)
        return workflow, "" if workflow is not None else LEDGER_REFUSED

    def release(self, key: int) -> LiveWorkflow:
        """Remove a live workflow and give back exactly what it holds."""
        workflow = self.live.pop(key)
        for allocation in workflow.allocations:
            self.ledger.release(allocation)
        self.flow_count[workflow.edge_ids] -= workflow.flows
        self.workflow_count[workflow.edge_ids] -= 1
        self._hop_sum -= int(workflow.link_hops.sum())
        return workflow

    def depart_until(self, time: int) -> int:
        """Release every workflow whose departure step is <= ``time``; returns how many left."""
        count = 0
        while self._schedule and self._schedule[0][0] <= time:
            _, key = heapq.heappop(self._schedule)
            if key in self.live:
                self.release(key)
                count += 1
        return count

    def weighted_hops(self) -> float:
        """Eq.26 H_t = (1/|W|) sum_w sum_(u,v) sum_(e in P(u,v)) n_e = sum_e n_e |F_e| / |W| (0 if none),
        over the tracked and the background workflows."""
        live = len(self.live) + self.background_workflows
        return float(self.workflow_count @ self.flow_count) / live if live else 0.0

    def workflow_weighted_hops(self, workflow: LiveWorkflow) -> float:
        """``workflow``'s term of Eq.26's sum: each of its route links e counted n_e times per flow."""
        return float(self.workflow_count[workflow.edge_ids] @ workflow.flows)

    def equal_share_mbps(self) -> np.ndarray:
        """Eq.12 b_hat_e = B_e / |F_e| (inf on links without flows). Shapes: (E,)."""
        with np.errstate(divide="ignore"):
            return self.static.bandwidth_mbps / self.flow_count

    def latency_s(self, workflow: LiveWorkflow) -> float:
        """Eq.5-6 with T_proc = 0: sum over links and route links of 8 D_uv / b_hat_e + tau_e, seconds."""
        valid = workflow.route != NO_EDGE
        edges = workflow.route[valid]
        data_mb = np.broadcast_to(workflow.request.data_mb[:, None], workflow.route.shape)[valid]
        share = self.equal_share_mbps()[edges]
        return float((MBPS_PER_MB_S * data_mb / share + self.static.substrate.delay_s[edges]).sum())

    def objective(self) -> float:
        """Eq.14 with omega1 = omega2 = 1: live hop sum + sum over nodes and resources of utilisation^2."""
        return float(self._hop_sum + (self.ledger.utilisation() ** 2).sum())
