"""Serving the metaverse-dag scenario: network state + one service DAG -> the observation of the DAG's
region agent -> its greedy placement (replicas per microservice) and routing (split pattern per DAG edge).

The observation is built by the scenario's own :class:`~edgeplace.envs.metaverse_dag.state_view.DagObserver`
(the env's builder) on the state as the env's first step of an episode would show it:

- the DAG is the episode's template of its class; the other classes have no microservice (their slots
  and route entries are padding: NONE alone, pattern 0 alone);
- the DAG's own placement is the env's reset placement (replica 0 of every microservice on the region's
  EC, the other replica slots NONE, every edge on pattern 0), and it adds to the node load columns on
  top of the state's reservations (other services, which the env never has: :class:`NodeBackground`);
- no step has run: last-step rho, sojourn, link load, region KPIs and r_g are 0, the step is 0 and no
  burst is on; the clock is the state's hour; no planner: z_plan 0, pi_LLM 0, static guidance (an
  LLM-MAPPO policy acts as with planner ``none``).

The restored :class:`~edgeplace.algos.module_policy.ModulePolicy` (the scenario spec's ``load_policy``)
acts greedily: the masked argmax of every place and route part, a GRU module from its initial state (a
fresh episode per request), one forward per module for a whole batch.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any, Self

import numpy as np

from edgeplace.algos.module_policy import ModulePolicy, stack
from edgeplace.envs.metaverse_dag import SCENARIO_ID, MetaverseDagConfig, MetaverseDagEnv
from edgeplace.envs.metaverse_dag.encode import LiveState
from edgeplace.envs.metaverse_dag.layout import NUM_PATTERNS
from edgeplace.envs.metaverse_dag.network import EdgeNetwork
from edgeplace.envs.metaverse_dag.observation import MvObsKey
from edgeplace.envs.metaverse_dag.state_view import DagWorkload, NodeBackground, PlannerInputs, RegionSignals
from edgeplace.serve.errors import ServeInputError
from edgeplace.serve.metaverse_dag_placements import Decisions, PlacedDags
from edgeplace.serve.metaverse_dag_requests import CheckedDag, check_dag, invalid
from edgeplace.serve.metaverse_dag_schemas import (
    MetaverseBatchPlacement,
    MetaverseDagRequest,
    MetaverseMicroservice,
    MetaverseNetworkState,
    MetaversePlaceBatchRequest,
    MetaversePlacement,
    MetaversePlaceRequest,
    ServiceClassName,
)
from edgeplace.serve.placer import ScenarioPlacer, ScenarioSchemas
from edgeplace.serve.schema_narrowing import SchemaComponents, narrow_index, narrow_lengths, schema_property
from edgeplace.serve.sources import PolicySource

#: The example request: an XR diamond (0 -> 1, 0 -> 2, 1 and 2 -> 3), cut to the class's layout.
EXAMPLE_PARENTS = ((), (0,), (0,), (1, 2))
EXAMPLE_DEADLINE_S = 15e-3


@dataclass(frozen=True)
class MvState:
    """A network state body checked against the topology. Shapes: reserved_cpu, reserved_ram_gb (N,);
    node_up (N,) bool; es_rate (n,) req/s; all read-only."""

    reserved_cpu: np.ndarray
    reserved_ram_gb: np.ndarray
    node_up: np.ndarray
    es_rate: np.ndarray
    hour: float


@dataclass(frozen=True)
class MvJob:
    """One checked DAG on its state, for the agent of ``region``; placing it leaves both unchanged."""

    state: MvState
    region: int
    dag: CheckedDag
    workload: DagWorkload
    observation: dict[str, Any]
    """The observation of the region's agent (:meth:`MetaverseDagPlacer.observe`)."""


def node_names(net: EdgeNetwork) -> list[str]:
    """``es_<i>``, ``ec_<k>`` and ``cloud``, in node order (ES ``0 .. n-1``, EC ``k`` at ``n + k``, the
    cloud last)."""
    return [
        *(f"es_{i}" for i in range(net.num_es)),
        *(f"ec_{k}" for k in range(net.num_regions)),
        "cloud",
    ]


class MetaverseDagPlacer(ScenarioPlacer[MvState, MvJob]):
    """Places service DAGs with one trained MAPPO / LLM-MAPPO policy on one metaverse edge network.

    Args:
        policy: the restored modules and their agent mapping.
        config: the env config the observations are built for (the checkpoint's; its planner is not run).
        top_k: candidates listed per decision part.

    Raises:
        ValueError: the policy lacks a region's agent or acts in other action spaces than ``config``'s env.
    """

    scenario = SCENARIO_ID
    schemas = ScenarioSchemas(
        MetaversePlaceRequest, MetaversePlacement, MetaversePlaceBatchRequest, MetaverseBatchPlacement
    )
    config_type = MetaverseDagConfig
    place_summary = (
        "Place one service DAG's microservice replicas and split its edges' traffic with the agent of "
        "its region, on a network state (reservations, failures, arrival rates, hour)."
    )
    place_batch_summary = (
        "Place each DAG independently on the same network state (no DAG sees another's replicas): one "
        "batched forward per module in all."
    )
    decisions_per_request = 1

    policy: ModulePolicy
    config: MetaverseDagConfig

    def __init__(self, policy: ModulePolicy, config: MetaverseDagConfig, top_k: int) -> None:
        super().__init__(policy, config, top_k)
        env = MetaverseDagEnv(dataclasses.replace(config, planner="none", planner_options=None))
        self.net, self.options, self.layout, self.observer = env.net, env.options, env.layout, env.observer
        self.agent_ids = tuple(env.possible_agents)
        self.base_rate = env.base_rate
        self.node_names = node_names(self.net)
        self.slot_of = self.layout.dense(np.arange(self.layout.num_slots), -1)  # (C, M, R) slot indices
        for agent in self.agent_ids:
            module_id = policy.agent_modules.get(agent)
            if module_id is None:
                raise ValueError(f"policy {policy.name!r} has no module for {agent} of {config.topology_uri}")
            if policy.modules[module_id].action_space != env.action_spaces[agent]:
                raise ValueError(
                    f"policy {policy.name!r}: {agent} acts in {policy.modules[module_id].action_space}, the "
                    f"env of {config.topology_uri} in {env.action_spaces[agent]}"
                )

    @classmethod
    def restore(cls, source: PolicySource) -> ModulePolicy:
        from edgeplace.scenarios import get_scenario  # the registry imports the placers lazily

        spec = get_scenario(SCENARIO_ID)
        return spec.policy_from_checkpoint(source.checkpoint, name=source.name, env_config=source.env_config)

    @classmethod
    def override_env_config(cls, policy: ModulePolicy) -> dict[str, Any]:
        """An override topology is padded to the modules' options per region (its regions may have at
        most that many ES minus 3: the EC, the cloud and NONE)."""
        module = next(iter(policy.modules.values()))
        return {"max_region_es": module.observation_space[MvObsKey.NODE_FEATS].shape[0] - 3}

    @property
    def num_nodes(self) -> int:
        """N: the edge servers, the edge controllers and the cloud."""
        return self.net.num_nodes

    @property
    def num_actions(self) -> int:
        """O: the options of one replica slot (a region's ES padded, its EC, the cloud, NONE); a route
        part has 7 split patterns."""
        return self.options.num_options

    @classmethod
    def narrow_schema(cls, components: SchemaComponents, placers: Mapping[str, Self]) -> None:
        values = list(placers.values())
        nodes = [placer.num_nodes for placer in values]
        narrow_lengths(
            components, MetaverseNetworkState, ("reserved_cpu", "reserved_ram_gb", "node_up"), nodes
        )
        narrow_lengths(components, MetaverseNetworkState, ("es_rate",), [p.net.num_es for p in values])
        narrow_index(components, MetaverseDagRequest, "region", [p.net.num_regions for p in values])
        narrow_index(components, MetaverseDagRequest, "origin_es", [p.net.num_es for p in values])
        most = max(max(placer.layout.max_ms) for placer in values)
        schema_property(components, MetaverseDagRequest, "microservices")["maxItems"] = most

    def example(self) -> MetaversePlaceRequest:
        """A body this placer accepts as is: an idle network at the diurnal peak (every ES at its base
        rate), an XR diamond DAG in region 0."""
        n = min(len(EXAMPLE_PARENTS), self.layout.max_ms[ServiceClassName.XR.index])
        parents = EXAMPLE_PARENTS[:n] if n == len(EXAMPLE_PARENTS) else [(), *((i - 1,) for i in range(1, n))]
        return MetaversePlaceRequest(
            state=MetaverseNetworkState(
                reserved_cpu=[0.0] * self.num_nodes,
                reserved_ram_gb=[0.0] * self.num_nodes,
                node_up=[True] * self.num_nodes,
                es_rate=[round(float(rate), 3) for rate in self.base_rate],
            ),
            request=MetaverseDagRequest(
                service_class=ServiceClassName.XR,
                microservices=[
                    MetaverseMicroservice(
                        cpu=1.0,
                        ram_gb=1.0,
                        stateful=i == n - 1,
                        parents=list(ps),
                        payload_fractions=[0.03] * len(ps),
                    )
                    for i, ps in enumerate(parents)
                ],
                deadline_s=EXAMPLE_DEADLINE_S,
                region=0,
            ),
            policy=self.policy.name,
        )

    # --- validation -------------------------------------------------------------------------------
    def check_state(self, state: MetaverseNetworkState) -> MvState:
        n = self.num_nodes
        return MvState(
            reserved_cpu=self.per_item(state.reserved_cpu, n, "state.reserved_cpu", "node"),
            reserved_ram_gb=self.per_item(state.reserved_ram_gb, n, "state.reserved_ram_gb", "node"),
            node_up=self.per_item(state.node_up, n, "state.node_up", "node", dtype=bool),
            es_rate=self.per_item(state.es_rate, self.net.num_es, "state.es_rate", "edge server"),
            hour=state.hour,
        )

    def request_job(self, state: MvState, request: MetaverseDagRequest, field: str) -> MvJob:
        """Check ``request`` (at body path ``field``) on ``state``; its job.

        Raises:
            ServeInputError: 422 naming the field for a region or origin out of range, both given and
                inconsistent, neither given, an origin that is down, or a DAG the layout cannot hold
                (:func:`check_dag`); 409 naming a microservice whose replica no up node of the region
                can hold.
        """
        region = self.region_of(state, request, field)
        dag = check_dag(request, self.layout, field)
        workload = DagWorkload.of(self.net, self.layout, dag.templates)
        job = MvJob(state, region, dag, workload, self.observe(state, region, workload))
        self.check_feasible(job, field)
        return job

    def region_of(self, state: MvState, request: MetaverseDagRequest, field: str) -> int:
        """The region whose agent places ``request``."""
        net = self.net
        if request.region is not None:
            self.check_index(request.region, net.num_regions, f"{field}.region", "region")
        if request.origin_es is None:
            if request.region is None:
                raise invalid(f"{field}.region", "give the region (or the origin_es) of the DAG")
            return request.region
        self.check_index(request.origin_es, net.num_es, f"{field}.origin_es", "edge server")
        if not state.node_up[request.origin_es]:
            raise invalid(
                f"{field}.origin_es",
                f"edge server {request.origin_es} is down (state.node_up[{request.origin_es}])",
            )
        region = int(net.region[request.origin_es])
        if request.region is not None and request.region != region:
            raise invalid(
                f"{field}.origin_es",
                f"edge server {request.origin_es} is in region {region}, not in region {request.region}",
            )
        return region

    def check_feasible(self, job: MvJob, field: str) -> None:
        """Raise a 409 naming the first microservice whose replica 0 has no allowed option."""
        place = np.stack(job.observation[MvObsKey.ACTION_MASK][: self.layout.num_slots])  # (S, O)
        heads = (self.layout.slot_rep == 0) & job.workload.slot_valid
        stuck = np.flatnonzero(heads & ~place.any(axis=1))
        if stuck.size:
            position = int(self.layout.slot_ms[stuck[0]])
            index = int(job.dag.order[position])
            raise ServeInputError(
                HTTPStatus.CONFLICT,
                f"{field}.microservices[{index}]",
                f"no up node of region {job.region} (its edge servers, controller or the cloud) has the "
                "capacity for one replica",
            )

    # --- observation ------------------------------------------------------------------------------
    def live(self, state: MvState, region: int, workload: DagWorkload) -> LiveState:
        """The env's reset placement of the DAG in ``region`` (no other region places it) on ``state``,
        before any step."""
        opts, layout, k = self.options, self.layout, self.net.num_regions
        choice = np.full((k, layout.num_slots), opts.none_option, np.int64)
        choice[region] = np.where(
            (layout.slot_rep == 0) & workload.slot_valid, opts.ec_option, opts.none_option
        )
        zeros = np.zeros((k, layout.num_slots))
        return LiveState(
            slot_node=opts.nodes(choice),
            choice=choice,
            pattern=np.zeros((k, layout.num_edges), np.int64),
            node_up=state.node_up,
            es_rate=state.es_rate,
            slot_rho=zeros,
            slot_sojourn_s=zeros,
            link_rho=np.zeros_like(self.net.slice_bw_mbps),
        )

    def observe(self, state: MvState, region: int, workload: DagWorkload) -> dict[str, Any]:
        """The observation of ``region``'s agent of the DAG ``workload`` on ``state``."""
        layout, k = self.layout, self.net.num_regions
        (observation,), _ = self.observer.observe(
            workload,
            self.live(state, region, workload),
            RegionSignals.first_step(k, state.hour),
            PlannerInputs.none(k, layout.num_slots, self.options.num_options),
            agents=[region],
            background=NodeBackground(state.reserved_cpu, state.reserved_ram_gb),
        )
        return observation

    # --- placement --------------------------------------------------------------------------------
    def place(self, jobs: Sequence[MvJob]) -> list[bytes]:
        return self.placements(jobs).json_documents()

    def batch_json(self, body: MetaversePlaceBatchRequest, jobs: Sequence[MvJob]) -> bytes:
        return self.placements(jobs).batch_json()

    def logits(self, jobs: Sequence[MvJob]) -> np.ndarray:
        """Masked logits of every job's agent, one forward per module (stateful modules from their initial
        state). Shapes: -> (B, S * O + E * 7)."""
        groups: dict[str, list[int]] = {}
        for row, job in enumerate(jobs):
            groups.setdefault(self.policy.agent_modules[self.agent_ids[job.region]], []).append(row)
        out: np.ndarray | None = None
        for rows in groups.values():
            agent = self.agent_ids[jobs[rows[0]].region]
            logits = self.policy.batch_logits(agent, stack([jobs[r].observation for r in rows]))
            if out is None:
                out = np.empty((len(jobs), logits.shape[1]), logits.dtype)
            out[rows] = logits
        assert out is not None
        return out

    def placements(self, jobs: Sequence[MvJob]) -> PlacedDags:
        """Every job's greedy action and top-k candidates."""
        s, o, e = self.layout.num_slots, self.options.num_options, self.layout.num_edges
        logits = self.logits(jobs)  # (B, S * O + E * P)
        masks = [job.observation[MvObsKey.ACTION_MASK] for job in jobs]
        place_allowed = np.stack([np.stack(mask[:s]) for mask in masks]).astype(bool)  # (B, S, O)
        route_allowed = np.stack([np.stack(mask[s:]) for mask in masks]).astype(bool)  # (B, E, P)
        place = Decisions.of(logits[:, : s * o].reshape(len(jobs), s, o), place_allowed, self.top_k)
        route = Decisions.of(
            logits[:, s * o :].reshape(len(jobs), e, NUM_PATTERNS), route_allowed, self.top_k
        )
        return PlacedDags(self, jobs, place, route)
