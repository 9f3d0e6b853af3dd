"""Network state + DAG templates -> every region agent's observation (papers/llm-mappo.md, section c):
THE builder the env (:meth:`MetaverseDagEnv._observe`) and the Serve placer
(:mod:`edgeplace.serve.metaverse_dag_placer`) both call, from explicit inputs only.

The inputs, each a small frozen dataclass:

- :class:`DagWorkload`: the DAG templates of the three classes and what follows from them on the network
  (real slots, route entries, which nodes hold each slot's replica);
- :class:`~.encode.LiveState`: the placement (choice, patterns), node ``up`` flags, ES arrival rates, the
  last step's rho / sojourn / link rho;
- :class:`RegionSignals`: the last step's KPIs, the burst flags and the clock;
- :class:`PlannerInputs`: the planner's guidance, R-hat, z_plan and pi_LLM (all static / zero without a
  planner, as Serve has none);
- optionally a :class:`NodeBackground`: resources held on each node by services outside the slots
  (Serve's network state; the env has none).

The agents' ``neighbour_regions`` are the region vectors of the previous observation (the env keeps them;
Serve, which observes a first step, has none: zeros).

Building is split where the env's planner needs the features before the region vectors exist:
:meth:`DagObserver.features`, then :meth:`DagObserver.region_vectors`, then
:meth:`DagObserver.observations`; :meth:`DagObserver.observe` chains the three.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from edgeplace.envs.base import Observation
from edgeplace.envs.metaverse_dag.config import K_MAX
from edgeplace.envs.metaverse_dag.encode import (
    RATE_REF,
    LiveState,
    edge_features,
    edge_slot_index,
    link_features,
    node_features,
    slot_features,
)
from edgeplace.envs.metaverse_dag.guidance import Guidance
from edgeplace.envs.metaverse_dag.layout import SlotLayout
from edgeplace.envs.metaverse_dag.network import EdgeNetwork
from edgeplace.envs.metaverse_dag.observation import (
    GLOBAL_DIM,
    NEIGHBOURS,
    PLAN_DIM,
    REGION_DIM,
    MvObsKey,
    NodeCol,
    action_masks,
    place_allowed,
    route_allowed,
)
from edgeplace.envs.metaverse_dag.options import RegionOptions
from edgeplace.workloads.metaverse_dag import DagTemplates

#: Columns of the region vector's KPI block (latency / l_max, violations, success, LB, R_tot / R_max).
KPI_DIM = 5


@dataclass(frozen=True)
class DagWorkload:
    """The DAG templates of an episode (or of one served request) laid out on the slots.

    Shapes (S slots, E route entries, N nodes): slot_valid (S,) bool; edges (src, dst, valid), each (E,);
    fits (N, S) bool: the node's capacity holds one replica of the slot's microservice.
    """

    templates: DagTemplates
    slot_valid: np.ndarray
    edges: tuple[np.ndarray, np.ndarray, np.ndarray]
    fits: np.ndarray

    @classmethod
    def of(cls, net: EdgeNetwork, layout: SlotLayout, templates: DagTemplates) -> DagWorkload:
        """The workload of ``templates`` on ``net``'s nodes."""
        c, m = layout.slot_class, layout.slot_ms
        fits = (net.vcpu[:, None] >= templates.cpu[c, m][None]) & (
            net.ram_gb[:, None] >= templates.ram_gb[c, m][None]
        )
        return cls(templates, layout.slot_valid(templates), layout.edges(templates), fits)


@dataclass(frozen=True)
class NodeBackground:
    """Resources held on every node by services outside the observed slots. Shapes: cpu, ram_gb (N,),
    vCPU and GB."""

    cpu: np.ndarray
    ram_gb: np.ndarray


@dataclass(frozen=True)
class RegionSignals:
    """What the region vectors read besides the live state.

    Shapes (K regions): kpis (K, 5) the last step's region KPIs (:data:`KPI_DIM` columns, zeros before
    the first step); global_kpis (6,); burst (K,) bool, whether the region's burst is ON.
    ``r_g``: the last step's global reward term; ``hour``: the clock, h in [0, 24); ``progress``: step
    index / horizon.
    """

    kpis: np.ndarray
    global_kpis: np.ndarray
    r_g: float
    burst: np.ndarray
    hour: float
    progress: float

    @classmethod
    def first_step(cls, regions: int, hour: float, burst: np.ndarray | None = None) -> RegionSignals:
        """The signals before any step has run (no KPIs yet), at ``hour``; bursts off unless given."""
        return cls(
            kpis=np.zeros((regions, KPI_DIM)),
            global_kpis=np.zeros(GLOBAL_DIM),
            r_g=0.0,
            burst=np.zeros(regions, bool) if burst is None else burst,
            hour=hour,
            progress=0.0,
        )


@dataclass(frozen=True)
class PlannerInputs:
    """The soft planner's part of the observation. Shapes (K regions, S slots, O options): guidance's
    arrays (K, ...); r_hat (K,); z_plan (K, 64) float32; prior (K, S, O) float32."""

    guidance: Guidance
    r_hat: np.ndarray
    z_plan: np.ndarray
    prior: np.ndarray

    @classmethod
    def none(cls, regions: int, num_slots: int, num_options: int) -> PlannerInputs:
        """Without a planner: static guidance, R-hat 0, z_plan 0, pi_LLM 0."""
        return cls(
            Guidance.static(regions),
            np.zeros(regions),
            np.zeros((regions, PLAN_DIM), np.float32),
            np.zeros((regions, num_slots, num_options), np.float32),
        )


@dataclass(frozen=True)
class DagFeatures:
    """The feature arrays and masks of every agent (see :mod:`.observation` for the columns).

    Shapes: nodes (K, O, 14), links (K, L, 6), slots (K, S, 12), edges (K, E, 5) float32;
    edge_index (2, E) int64; place (K, S, O) bool; route (K, E, 7) bool.
    """

    nodes: np.ndarray
    links: np.ndarray
    slots: np.ndarray
    edges: np.ndarray
    edge_index: np.ndarray
    place: np.ndarray
    route: np.ndarray


def nearest_regions(net: EdgeNetwork, count: int = NEIGHBOURS) -> np.ndarray:
    """The ``count`` other regions whose ECs are nearest each region's EC by least delay (ties: lower
    index first); -1 where there are fewer other regions. Shapes: -> (K, count) int64."""
    k = net.num_regions
    ecs = np.array([net.ec(r) for r in range(k)], np.int64)
    delay = net.delay_matrix_s[np.ix_(ecs, ecs)].copy()
    np.fill_diagonal(delay, np.inf)
    order = np.argsort(delay, axis=1, kind="stable")[:, : min(count, k - 1)]
    out = np.full((k, count), -1, np.int64)
    out[:, : order.shape[1]] = order
    return out


def slot_reservations(
    net: EdgeNetwork, layout: SlotLayout, templates: DagTemplates, slot_node: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """vCPU and RAM that the placed slots reserve on every node, summed as :func:`~.encode.node_features`
    sums them. Shapes: slot_node (K, S) -> cpu, ram_gb (N,)."""
    placed = slot_node >= 0
    hosts, k_idx = slot_node[placed], np.nonzero(placed)[1]
    c, m = layout.slot_class, layout.slot_ms
    cpu = np.bincount(hosts, templates.cpu[c, m][k_idx], minlength=net.num_nodes)
    ram_gb = np.bincount(hosts, templates.ram_gb[c, m][k_idx], minlength=net.num_nodes)
    return cpu, ram_gb


class DagObserver:
    """Builds the observations of a network's region agents.

    Args:
        net: the static network.
        options: each region's placement options and links.
        layout: the slot and route-entry layout.
    """

    def __init__(self, net: EdgeNetwork, options: RegionOptions, layout: SlotLayout) -> None:
        self.net, self.options, self.layout = net, options, layout
        self.neighbours = nearest_regions(net)  # (K, NEIGHBOURS), -1 padding

    @property
    def num_regions(self) -> int:
        """K."""
        return self.net.num_regions

    def features(
        self, workload: DagWorkload, live: LiveState, background: NodeBackground | None = None
    ) -> DagFeatures:
        """Every agent's feature arrays and masks; with ``background``, the node load columns (free cpu,
        free RAM, cpu util) count it on top of the placed slots."""
        net, opts, layout, tpl = self.net, self.options, self.layout, workload.templates
        nodes = node_features(net, opts, layout, tpl, live)
        if background is not None:
            self._add_background(nodes, workload, live, background)
        place = place_allowed(
            opts.option_node,
            live.node_up,
            workload.fits,
            workload.slot_valid,
            layout.slot_rep,
            live.replica_limit,
        )
        return DagFeatures(
            nodes=nodes,
            links=link_features(net, opts, live),
            slots=slot_features(layout, opts, tpl, live, workload.slot_valid),
            edges=edge_features(layout, tpl, workload.edges, live.pattern),
            edge_index=edge_slot_index(layout, workload.edges),
            place=place,
            route=route_allowed(net.num_regions, workload.edges[2]),
        )

    def _add_background(
        self, nodes: np.ndarray, workload: DagWorkload, live: LiveState, background: NodeBackground
    ) -> None:
        """Rewrite the load columns of ``nodes`` (K, O, 14) in place with ``background`` added."""
        net, option_node = self.net, self.options.option_node
        cpu, ram_gb = slot_reservations(net, self.layout, workload.templates, live.slot_node)
        cpu_util = (cpu + background.cpu) / net.vcpu
        ram_util = (ram_gb + background.ram_gb) / net.ram_gb
        real = option_node >= 0  # (K, O)
        hosts = np.maximum(option_node, 0)
        for column, values in (
            (NodeCol.FREE_CPU, 1 - cpu_util),
            (NodeCol.FREE_RAM, 1 - ram_util),
            (NodeCol.CPU_UTIL, cpu_util),
        ):
            nodes[..., column] = np.where(real, values[hosts], 0.0)

    def region_vectors(
        self, live: LiveState, signals: RegionSignals, planner: PlannerInputs
    ) -> tuple[np.ndarray, np.ndarray]:
        """Section c's ``region`` vector of every agent and the global KPIs. Shapes: -> (K, 19), (6,)."""
        net, k = self.net, self.net.num_regions
        es_region = net.region[: net.num_es]
        count = np.bincount(es_region, minlength=k)
        rate = np.bincount(es_region, live.es_rate, minlength=k) / (RATE_REF * np.maximum(count, 1))
        outage = np.bincount(es_region, ~live.node_up[: net.num_es], minlength=k) > 0
        hour = signals.hour * 2 * np.pi / 24
        clock = np.array([signals.r_g, np.sin(hour), np.cos(hour), signals.progress])
        guidance = planner.guidance
        vectors = np.column_stack(
            [
                signals.kpis,
                rate,
                signals.burst,
                outage,
                np.broadcast_to(clock, (k, clock.size)),
                guidance.kappa,
                guidance.phi,
                guidance.omega,
                planner.r_hat,
            ]
        )
        return vectors, signals.global_kpis

    def observations(
        self,
        features: DagFeatures,
        regions: np.ndarray,
        global_kpis: np.ndarray,
        planner: PlannerInputs,
        agents: Sequence[int] | None = None,
        previous_regions: np.ndarray | None = None,
    ) -> list[Observation]:
        """The observations of ``agents`` (region indices; None: all K, in order); ``previous_regions``
        (K, 19), the region vectors of the previous observation, fill ``neighbour_regions`` (None:
        zeros, as before the first step)."""
        k = self.num_regions
        neighbour_regions = self.neighbour_regions(previous_regions)
        all_regions = np.zeros((K_MAX, REGION_DIM))
        all_regions[:k] = regions
        shared_state = np.concatenate([all_regions.ravel(), global_kpis])
        masks = action_masks(features.place, features.route)
        observations = []
        for index in range(k) if agents is None else agents:
            observations.append(
                {
                    MvObsKey.NODE_FEATS: features.nodes[index],
                    MvObsKey.LINK_FEATS: features.links[index],
                    MvObsKey.LINK_INDEX: self.options.link_index[index],
                    MvObsKey.SLOT_FEATS: features.slots[index],
                    MvObsKey.EDGE_FEATS: features.edges[index],
                    MvObsKey.EDGE_INDEX: features.edge_index,
                    MvObsKey.REGION: regions[index].astype(np.float32),
                    MvObsKey.NEIGHBOUR_REGIONS: neighbour_regions[index],
                    MvObsKey.PLAN_Z: planner.z_plan[index],
                    MvObsKey.PLAN_PRIOR: planner.prior[index],
                    MvObsKey.ACTION_MASK: masks[index],
                    MvObsKey.STATE: np.concatenate([shared_state, np.eye(K_MAX)[index]]).astype(np.float32),
                }
            )
        return observations

    def neighbour_regions(self, previous_regions: np.ndarray | None) -> np.ndarray:
        """Each agent's ``neighbour_regions``: the rows of ``previous_regions`` of its nearest other ECs,
        zeros for missing neighbours (and everywhere when None). Shapes: (K, 19) -> (K, 2, 19) float32."""
        out = np.zeros((*self.neighbours.shape, REGION_DIM), np.float32)
        if previous_regions is not None:
            known = self.neighbours >= 0
            out[known] = previous_regions[self.neighbours[known]]
        return out

    def observe(
        self,
        workload: DagWorkload,
        live: LiveState,
        signals: RegionSignals,
        planner: PlannerInputs,
        agents: Sequence[int] | None = None,
        background: NodeBackground | None = None,
        previous_regions: np.ndarray | None = None,
    ) -> tuple[list[Observation], DagFeatures]:
        """:meth:`features`, :meth:`region_vectors` and :meth:`observations` in one call; the observations
        of ``agents`` (None: all K) and the features they were cut from."""
        features = self.features(workload, live, background)
        regions, global_kpis = self.region_vectors(live, signals, planner)
        observations = self.observations(features, regions, global_kpis, planner, agents, previous_regions)
        return observations, features
