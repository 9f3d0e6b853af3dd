"""Serving the dnn-inference scenario: slot state + agents' requests -> the env's observations ->
greedy (configuration, model, server) of each request's own agent.

Observations come from the scenario's own :class:`SlotObserver` (the env's, so they equal the env's
bit for bit). The policy is the one ``edgeplace evaluate``
and ``edgeplace reproduce hisper`` restore from a HISPER, HASAC or HAPPO checkpoint
(:meth:`HISPERPolicy.from_checkpoint`: the actors are saved in the joint learner's state, not as
RLlib RLModules), and it acts as that policy does: every actor's autoregressive (or factorised) head
takes the argmax at each sub-action step, with the agents' actors stacked in one grouped forward.
Estimates come from the env's system model (:class:`RequestOutcome`, each request alone on its state).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any, Self

import numpy as np
import torch

from edgeplace.algos.hisper.actor import group_forward
from edgeplace.algos.hisper.policy import HISPERPolicy
from edgeplace.envs.dnn_inference import SCENARIO_ID, DnnInferenceConfig, DnnInferenceEnv, DnnObsKey
from edgeplace.envs.dnn_inference.request_batch import RequestBatch
from edgeplace.envs.dnn_inference.request_outcome import RequestOutcome
from edgeplace.envs.dnn_inference.state import agent_rank
from edgeplace.models.autoregressive_head import ActionMode
from edgeplace.serve.dnn_inference_placements import PlacedRequests
from edgeplace.serve.dnn_inference_schemas import (
    DnnBatchPlacement,
    DnnPlaceBatchRequest,
    DnnPlacement,
    DnnPlaceRequest,
    DnnRequest,
    DnnSlotState,
)
from edgeplace.serve.errors import ServeInputError
from edgeplace.serve.placer import ScenarioPlacer, ScenarioSchemas
from edgeplace.serve.responses import top_k_actions
from edgeplace.serve.schema_narrowing import SchemaComponents, narrow_index, narrow_lengths, schema_property
from edgeplace.serve.sources import PolicySource
from edgeplace.workloads.dnn_inference import MAX_MODELS, NUM_CONFIGS

#: The example request's deadline, s: the longest an OD request has in training.
EXAMPLE_DEADLINE_S = 2.0


@dataclass(frozen=True)
class SlotBackground:
    """A slot state body checked against the topology: each server's background work h_sys (TFLOP)
    and memory H_mem (MB). Shapes: tflop, memory_mb (V,) float64, read-only."""

    tflop: np.ndarray
    memory_mb: np.ndarray


@dataclass(frozen=True)
class DnnJob:
    """One validated request on its slot state; placing it leaves it unchanged."""

    agent: int
    """Index of the requesting agent in the policy's agent order (``od_*`` then ``mot_*``)."""
    local: int
    deadline_s: float
    data_mb: float
    background: SlotBackground
    """The slot state (may be shared by the jobs of one state)."""


class DnnInferencePlacer(ScenarioPlacer[SlotBackground, DnnJob]):
    """Places dnn-inference requests with one trained HISPER/HASAC/HAPPO policy on one topology.

    Args:
        policy: the restored actors, one per agent.
        config: the env config the observations are built for (the checkpoint's, maybe with an
            override topology that fits the actors' server slots).
        top_k: candidates listed per sub-action head.

    Raises:
        ValueError: the policy's agents or actor input sizes do not match ``config``'s env.
    """

    scenario = SCENARIO_ID
    schemas = ScenarioSchemas(DnnPlaceRequest, DnnPlacement, DnnPlaceBatchRequest, DnnBatchPlacement)
    config_type = DnnInferenceConfig
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
        self.network, self.observer = env.network, env.observer
        self.agent_ids = tuple(env.possible_agents)
        self.services = env.services  # (A,)
        if tuple(policy.index) != self.agent_ids:
            raise ValueError(
                f"policy {policy.name!r} acts for {list(policy.index)}, the env has {self.agent_ids}"
            )
        spec, layout = policy.actors[0].spec, env.layout
        sizes = (NUM_CONFIGS, MAX_MODELS, layout.max_nodes)
        expected = (layout.request_dim, layout.server_dim, layout.link_dim, sizes)
        if (spec.request_dim, spec.server_dim, spec.link_dim, spec.sizes) != expected:
            raise ValueError(
                f"policy {policy.name!r} was trained on other observation sizes than {config.topology} "
                f"gives (max_nodes={layout.max_nodes}, static_server_features="
                f"{layout.static_server_features})"
            )
        masks = self.observer.structural_masks  # (A, 16+4+P)
        self.head_masks = np.split(masks, np.cumsum(sizes)[:-1], axis=1)  # 3 x (A, n_k)
        self.action_grid = (  # every (configuration, model, server), broadcast as (1, C, M, V)
            np.arange(NUM_CONFIGS)[None, :, None, None],
            np.arange(MAX_MODELS)[None, None, :, None],
            np.arange(self.network.num_servers)[None, None, None, :],
        )

    @classmethod
    def restore(cls, source: PolicySource) -> HISPERPolicy:
        return HISPERPolicy.from_checkpoint(source.checkpoint, name=source.name)

    @classmethod
    def override_env_config(cls, policy: HISPERPolicy) -> dict[str, Any]:
        """An override topology is padded to the actors' server slots (so it may have at most that many
        servers)."""
        return {"max_nodes": policy.actors[0].spec.sizes[-1]}

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
        narrow_lengths(components, DnnSlotState, ("background_tflop", "background_memory_mb"), num_nodes)
        narrow_index(components, DnnRequest, "local_server", num_nodes)
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
    def check_state(self, state: DnnSlotState) -> SlotBackground:
        return SlotBackground(
            tflop=self.per_item(state.background_tflop, self.num_nodes, "state.background_tflop", "server"),
            memory_mb=self.per_item(
                state.background_memory_mb, self.num_nodes, "state.background_memory_mb", "server"
            ),
        )

    def request_job(self, state: SlotBackground, request: DnnRequest, field: str) -> DnnJob:
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
        self.check_index(request.local_server, self.num_nodes, f"{field}.local_server", "server")
        return DnnJob(
            agent=self.policy.index[request.agent],
            local=request.local_server,
            deadline_s=request.deadline_s,
            data_mb=request.data_mb,
            background=state,
        )

    def jobs(
        self, state: DnnSlotState, requests: Sequence[DnnRequest], fields: Sequence[str]
    ) -> list[DnnJob]:
        """The checked requests' jobs, once every one of them has an action that admission accepts."""
        jobs = super().jobs(state, requests, fields)
        self.check_feasible(jobs, fields)
        return jobs

    def check_feasible(self, jobs: Sequence[DnnJob], fields: Sequence[str]) -> None:
        """Raise for the first job that no action of its agent gets admitted (alone, on its state).

        Raises:
            ServeInputError: 409 naming the job's ``deadline_s`` when no action meets it, else
                ``state.background_memory_mb`` when none fits any server, else the job's own field.
        """
        requests = self.requests(jobs)
        grid = RequestOutcome.alone(self.network, self.config.params, requests, *self.action_grid)
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
    def place(self, jobs: Sequence[DnnJob]) -> list[bytes]:
        return self.placements(jobs).json_documents()

    def batch_json(self, body: DnnPlaceBatchRequest, jobs: Sequence[DnnJob]) -> bytes:
        return self.placements(jobs).batch_json()

    def requests(self, jobs: Sequence[DnnJob]) -> RequestBatch:
        """The jobs' requests and states as arrays: fields (B,), background (B, V)."""
        agent = np.array([job.agent for job in jobs], dtype=np.int64)
        return RequestBatch(
            service=self.services[agent],
            local=np.array([job.local for job in jobs], dtype=np.int64),
            deadline_s=np.array([job.deadline_s for job in jobs]),
            data_mb=np.array([job.data_mb for job in jobs]),
            background_tflop=np.stack([job.background.tflop for job in jobs]),
            background_memory_mb=np.stack([job.background.memory_mb for job in jobs]),
        )

    @torch.inference_mode()
    def placements(self, jobs: Sequence[DnnJob]) -> PlacedRequests:
        """Greedy actions of every job: the actors of the agents present act in one grouped forward
        (each agent's rows, cycled to the longest agent's count), then the system model's estimates."""
        agent = np.array([job.agent for job in jobs], dtype=np.int64)  # (B,)
        requests = self.requests(jobs)
        observations = self.observer.observe_requests(requests, agent)
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
            outcome=RequestOutcome.alone(self.network, self.config.params, requests, *actions.T),
            deadline_s=requests.deadline_s,
        )
