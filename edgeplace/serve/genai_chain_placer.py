"""Serving the genai-chain scenario: network state + request -> the env's observations -> batched
greedy actions, stage by stage.

Observations come from the scenario's own :class:`ChainObserver` (``observe_batch``: the env's
observations, bit for bit, built for the whole batch at once), and each placed stage is applied with
the scenario's own stage step (:meth:`ChainProgress.place_stage`, the env's), with the observed
telemetry standing in for the unseen slowdown delta: that estimate advances the elapsed time, the
predecessor and the load that the next stage's observation sees, as the env does.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any, Self

import numpy as np

from edgeplace.algos.module_policy import ModulePolicy
from edgeplace.envs.genai_chain import SCENARIO_ID, GenAIChainConfig, GenAIChainEnv
from edgeplace.envs.genai_chain.observation import ChainProgress
from edgeplace.envs.genai_chain.system_model import RequestProfile
from edgeplace.obs_keys import ObsKey
from edgeplace.serve.chain_placements import PlacedChains
from edgeplace.serve.errors import ServeInputError
from edgeplace.serve.placer import ScenarioPlacer, ScenarioSchemas
from edgeplace.serve.responses import top_k_actions
from edgeplace.serve.schema_narrowing import SchemaComponents, narrow_index, narrow_lengths
from edgeplace.serve.schemas import (
    ChainBatchPlacement,
    ChainNetworkState,
    ChainPlaceBatchRequest,
    ChainPlacement,
    ChainPlaceRequest,
    ChainRequest,
)
from edgeplace.serve.sources import PolicySource
from edgeplace.workloads.genai_chain import NUM_MODEL_TYPES, NUM_STAGES


@dataclass(frozen=True)
class ChainState:
    """A network state body checked against the topology.

    Shapes: load, telemetry (N,) float64, read-only. ``request_index`` is below the policy's window.
    """

    load: np.ndarray
    telemetry: np.ndarray
    request_index: int


@dataclass(frozen=True)
class ChainJob:
    """One validated request on its network state; placing it leaves it unchanged.

    Shapes: load, telemetry (N,) float64 (may be shared by the jobs of one network state).
    """

    load: np.ndarray
    telemetry: np.ndarray
    progress: ChainProgress


class ChainPlacer(ScenarioPlacer[ChainState, ChainJob]):
    """Places genai-chain requests with one trained policy on one topology.

    Args:
        policy: the restored trained module(s).
        config: the env config the observations are built for (the checkpoint's, maybe with an
            override topology).
        top_k: candidates listed per stage.
    """

    scenario = SCENARIO_ID
    schemas = ScenarioSchemas(ChainPlaceRequest, ChainPlacement, ChainPlaceBatchRequest, ChainBatchPlacement)
    config_type = GenAIChainConfig
    place_summary = "Place the 5 stages of one request on the given network state."
    place_batch_summary = (
        "Place each request independently on the same network state (loads are not carried from one "
        "request to the next): 5 batched forwards in all."
    )
    decisions_per_request = NUM_STAGES

    policy: ModulePolicy
    config: GenAIChainConfig

    def __init__(self, policy: ModulePolicy, config: GenAIChainConfig, top_k: int) -> None:
        env = GenAIChainEnv(config)
        super().__init__(policy, config, top_k)
        self.observer = env.observer
        self.agent_ids = tuple(env.possible_agents)
        self.num_instances = env.workload.num_instances
        self.missing_types = frozenset(range(1, NUM_MODEL_TYPES + 1)) - set(
            env.workload.instance_type.tolist()
        )

    @classmethod
    def restore(cls, source: PolicySource) -> ModulePolicy:
        return ModulePolicy.from_checkpoint(source.checkpoint, name=source.name)

    @classmethod
    def override_env_config(cls, policy: ModulePolicy) -> dict[str, Any]:
        """An override topology is padded to its own node count (the module's attention does not
        depend on it)."""
        return {"max_nodes": None}

    @property
    def num_nodes(self) -> int:
        return self.observer.num_nodes

    @property
    def num_actions(self) -> int:
        """M: the candidate model instances."""
        return self.num_instances

    @classmethod
    def narrow_schema(cls, components: SchemaComponents, placers: Mapping[str, Self]) -> None:
        num_nodes = [placer.num_nodes for placer in placers.values()]
        narrow_lengths(components, ChainNetworkState, ("load", "telemetry"), num_nodes)
        windows = [placer.config.requests_per_episode for placer in placers.values()]
        narrow_index(components, ChainNetworkState, "request_index", [min(windows)])
        narrow_index(components, ChainRequest, "access_node", num_nodes)

    def example(self) -> ChainPlaceRequest:
        """A request body that this placer accepts as is: an idle network, a feasible route."""
        model_type = min(frozenset(range(1, NUM_MODEL_TYPES + 1)) - self.missing_types)
        idle = [0.0] * self.num_nodes
        return ChainPlaceRequest(
            state=ChainNetworkState(load=idle, telemetry=idle),
            request=ChainRequest(route=[model_type] * NUM_STAGES, omega=0.5, size_scale=0.5, access_node=0),
            policy=self.policy.name,
        )

    def check_state(self, state: ChainNetworkState) -> ChainState:
        load = self.per_item(state.load, self.num_nodes, "state.load", "node")
        telemetry = self.per_item(state.telemetry, self.num_nodes, "state.telemetry", "node")
        window = self.config.requests_per_episode
        if state.request_index >= window:
            raise ServeInputError(
                HTTPStatus.UNPROCESSABLE_ENTITY,
                "state.request_index",
                f"must be below the policy's requests_per_episode ({window}), got {state.request_index}",
            )
        return ChainState(load, telemetry, state.request_index)

    def request_job(self, state: ChainState, request: ChainRequest, field: str) -> ChainJob:
        """Check ``request`` (at body path ``field``) against the topology and make its job.

        Raises:
            ServeInputError: 422 for a node index out of range, 409 for a route stage whose model
                type has no instance on this topology (the request cannot be placed).
        """
        self.check_index(request.access_node, self.num_nodes, f"{field}.access_node", "node")
        for stage, model_type in enumerate(request.route):
            if model_type in self.missing_types:
                raise ServeInputError(
                    HTTPStatus.CONFLICT,
                    f"{field}.route[{stage}]",
                    f"model type {model_type} has no instance on {self.topology}: the request cannot "
                    "be placed",
                )
        profile = RequestProfile.build(
            np.asarray(request.route),
            request.omega,
            request.size_scale,
            request.access_node,
            self.config.params,
        )
        progress = ChainProgress(profile, state.request_index, self.config.requests_per_episode)
        return ChainJob(load=state.load, telemetry=state.telemetry, progress=progress)

    def place(self, jobs: Sequence[ChainJob]) -> list[bytes]:
        return self.placements(jobs).json_documents()

    def batch_json(self, body: ChainPlaceBatchRequest, jobs: Sequence[ChainJob]) -> bytes:
        return self.placements(jobs).batch_json()

    def placements(self, jobs: Sequence[ChainJob]) -> PlacedChains:
        """Place every stage of every job: one batched forward per stage agent (5 for any batch).

        Each job starts from its own copy of its load; the jobs themselves are not changed.
        """
        size, k = len(jobs), min(self.top_k, self.num_instances)
        loads = np.stack([job.load for job in jobs], dtype=np.float64)  # (B, N): a copy, advanced per stage
        telemetry = np.stack([job.telemetry for job in jobs])  # (B, N)
        progresses = [dataclasses.replace(job.progress) for job in jobs]
        shape = (size, NUM_STAGES)
        instance, node = np.empty(shape, dtype=np.int64), np.empty(shape, dtype=np.int64)
        latency_s, utility = np.empty(shape), np.empty(shape)
        candidates, probability = np.empty((*shape, k), dtype=np.int64), np.empty((*shape, k))
        listed = np.empty((*shape, k), dtype=bool)
        model = self.observer.model
        for stage, agent_id in enumerate(self.agent_ids):
            observations = self.observer.observe_batch(progresses, loads, telemetry)
            logits = self.policy.batch_logits(agent_id, observations)  # (B, M)
            allowed = observations[ObsKey.ACTION_MASK] > 0  # (B, M)
            actions = logits.argmax(axis=1)  # greedy, as ModulePolicy.act_batch
            top, probabilities, valid = top_k_actions(logits, allowed, k)  # (B, k) each
            candidates[:, stage], probability[:, stage], listed[:, stage] = top, probabilities, valid
            for row, progress in enumerate(progresses):  # the env's stage step, telemetry as the delta
                outcome = progress.place_stage(model, int(actions[row]), telemetry[row], loads[row])
                instance[row, stage], node[row, stage] = actions[row], outcome.node
                latency_s[row, stage], utility[row, stage] = outcome.latency_s, outcome.utility
        return PlacedChains(
            policy=self.policy.name,
            instance=instance,
            node=node,
            latency_s=latency_s,
            utility=utility,
            candidates=candidates,
            candidate_node=self.observer.item_node[candidates],
            probability=probability,
            listed=listed,
            deadline_s=np.array([progress.request.deadline_s.sum() for progress in progresses]),
        )
