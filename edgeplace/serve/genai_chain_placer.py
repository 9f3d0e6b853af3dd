"""Serving the genai-chain scenario: network state + request -> the env's observations -> batched
greedy actions, stage by stage.

Observations come from the scenario's own :class:`ChainObserver` (built exactly as the env builds
it), and each placed stage is applied with the scenario's :meth:`ChainSystemModel.place`, with the
observed telemetry standing in for the unseen slowdown delta: that estimate advances the elapsed
time, the predecessor and the load that the next stage's observation sees, as the env does.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

import numpy as np
import torch

from edgeplace.algos.module_policy import ModulePolicy
from edgeplace.envs.genai_chain import GenAIChainConfig, GenAIChainEnv
from edgeplace.envs.genai_chain.observation import ChainProgress
from edgeplace.envs.genai_chain.system_model import RequestProfile, StageOutcome
from edgeplace.obs_keys import ObsKey
from edgeplace.serve.errors import ServeInputError
from edgeplace.serve.schemas import (
    Candidate,
    ChainNetworkState,
    ChainPlacement,
    ChainPlaceRequest,
    ChainRequest,
    StagePlacement,
)
from edgeplace.workloads.genai_chain import NUM_MODEL_TYPES, NUM_STAGES

SCENARIO_ID = "genai-chain"
DECIMALS = 6
"""Decimal places of the floats in responses (probabilities, seconds, utilities): small JSON."""


@dataclass
class ChainJob:
    """One validated request on its network state, advanced in place while its stages are placed.

    Shapes: load, telemetry (N,) float64; ``load`` is this job's own copy.
    """

    load: np.ndarray
    telemetry: np.ndarray
    progress: ChainProgress


def top_k_actions(
    logits: np.ndarray, allowed: np.ndarray, k: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The ``k`` most probable allowed actions, best first, and their softmax probabilities.

    Shapes: logits, allowed (B, M) -> indices (B, k) int64, probabilities (B, k) float64, valid
    (B, k) bool; ``valid`` is False where a row has fewer than ``k`` allowed actions.
    """
    masked = np.where(allowed, logits.astype(np.float64), -np.inf)
    k = min(k, logits.shape[1])
    top = np.argpartition(-masked, k - 1, axis=1)[:, :k]
    top = np.take_along_axis(top, np.argsort(-np.take_along_axis(masked, top, axis=1), axis=1), axis=1)
    weights = np.exp(masked - masked.max(axis=1, keepdims=True))
    probabilities = np.take_along_axis(weights, top, axis=1) / weights.sum(axis=1, keepdims=True)
    return top, probabilities, np.take_along_axis(allowed, top, axis=1)


class ChainPlacer:
    """Places genai-chain requests with one trained policy on one topology.

    Args:
        policy: the restored trained module(s).
        config: the env config the observations are built for (the checkpoint's, maybe with an
            override topology).
        top_k: candidates listed per stage.
    """

    def __init__(self, policy: ModulePolicy, config: GenAIChainConfig, top_k: int) -> None:
        env = GenAIChainEnv(config)
        self.policy, self.config, self.top_k = policy, config, top_k
        self.observer = env.observer
        self.agent_ids = tuple(env.possible_agents)
        self.num_nodes = self.observer.num_nodes
        self.num_instances = env.workload.num_instances
        self.missing_types = frozenset(range(1, NUM_MODEL_TYPES + 1)) - set(
            env.workload.instance_type.tolist()
        )

    @classmethod
    def from_env_config(
        cls, policy: ModulePolicy, env_config: Mapping[str, Any], topology: str | None, top_k: int
    ) -> ChainPlacer:
        """The checkpoint's env config, on ``topology`` if given (then padded to fit its node count)."""
        values = dict(env_config)
        if topology is not None:
            values.update(topology=topology, max_nodes=None)
        return cls(policy, GenAIChainConfig.from_env_config(values), top_k)

    @property
    def topology(self) -> str:
        return self.config.topology

    def example(self) -> ChainPlaceRequest:
        """A request body that this placer accepts as is: an idle network, a feasible route."""
        model_type = min(frozenset(range(1, NUM_MODEL_TYPES + 1)) - self.missing_types)
        idle = [0.0] * self.num_nodes
        return ChainPlaceRequest(
            state=ChainNetworkState(load=idle, telemetry=idle),
            request=ChainRequest(route=[model_type] * NUM_STAGES, omega=0.5, size_scale=0.5, access_node=0),
            policy=self.policy.name,
        )

    def state_arrays(self, state: ChainNetworkState) -> tuple[np.ndarray, np.ndarray]:
        """Check a network state against the topology. Returns load, telemetry as (N,) float64."""
        for field, values in (("state.load", state.load), ("state.telemetry", state.telemetry)):
            if len(values) != self.num_nodes:
                raise ServeInputError(
                    HTTPStatus.UNPROCESSABLE_ENTITY,
                    field,
                    f"expected {self.num_nodes} values (one per node of {self.topology}), got {len(values)}",
                )
        window = self.config.requests_per_episode
        if state.request_index >= window:
            raise ServeInputError(
                HTTPStatus.UNPROCESSABLE_ENTITY,
                "state.request_index",
                f"must be below the policy's requests_per_episode ({window}), got {state.request_index}",
            )
        return np.asarray(state.load, dtype=np.float64), np.asarray(state.telemetry, dtype=np.float64)

    def job(
        self, load: np.ndarray, telemetry: np.ndarray, request_index: int, request: ChainRequest, field: str
    ) -> ChainJob:
        """Check ``request`` (at body path ``field``) against the topology and make its job.

        Raises:
            ServeInputError: 422 for a node index out of range, 409 for a route stage whose model
                type has no instance on this topology (the request cannot be placed).
        """
        if request.access_node >= self.num_nodes:
            raise ServeInputError(
                HTTPStatus.UNPROCESSABLE_ENTITY,
                f"{field}.access_node",
                f"node index {request.access_node} out of range: {self.topology} has {self.num_nodes} "
                f"nodes (0..{self.num_nodes - 1})",
            )
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
        progress = ChainProgress(profile, request_index, self.config.requests_per_episode)
        return ChainJob(load=load.copy(), telemetry=telemetry, progress=progress)

    def place(self, jobs: Sequence[ChainJob]) -> list[ChainPlacement]:
        """Place every stage of every job: one batched forward per stage agent (5 for any batch)."""
        stages: list[list[StagePlacement]] = [[] for _ in jobs]
        for agent_id in self.agent_ids:
            observations = [self.observer.observe(job.progress, job.load, job.telemetry) for job in jobs]
            with torch.inference_mode():
                logits = self.policy.logits([agent_id] * len(jobs), observations)  # (B, M)
            allowed = np.stack([obs[ObsKey.ACTION_MASK] for obs in observations]) > 0  # (B, M)
            actions = logits.argmax(axis=1)  # greedy, as ModulePolicy.act_batch
            top, probabilities, valid = top_k_actions(logits, allowed, self.top_k)  # (B, k) each
            probabilities = probabilities.round(DECIMALS)
            for row, job in enumerate(jobs):
                instance = int(actions[row])
                outcome = self._advance(job, instance)
                candidates = self._candidates(top[row, valid[row]], probabilities[row, valid[row]])
                stages[row].append(
                    StagePlacement(
                        instance=instance,
                        node=outcome.node,
                        latency_s=round(outcome.latency_s, DECIMALS),
                        utility=round(outcome.utility, DECIMALS),
                        candidates=candidates,
                    )
                )
        return [self._placement(job, placed) for job, placed in zip(jobs, stages, strict=True)]

    def _advance(self, job: ChainJob, instance: int) -> StageOutcome:
        """Apply the stage as the env does, with telemetry as the delta; mutates ``job``."""
        progress = job.progress
        outcome = self.observer.model.place(
            progress.request, progress.stage, progress.anchor_node, instance, job.telemetry, job.load
        )
        progress.elapsed_s += outcome.latency_s
        progress.prev_node, progress.pred_quality = outcome.node, outcome.quality
        progress.stage += 1
        return outcome

    def _candidates(self, items: np.ndarray, probabilities: np.ndarray) -> list[Candidate]:
        item_node = self.observer.item_node
        return [
            Candidate(instance=item, node=int(item_node[item]), probability=probability)
            for item, probability in zip(items.tolist(), probabilities.tolist(), strict=True)
        ]

    def _placement(self, job: ChainJob, stages: list[StagePlacement]) -> ChainPlacement:
        latency_s = job.progress.elapsed_s
        deadline_s = float(job.progress.request.deadline_s.sum())
        return ChainPlacement(
            policy=self.policy.name,
            stages=stages,
            latency_s=round(latency_s, DECIMALS),
            deadline_s=round(deadline_s, DECIMALS),
            meets_sla=latency_s <= deadline_s,
            utility=round(sum(stage.utility for stage in stages), DECIMALS),
        )
