"""Serving the toy: node loads + the two agents' demands -> the env's observations -> each agent's node.

Observations and the placement's outcome come from the env module's own ``observe`` and ``place``, so
Serve acts on exactly what training saw.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any, Self

import numpy as np
import pydantic_core
from pydantic import BaseModel, Field

from edgeplace.policy import Policy
from edgeplace.serve.errors import ServeInputError
from edgeplace.serve.placer import ScenarioPlacer, ScenarioSchemas
from edgeplace.serve.schema_narrowing import SchemaComponents, narrow_lengths
from edgeplace.serve.schemas import STRICT_INPUT, BatchPlacement, PlaceBatchRequest, PlaceRequest
from edgeplace.serve.sources import PolicySource
from edgeplace_toy.env import AGENTS, CAPACITY, DEMANDS, ToyConfig, observe, place
from edgeplace_toy.policies import load_policy


class ToyState(BaseModel):
    """The nodes' loads, job units (one per node)."""

    model_config = STRICT_INPUT
    loads: list[float] = Field(min_length=1, max_length=64)


class ToyRequest(BaseModel):
    """The two agents' jobs: one demand each (1 or 2 units)."""

    model_config = STRICT_INPUT
    demands: list[float] = Field(min_length=len(AGENTS), max_length=len(AGENTS))


class ToyPlacement(BaseModel):
    """Each agent's node, and the overload each job leaves on its node (job units)."""

    policy: str
    nodes: list[int]
    overload: list[float]


class ToyPlaceRequest(PlaceRequest[ToyState, ToyRequest]):
    """Place the two jobs of one request on the given loads."""


class ToyPlaceBatchRequest(PlaceBatchRequest[ToyState, ToyRequest]):
    """Place each request independently on the same loads."""


class ToyBatchPlacement(BatchPlacement[ToyPlacement]):
    """One placement per request, in request order."""


@dataclass(frozen=True)
class ToyJob:
    """One checked request on its loads. Shapes: loads (N,), demands (2,)."""

    loads: np.ndarray
    demands: np.ndarray


class ToyPlacer(ScenarioPlacer[np.ndarray, ToyJob]):
    """Places toy requests with one trained policy (of any of the toy's algorithms)."""

    scenario = "toy"
    schemas = ScenarioSchemas(ToyPlaceRequest, ToyPlacement, ToyPlaceBatchRequest, ToyBatchPlacement)
    config_type = ToyConfig
    place_summary = "Place the two agents' jobs on the given loads."
    place_batch_summary = "Place each request independently on the same loads."
    decisions_per_request = len(AGENTS)

    policy: Policy
    config: ToyConfig

    @classmethod
    def restore(cls, source: PolicySource) -> Policy:
        return load_policy(source.checkpoint, name=source.name)

    @property
    def num_nodes(self) -> int:
        return CAPACITY.size

    @property
    def num_actions(self) -> int:
        return CAPACITY.size

    @classmethod
    def narrow_schema(cls, components: SchemaComponents, placers: Mapping[str, Self]) -> None:
        narrow_lengths(components, ToyState, ("loads",), [placer.num_nodes for placer in placers.values()])

    def example(self) -> ToyPlaceRequest:
        return ToyPlaceRequest(
            state=ToyState(loads=[0.0] * self.num_nodes),
            request=ToyRequest(demands=[float(DEMANDS[0]), float(DEMANDS[-1])]),
            policy=self.policy.name,
        )

    def check_state(self, state: ToyState) -> np.ndarray:
        loads = self.per_item(state.loads, self.num_nodes, "state.loads", "node")
        if (loads < 0).any():
            raise ServeInputError(HTTPStatus.UNPROCESSABLE_ENTITY, "state.loads", "loads must be >= 0")
        return loads

    def request_job(self, state: np.ndarray, request: ToyRequest, field: str) -> ToyJob:
        demands = np.array(request.demands)
        if not np.isin(demands, DEMANDS).all():
            raise ServeInputError(
                HTTPStatus.UNPROCESSABLE_ENTITY,
                f"{field}.demands",
                f"each demand must be one of {DEMANDS.tolist()}, got {request.demands}",
            )
        return ToyJob(state, demands)

    def place(self, jobs: Sequence[ToyJob]) -> list[bytes]:
        return [pydantic_core.to_json(document) for document in self._documents(jobs)]

    def batch_json(self, body: Any, jobs: Sequence[ToyJob]) -> bytes:
        return pydantic_core.to_json({"policy": self.policy.name, "placements": self._documents(jobs)})

    def _documents(self, jobs: Sequence[ToyJob]) -> list[dict[str, Any]]:
        """Every job's placement document: one batched forward over its agents' observations."""
        agents = [agent for _ in jobs for agent in AGENTS]
        observations = [obs for job in jobs for obs in observe(job.loads, job.demands).values()]
        nodes = self.policy.act_batch(agents, observations).reshape(len(jobs), len(AGENTS))
        documents = []
        for job, chosen in zip(jobs, nodes, strict=True):
            _, overload = place(job.loads, job.demands, chosen)
            documents.append(
                {"policy": self.policy.name, "nodes": chosen.tolist(), "overload": overload.tolist()}
            )
        return documents
