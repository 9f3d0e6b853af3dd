"""Serving the agent-vne scenario: the substrate's live state + agentic workflows -> the env's
observations -> AgentVNE's similarity network (one batched forward) -> the env's greedy-BFS decoding ->
the env's commit and measures.

Every step is the scenario's own code, as in the env under ``edgeplace evaluate``: the raw workflow is
parsed and decoupled by the env's :class:`InstanceBuilder` on the given free resources (the rule-based
semantic layer: anchors, pins, bias), the observation is the env's :class:`VNEObserver`'s on a
:class:`NetworkState` holding the body's load, the priority lists sort the restored policy's masked
log pi and its decoder maps them (:class:`AgentVNEPolicy`, as in evaluation); the mapping is
re-validated and committed by the env's own embedding step (:meth:`NetworkState.embed`), which gives
the routes, Eq.26 hops and the Eq.5-6 latency.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from http import HTTPStatus
from typing import Self

import numpy as np
import pydantic_core

from edgeplace.algos.agentvne.policy import AgentVNEPolicy
from edgeplace.envs.agent_vne import SCENARIO_ID, AgentVNEConfig, AgentVNEEnv, priority_ranks
from edgeplace.envs.agent_vne.instance import EmbeddingInstance
from edgeplace.envs.agent_vne.network_state import NetworkState
from edgeplace.envs.agent_vne.static import StaticNetwork
from edgeplace.models.item_scoring_head import MASKED_LOGIT
from edgeplace.serve.agent_vne_embeddings import Embedding, batch_document
from edgeplace.serve.agent_vne_inputs import SubstrateLoad, check_within, workflow_body, workflow_request
from edgeplace.serve.agent_vne_schemas import (
    AgentVNEBatchMode,
    AgentVNEBatchPlacement,
    AgentVNELink,
    AgentVNENetworkState,
    AgentVNEPlaceBatchRequest,
    AgentVNEPlacement,
    AgentVNEPlaceRequest,
    AgentVNEWorkflow,
)
from edgeplace.serve.errors import ServeInputError
from edgeplace.serve.placer import ScenarioPlacer, ScenarioSchemas
from edgeplace.serve.schema_narrowing import SchemaComponents, narrow_index, narrow_lengths, schema_property
from edgeplace.serve.sources import PolicySource
from edgeplace.workloads.agentic_workflows import WORKFLOW_TEMPLATES, WorkflowType, build_request

#: Templates tried, in order, for the OpenAPI example (the first shows a TEE anchor).
EXAMPLE_WORKFLOWS = (WorkflowType.TEXT_SEARCH_PAY, WorkflowType.TEXT_SEARCH, WorkflowType.IMAGE_PROC)


@dataclass(frozen=True, eq=False)
class VNEJob:
    """One checked workflow on its network state; placing it leaves both unchanged.

    Attributes:
        load: the network state (may be shared by the jobs of one batch).
        instance: the workflow parsed and decoupled on ``load``'s free resources.
        field: body path of the workflow (``request``, ``requests[2]``), for errors.
    """

    load: SubstrateLoad
    instance: EmbeddingInstance
    field: str


class VNEPlacer(ScenarioPlacer[SubstrateLoad, VNEJob]):
    """Embeds agent-vne workflows with one trained AgentVNE policy on one topology.

    Args:
        policy: the restored policy (similarity network and decoder).
        config: the env config the observations are built for (the checkpoint's, maybe with an
            override topology of the same size: the NTN has one slice per node).
        top_k: candidate nodes listed per agent.
    """

    scenario = SCENARIO_ID
    schemas = ScenarioSchemas(
        AgentVNEPlaceRequest, AgentVNEPlacement, AgentVNEPlaceBatchRequest, AgentVNEBatchPlacement
    )
    config_type = AgentVNEConfig
    place_summary = (
        "Embed one agentic workflow on the given substrate state: the semantic layer's anchors, a host "
        "per agent, a route per virtual link, and the env's hops and latency after the commit. 409 when "
        "the policy finds no feasible embedding."
    )
    place_batch_summary = (
        "Embed many workflows on one substrate state. mode=sequential (default): in request order, each "
        "on the resources the accepted ones before it leave; one forward pass per workflow, since each "
        "observation depends on the commits before it. mode=independent: each alone on the given state; "
        "one forward pass for the whole batch. A workflow without a feasible embedding is reported as "
        "rejected, not as an error."
    )
    decisions_per_request = None  # 5-7 agents (plus anchors) per workflow

    policy: AgentVNEPolicy
    config: AgentVNEConfig

    def __init__(self, policy: AgentVNEPolicy, config: AgentVNEConfig, top_k: int) -> None:
        env = AgentVNEEnv(config)
        if _network_key(policy.static) != _network_key(env.static):
            raise ValueError(
                f"agent-vne placer: the policy acts on {policy.static.substrate.name}, the env config "
                f"gives {env.static.substrate.name}"
            )
        super().__init__(policy, config, top_k)
        self.static, self.observer, self.builder = env.static, env.observer, env.builder

    @classmethod
    def restore(cls, source: PolicySource) -> AgentVNEPolicy:
        env_config = AgentVNEConfig.from_env_config(source.env_config).to_env_config()
        return AgentVNEPolicy.from_checkpoint(source.checkpoint, env_config, name=source.name)

    @property
    def num_nodes(self) -> int:
        return self.static.num_nodes

    @property
    def num_actions(self) -> int:
        """N: the nodes an agent can be hosted on."""
        return self.static.num_nodes

    @classmethod
    def narrow_schema(cls, components: SchemaComponents, placers: Mapping[str, Self]) -> None:
        nodes = [placer.static.num_nodes for placer in placers.values()]
        links = [placer.static.num_edges for placer in placers.values()]
        narrow_lengths(components, AgentVNENetworkState, ("node_free",), nodes)
        narrow_lengths(
            components, AgentVNENetworkState, ("link_free_mbps", "link_flows", "link_workflows"), links
        )
        agents = [placer.config.max_virtual_nodes for placer in placers.values()]
        schema_property(components, AgentVNEWorkflow, "agents")["maxItems"] = max(agents)
        for end in ("src", "dst"):
            narrow_index(components, AgentVNELink, end, agents)
        source = schema_property(components, AgentVNEWorkflow, "data_source_node")
        source["anyOf"][0]["maximum"] = max(nodes) - 1

    def example(self) -> AgentVNEPlaceRequest:
        """An idle substrate (every capacity and bandwidth free) and the first example workflow whose
        affinity the topology can serve."""
        state = AgentVNENetworkState(
            node_free=self.static.capacity.tolist(),
            link_free_mbps=self.static.bandwidth_mbps.tolist(),
            link_flows=[0] * self.static.num_edges,
            link_workflows=[0] * self.static.num_edges,
            live_workflows=0,
        )
        load = self.check_state(state)
        for workflow_type in EXAMPLE_WORKFLOWS:
            workflow = workflow_body(build_request(WORKFLOW_TEMPLATES[workflow_type], "example"))
            try:
                self.request_job(load, workflow, "request")
            except ServeInputError:
                continue
            return AgentVNEPlaceRequest(state=state, request=workflow, policy=self.policy.name)
        raise ValueError(f"agent-vne placer: no example workflow fits {self.topology}")

    def check_state(self, state: AgentVNENetworkState) -> SubstrateLoad:
        """The load of ``state`` on the topology.

        Raises:
            ServeInputError: 422 for a wrong array length, a free amount above its capacity, or
                workflow counts above the flow counts or ``live_workflows``.
        """
        static = self.static
        node_free = self.per_item(state.node_free, static.num_nodes, "state.node_free", "node")
        check_within(node_free, static.capacity, "state.node_free", "the node's capacity")
        link_free = self.per_item(state.link_free_mbps, static.num_edges, "state.link_free_mbps", "link")
        check_within(
            link_free, static.bandwidth_mbps, "state.link_free_mbps", "the link's bandwidth (Mbit/s)"
        )
        flows = self.per_item(state.link_flows, static.num_edges, "state.link_flows", "link", np.int64)
        workflows = self.per_item(
            state.link_workflows, static.num_edges, "state.link_workflows", "link", np.int64
        )
        check_within(workflows, flows, "state.link_workflows", "link_flows (each workflow has a flow there)")
        live = np.full_like(workflows, state.live_workflows)
        check_within(workflows, live, "state.link_workflows", "live_workflows")
        return SubstrateLoad(node_free, link_free, flows, workflows, state.live_workflows)

    def request_job(self, state: SubstrateLoad, request: AgentVNEWorkflow, field: str) -> VNEJob:
        """Check the workflow ``request`` (at body path ``field``) against the topology, parse and
        decouple it.

        Raises:
            ServeInputError: 422 for bad links or node indices, or more agents plus anchors than the
                policy embeds; 409 for an agent whose attributes no node holds (it cannot be embedded).
        """
        raw = workflow_request(request, field)
        if raw.data_source_node is not None:
            self.check_index(raw.data_source_node, self.num_nodes, f"{field}.data_source_node", "node")
        instance = self.builder.build(raw, state.node_free)
        for constraint in instance.constraints.unsatisfiable:
            raise ServeInputError(
                HTTPStatus.CONFLICT,
                f"{field}.agents[{constraint.agent_id}]",
                f"needs {list(constraint.required_attributes)} ({constraint.reason}), which no node of "
                f"{self.topology} holds: the workflow cannot be embedded",
            )
        assert instance.request is not None
        limit = self.config.max_virtual_nodes
        if instance.request.num_agents > limit:
            anchors = instance.request.num_agents - raw.num_agents
            raise ServeInputError(
                HTTPStatus.UNPROCESSABLE_ENTITY,
                f"{field}.agents",
                f"{raw.num_agents} agents plus {anchors} anchors exceed the policy's {limit} virtual nodes",
            )
        return VNEJob(state, instance, field)

    def place(self, jobs: Sequence[VNEJob]) -> list[bytes | ServeInputError]:
        """Each job on a fresh state of its own: one forward pass for all; a job without a feasible
        embedding gets a 409 naming its request."""
        states = [job.load.network_state(self.static) for job in jobs]
        embeddings = self.embed(states, [job.instance for job in jobs])
        edge_index = self.static.edge_index
        return [
            pydantic_core.to_json(embedding.document(self.policy.name, edge_index))
            if embedding.accepted
            else ServeInputError(HTTPStatus.CONFLICT, job.field, embedding.reason)
            for job, embedding in zip(jobs, embeddings, strict=True)
        ]

    def batch_json(self, body: AgentVNEPlaceBatchRequest, jobs: Sequence[VNEJob]) -> bytes:
        if body.mode is AgentVNEBatchMode.INDEPENDENT:
            states = [job.load.network_state(self.static) for job in jobs]
            embeddings = self.embed(states, [job.instance for job in jobs])
        else:
            shared = jobs[0].load.network_state(self.static)
            embeddings = [  # parsed again on what the workflows before left, as the env parses on arrival
                self.embed([shared], [self.builder.build(job.instance.raw, shared.node_free)])[0]
                for job in jobs
            ]
        document = batch_document(self.policy.name, body.mode, embeddings, self.static.edge_index)
        return pydantic_core.to_json(document)

    def embed(
        self, states: Sequence[NetworkState], instances: Sequence[EmbeddingInstance]
    ) -> list[Embedding]:
        """Embed ``instances[i]`` on ``states[i]`` and commit it there when feasible: one forward pass of
        the similarity network for all, then the policy's decoder per workflow (the actions of
        ``AgentVNEPolicy.act_batch``)."""
        observations = [
            self.observer.observe(state, instance) for state, instance in zip(states, instances, strict=True)
        ]
        batch = {key: np.stack([obs[key] for obs in observations]) for key in observations[0]}
        log_pi = self.policy.log_pi(batch)  # (B, Nv, Ns)
        hosts = self.policy.decoder.decode(log_pi, batch)  # (B, Nv), Ns = unassigned
        candidates, probability, listed = self.candidates(log_pi)  # (B, Nv, k) each
        embeddings = []
        for row, (state, instance) in enumerate(zip(states, instances, strict=True)):
            v = instance.request.num_agents
            lists = (candidates[row, :v], probability[row, :v], listed[row, :v])
            embeddings.append(self._commit(state, instance, hosts[row, :v], *lists))
        return embeddings

    def candidates(self, log_pi: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The head of each agent's priority list: its ``top_k`` nodes by pi (ties -> lower id), as the
        decoder's lists (nodes with log pi above MASKED_LOGIT / 2, i.e. feasible hosts).

        Shapes: log_pi (B, Nv, Ns) -> nodes (B, Nv, k) int64, pi (B, Nv, k) float64, listed (B, Nv, k)
        bool (False past the end of a shorter list).
        """
        n = self.static.num_nodes
        k = min(self.top_k, n)
        rows = log_pi[..., :n].reshape(-1, n)  # (B*Nv, N)
        ranks = priority_ranks(rows, rows > MASKED_LOGIT / 2)
        nodes = np.argsort(ranks, axis=1, kind="stable")[:, :k]  # list positions 0..k-1
        listed = np.isfinite(np.take_along_axis(ranks, nodes, axis=1))
        probability = np.exp(np.take_along_axis(rows, nodes, axis=1).astype(np.float64))
        shape = (*log_pi.shape[:2], k)
        return nodes.reshape(shape), probability.reshape(shape), listed.reshape(shape)

    def _commit(
        self,
        state: NetworkState,
        instance: EmbeddingInstance,
        hosts: np.ndarray,
        candidates: np.ndarray,
        probability: np.ndarray,
        listed: np.ndarray,
    ) -> Embedding:
        """Embed the decoded ``hosts`` (V,) with the env's step; the env's measures after the commit."""
        if (hosts == self.static.max_nodes).any():  # the decoder failed (its last attempt is partial)
            workflow, reason = None, "the policy's greedy-BFS decoder found no feasible mapping"
        else:  # served states never advance the clock: the departure step is never reached
            workflow, reason = state.embed(len(state.live), instance.request, hosts, departure=0)
        lists = {"candidates": candidates, "probability": probability, "listed": listed}
        if workflow is None:
            return Embedding(instance, None, f"no feasible embedding on the given state: {reason}", **lists)
        return Embedding(
            instance,
            workflow,
            "",
            **lists,
            weighted_hops=state.workflow_weighted_hops(workflow),
            network_weighted_hops=state.weighted_hops(),
            latency_s=state.latency_s(workflow),
        )


def _network_key(static: StaticNetwork) -> tuple[str, int, int]:
    """What identifies a static network: its substrate (capacity scale included) and padding."""
    return static.substrate.name, static.max_nodes, static.max_edges
