"""Serving the dnn-inference scenario: slot state + agents' requests -> the env's observations ->
greedy (configuration, model, server) of each request's own agent.

Observations come from the scenario's own :class:`ObservationLayout` encoders (those the env
observes with, so they equal the env's bit for bit). The policy is the one ``edgeplace evaluate``
and ``edgeplace reproduce hisper`` restore from a HISPER, HASAC or HAPPO checkpoint
(:meth:`HISPERPolicy.from_checkpoint`: the actors are saved in the joint learner's state, not as
RLlib RLModules), and it acts as that policy does: every actor's autoregressive (or factorised) head
takes the argmax at each sub-action step, with the agents' actors stacked in one grouped forward.
Estimates come from the env's system model (:class:`AloneOutcome`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from http import HTTPStatus
from typing import Self

import numpy as np
import torch

from edgeplace.algos.baselines.dnn_inference import DecodedRequests
from edgeplace.algos.hisper.actor import group_forward
from edgeplace.algos.hisper.policy import HISPERPolicy
from edgeplace.envs.dnn_inference import SCENARIO, DnnInferenceConfig, DnnInferenceEnv, DnnObsKey
from edgeplace.envs.dnn_inference.state import agent_rank
from edgeplace.models.autoregressive_head import ActionMode
from edgeplace.serve.dnn_inference_placements import AloneOutcome, PlacedRequests
from edgeplace.serve.dnn_inference_schemas import (
    DnnBatchPlacement,
    DnnPlaceBatchRequest,
    DnnPlacement,
    DnnPlaceRequest,
    DnnRequest,
    DnnSlotState,
)
from edgeplace.serve.errors import ServeInputError
from edgeplace.serve.placer import ScenarioPlacer, ScenarioSchemas, SchemaComponents, schema_property
from edgeplace.serve.responses import top_k_actions
from edgeplace.serve.sources import PolicySource
from edgeplace.workloads.dnn_inference import MAX_MODELS, NUM_CONFIGS

#: The example request's deadline, s: the longest an OD request has in training.
EXAMPLE_DEADLINE_S = 2.0


@dataclass(frozen=True)
class DnnJob:
    """One validated request on its slot state; placing it leaves it unchanged.

    Shapes: background_tflop, background_memory_mb (V,) float64 (may be shared by the jobs of one state).
    """

    agent: int
    """Index of the requesting agent in the policy's agent order (``od_*`` then ``mot_*``)."""
    local: int
    deadline_s: float
    data_mb: float
    background_tflop: np.ndarray
    background_memory_mb: np.ndarray


class DnnInferencePlacer(ScenarioPlacer[DnnJob]):
    """Places dnn-inference requests with one trained HISPER/HASAC/HAPPO policy on one topology.

    Args:
        policy: the restored actors, one per agent.
        config: the env config the observations are built for (the checkpoint's, maybe with an
            override topology that fits the actors' server slots).
        top_k: candidates listed per sub-action head.

    Raises:
        ValueError: the policy's agents or actor input sizes do not match ``config``'s env.
    """

    scenario = SCENARIO.scenario_id
    schemas = ScenarioSchemas(DnnPlaceRequest, DnnPlacement, DnnPlaceBatchRequest, DnnBatchPlacement)
    place_summary = "Choose the configuration, DNN model and server of one agent's request on a slot state."
    place_batch_summary = (
        "Place each request independently on the same slot state, as the env's agents act "
        "simultaneously on the slot's pre-decision state (no queue, memory or instance is carried from "
        "one request to the next): one batched forward of the requesting agents' actors in all."
    )
    decisions_per_request = 1

    policy: HISPERPolicy
    config: DnnInferenceConfig

    def __init__(self, policy: HISPERPolicy, config: DnnInferenceConfig, top_k: int) -> None:
        env = DnnInferenceEnv(config)
        super().__init__(policy, config, top_k)
        self.network, self.layout = env.network, env.layout
        self.agent_ids = tuple(env.possible_agents)
        self.services = env.services  # (A,)
        if tuple(policy.index) != self.agent_ids:
            raise ValueError(
                f"policy {policy.name!r} acts for {list(policy.index)}, the env has {self.agent_ids}"
            )
        spec, layout = policy.actors[0].spec, self.layout
        sizes = (NUM_CONFIGS, MAX_MODELS, layout.max_nodes)
        expected = (layout.request_dim, layout.server_dim, layout.link_dim, sizes)
        if (spec.request_dim, spec.server_dim, spec.link_dim, spec.sizes) != expected:
            raise ValueError(
                f"policy {policy.name!r} was trained on other observation sizes than {config.topology} "
                f"gives (max_nodes={layout.max_nodes}, static_server_features="
                f"{layout.static_server_features})"
            )
        self.links = layout.encode_links(self.network)  # (L,), static
        self.masks = np.stack([layout.action_mask(service) for service in self.services]) > 0  # (A, 16+4+P)
        self.head_masks = np.split(self.masks, np.cumsum(sizes)[:-1], axis=1)  # 3 x (A, n_k)
        self.action_grid = (  # every (configuration, model, server), broadcast as (1, C, M, V)
            np.arange(NUM_CONFIGS)[None, :, None, None],
            np.arange(MAX_MODELS)[None, None, :, None],
            np.arange(self.network.num_servers)[None, None, None, :],
        )

    @classmethod
    def load(cls, source: PolicySource, top_k: int) -> Self:
        """The checkpoint's actors on its env config; an override topology is padded to the actors'
        server slots (so it may have at most that many servers)."""
        policy = HISPERPolicy.from_checkpoint(source.checkpoint, name=source.name)
        values = source.env_config
        if source.topology is not None:
            values["max_nodes"] = policy.actors[0].spec.sizes[-1]
        return cls(policy, DnnInferenceConfig.from_env_config(values), top_k)

    @property
    def num_nodes(self) -> int:
        """V: the servers."""
        return self.network.num_servers

    @property
    def num_actions(self) -> int:
        """16 configurations x 4 models x V servers: an OD agent's joint actions (MOT agents, with 3
        models, have 16 x 3 x V)."""
        return NUM_CONFIGS * MAX_MODELS * self.num_nodes

    @classmethod
    def narrow_schema(cls, components: SchemaComponents, placers: Mapping[str, Self]) -> None:
        num_nodes = [placer.num_nodes for placer in placers.values()]
        for field in ("background_tflop", "background_memory_mb"):
            array = schema_property(components, DnnSlotState, field)
            array["minItems"], array["maxItems"] = min(num_nodes), max(num_nodes)
        schema_property(components, DnnRequest, "local_server")["maximum"] = max(num_nodes) - 1
        agents = {agent for placer in placers.values() for agent in placer.agent_ids}
        schema_property(components, DnnRequest, "agent")["enum"] = sorted(agents, key=agent_rank)

    def example(self) -> DnnPlaceRequest:
        """A request body that this placer accepts as is: idle servers, the first agent's request."""
        idle = [0.0] * self.num_nodes
        return DnnPlaceRequest(
            state=DnnSlotState(background_tflop=idle, background_memory_mb=idle),
            request=DnnRequest(
                agent=self.agent_ids[0], local_server=0, deadline_s=EXAMPLE_DEADLINE_S, data_mb=1.0
            ),
            policy=self.policy.name,
        )

    # --- validation -------------------------------------------------------------------------------
    def state_arrays(self, state: DnnSlotState) -> tuple[np.ndarray, np.ndarray]:
        """Check a slot state against the topology. Returns background TFLOP and MB, (V,) float64 each."""
        arrays = []
        for name in ("background_tflop", "background_memory_mb"):
            values = getattr(state, name)
            if len(values) != self.num_nodes:
                raise ServeInputError(
                    HTTPStatus.UNPROCESSABLE_ENTITY,
                    f"state.{name}",
                    f"expected {self.num_nodes} values (one per server of {self.topology}), "
                    f"got {len(values)}",
                )
            arrays.append(np.asarray(values, dtype=np.float64))
        return arrays[0], arrays[1]

    def request_job(
        self, background_tflop: np.ndarray, background_memory_mb: np.ndarray, request: DnnRequest, field: str
    ) -> DnnJob:
        """Check ``request`` (at body path ``field``) against the policy and topology; make its job.

        Raises:
            ServeInputError: 422 for an agent the policy lacks or a server index out of range.
        """
        if request.agent not in self.policy.index:
            raise ServeInputError(
                HTTPStatus.UNPROCESSABLE_ENTITY,
                f"{field}.agent",
                f"unknown agent {request.agent!r}: policy {self.policy.name!r} has {list(self.agent_ids)}",
            )
        if request.local_server >= self.num_nodes:
            raise ServeInputError(
                HTTPStatus.UNPROCESSABLE_ENTITY,
                f"{field}.local_server",
                f"server index {request.local_server} out of range: {self.topology} has {self.num_nodes} "
                f"servers (0..{self.num_nodes - 1})",
            )
        return DnnJob(
            agent=self.policy.index[request.agent],
            local=request.local_server,
            deadline_s=request.deadline_s,
            data_mb=request.data_mb,
            background_tflop=background_tflop,
            background_memory_mb=background_memory_mb,
        )

    def check_feasible(self, jobs: Sequence[DnnJob], fields: Sequence[str]) -> None:
        """Raise for the first job that no action of its agent gets admitted (alone, on its state).

        Raises:
            ServeInputError: 409 naming the job's ``deadline_s`` when no action meets it, else
                ``state.background_memory_mb`` when none fits any server, else the job's own field.
        """
        requests = self.requests(jobs)
        grid = AloneOutcome.evaluate(self.network, self.config.params, requests, *self.action_grid)
        infeasible = np.flatnonzero(~grid.accepted.reshape(len(jobs), -1).any(axis=1))  # rows of (B, C*M*V)
        if infeasible.size == 0:
            return
        row = infeasible[0]
        field, deadline_s = fields[row], requests.deadline_s[row]
        if not grid.meets_deadline[row].any():
            least_s = np.nanmin(grid.delay_s[row])
            raise ServeInputError(
                HTTPStatus.CONFLICT,
                f"{field}.deadline_s",
                f"no (configuration, model, server) meets the deadline of {deadline_s:g} s on this state: "
                f"the least delay is {least_s:.4g} s",
            )
        if not grid.fits_memory[row].any():
            raise ServeInputError(
                HTTPStatus.CONFLICT,
                "state.background_memory_mb",
                f"no server has memory left for the data and any model of {field} on this state",
            )
        raise ServeInputError(
            HTTPStatus.CONFLICT,
            field,
            "no (configuration, model, server) both meets the deadline and fits the memory on this state",
        )

    # --- placement --------------------------------------------------------------------------------
    def job(self, body: DnnPlaceRequest) -> DnnJob:
        job = self.request_job(*self.state_arrays(body.state), body.request, field="request")
        self.check_feasible([job], ["request"])
        return job

    def place(self, jobs: Sequence[DnnJob]) -> list[bytes]:
        return self.placements(jobs).json_documents()

    def place_batch(self, body: DnnPlaceBatchRequest) -> bytes:
        background = self.state_arrays(body.state)
        fields = [f"requests[{index}]" for index in range(len(body.requests))]
        jobs = [
            self.request_job(*background, request, field)
            for request, field in zip(body.requests, fields, strict=True)
        ]
        self.check_feasible(jobs, fields)
        return self.placements(jobs).batch_json()

    def requests(self, jobs: Sequence[DnnJob]) -> DecodedRequests:
        """The jobs' requests and states as arrays: fields (B,), background (B, V)."""
        agent = np.array([job.agent for job in jobs], dtype=np.int64)
        return DecodedRequests(
            service=self.services[agent],
            local=np.array([job.local for job in jobs], dtype=np.int64),
            deadline_s=np.array([job.deadline_s for job in jobs]),
            data_mb=np.array([job.data_mb for job in jobs]),
            background_tflop=np.stack([job.background_tflop for job in jobs]),
            background_memory_mb=np.stack([job.background_memory_mb for job in jobs]),
        )

    def observations(self, requests: DecodedRequests, agent: np.ndarray) -> dict[str, np.ndarray]:
        """Each request's observation as its agent (index, (B,)) sees it in the env, stacked per key.

        Shapes: -> (B, F) float32 per key.
        """
        layout, size = self.layout, len(agent)
        return {
            DnnObsKey.REQUEST: layout.encode_requests(requests.local, requests.deadline_s, requests.data_mb),
            DnnObsKey.SERVERS: layout.encode_servers(
                requests.background_tflop, requests.background_memory_mb, self.network
            ),
            DnnObsKey.LINKS: np.broadcast_to(self.links, (size, self.links.size)),
            DnnObsKey.ACTION_MASK: self.masks[agent].astype(np.float32),
        }

    @torch.inference_mode()
    def placements(self, jobs: Sequence[DnnJob]) -> PlacedRequests:
        """Greedy actions of every job: the actors of the agents present act in one grouped forward
        (each agent's rows, cycled to the longest agent's count), then the system model's estimates."""
        agent = np.array([job.agent for job in jobs], dtype=np.int64)  # (B,)
        requests = self.requests(jobs)
        observations = self.observations(requests, agent)
        present = np.unique(agent)  # (G,)
        rows = [np.flatnonzero(agent == n) for n in present]
        index = np.stack([np.resize(r, max(map(len, rows))) for r in rows])  # (G, W) rows into the batch

        def grouped(key: str) -> torch.Tensor:
            return torch.as_tensor(observations[key][index])  # (G, W, F)

        result = group_forward(
            [self.policy.actors[n] for n in present],
            grouped(DnnObsKey.REQUEST),
            grouped(DnnObsKey.SERVERS),
            grouped(DnnObsKey.LINKS),
            [torch.as_tensor(mask[present][:, None]) for mask in self.head_masks],  # 3 x (G, 1, n_k)
            mode=ActionMode.ARGMAX,
        )
        actions, log_pi = np.empty((len(jobs), 3), dtype=np.int64), np.empty(len(jobs))
        log_probs = [np.empty((len(jobs), mask.shape[1]), dtype=np.float32) for mask in self.head_masks]
        for g, r in enumerate(rows):
            actions[r], log_pi[r] = result.actions[g, : len(r)].numpy(), result.log_pi[g, : len(r)].numpy()
            for head, out in zip(result.log_probs, log_probs, strict=True):
                out[r] = head[g, : len(r)].numpy()
        tops = [
            top_k_actions(head, mask[agent], self.top_k)
            for head, mask in zip(log_probs, self.head_masks, strict=True)
        ]
        return PlacedRequests(
            policy=self.policy.name,
            agents=[self.agent_ids[n] for n in agent],
            service=requests.service,
            actions=actions,
            probability=np.exp(log_pi),
            candidates=tuple(top[0] for top in tops),
            candidate_probability=tuple(top[1] for top in tops),
            listed=tuple(top[2] for top in tops),
            outcome=AloneOutcome.evaluate(self.network, self.config.params, requests, *actions.T),
            deadline_s=requests.deadline_s,
        )
