"""What a scenario implements to be served: :class:`ScenarioPlacer`.

A placer turns a request body in the scenario's own terms (network state + request) into the env's
observations with the scenario's own code, acts greedily with one trained policy and writes the
placement as JSON. The routes (:mod:`edgeplace.serve.routes`) are generic over it:

- ``POST /v1/{scenario}/place``: :meth:`ScenarioPlacer.job` validates the body against the topology,
  then concurrent jobs are placed together by :meth:`ScenarioPlacer.place` (``@serve.batch``);
- ``POST /v1/{scenario}/place-batch``: :meth:`ScenarioPlacer.place_batch` places many requests on one
  network state with batched forwards.

Both routes share one outline here (restore, check the state, check each request on it, place); a
scenario's placer declares what differs: its checks, its placement and its schema narrowing.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any, ClassVar, Generic, Protocol, Self, TypeVar

import numpy as np
from pydantic import BaseModel

from edgeplace.serve.errors import ServeInputError
from edgeplace.serve.schema_narrowing import SchemaComponents
from edgeplace.serve.schemas import PlaceBatchRequest, PlaceRequest
from edgeplace.serve.sources import PolicySource

StateT = TypeVar("StateT")
JobT = TypeVar("JobT")


@dataclass(frozen=True)
class ScenarioSchemas:
    """The pydantic bodies of a scenario's two routes."""

    place_request: type[PlaceRequest]
    placement: type[BaseModel]
    place_batch_request: type[PlaceBatchRequest]
    batch_placement: type[BaseModel]


class NamedPolicy(Protocol):
    """A trained policy as a placer needs it at least: its name."""

    name: str


class TopologyConfig(Protocol):
    """A scenario's env config as a placer needs it at least: the topology URI."""

    topology: str


class ScenarioConfig(Protocol):
    """A scenario's env config class: read from a checkpoint's env config."""

    @classmethod
    def from_env_config(cls, values: Mapping[str, Any]) -> TopologyConfig: ...


class ScenarioPlacer(ABC, Generic[StateT, JobT]):
    """Places one scenario's requests with one trained policy on one topology.

    Subclasses set the class attributes, narrow the types of ``policy`` and ``config`` and implement the
    abstract methods: a checked network state is a ``StateT``, a checked request on it a ``JobT``. Every
    input check that needs the topology raises :class:`~edgeplace.serve.errors.ServeInputError` naming
    the field.

    Args:
        policy: the trained policy that acts.
        config: the env config the observations are built for.
        top_k: candidates listed per decision.
    """

    policy: NamedPolicy
    config: TopologyConfig

    #: The scenario id, as in the URL (``/v1/{scenario}/place``) and the checkpoints' metadata.
    scenario: ClassVar[str]
    schemas: ClassVar[ScenarioSchemas]
    #: The env config class the checkpoint's env config is read with.
    config_type: ClassVar[type[ScenarioConfig]]
    #: OpenAPI descriptions of the two routes; ``place_batch_summary`` says whether the requests are
    #: placed independently on the state or in sequence.
    place_summary: ClassVar[str]
    place_batch_summary: ClassVar[str]
    #: Agent decisions in one placed request, for capacity planning (None: varies per request).
    decisions_per_request: ClassVar[int | None] = None
    #: Rule controllers served without a checkpoint (``rule:SCENARIO[:CONTROLLER]``; the first is the
    #: default); :meth:`restore` builds them from a source whose ``rule`` is set. Empty: checkpoints only.
    rule_controllers: ClassVar[tuple[str, ...]] = ()

    def __init__(self, policy: NamedPolicy, config: TopologyConfig, top_k: int) -> None:
        self.policy, self.config, self.top_k = policy, config, top_k

    # --- restoring ----------------------------------------------------------------------------------
    @classmethod
    def load(cls, source: PolicySource, top_k: int) -> Self:
        """Restore ``source``'s trained policy (or its rule controller) and build the placer on its env
        config (on the override topology, with :meth:`override_env_config`, if one is given); ``top_k``
        candidates are listed per decision.

        Raises:
            ValueError: a rule controller that is not one of :attr:`rule_controllers`.
        """
        if source.rule is not None and source.rule not in cls.rule_controllers:
            raise ValueError(
                f"{cls.scenario}: rule controller {source.rule!r} is not served; "
                f"served: {list(cls.rule_controllers)}"
            )
        policy = cls.restore(source)
        values = source.env_config
        if source.topology is not None:
            values.update(cls.override_env_config(policy))
        return cls(policy, cls.config_type.from_env_config(values), top_k)

    @classmethod
    @abstractmethod
    def restore(cls, source: PolicySource) -> NamedPolicy:
        """The trained policy of ``source``'s checkpoint (or, for a placer with :attr:`rule_controllers`,
        the rule controller ``source.rule``), named ``source.name``."""

    @classmethod
    def override_env_config(cls, policy: NamedPolicy) -> dict[str, Any]:
        """Env config values that change with an override topology (e.g. its node padding); none here."""
        return {}

    # --- what the API reports -----------------------------------------------------------------------
    @property
    def policy_name(self) -> str:
        """The served policy's name."""
        return self.policy.name

    @property
    def topology(self) -> str:
        """Topology URI the policy places on."""
        return self.config.topology

    @property
    @abstractmethod
    def num_nodes(self) -> int:
        """N: length of the per-node arrays of a network state."""

    @property
    @abstractmethod
    def num_actions(self) -> int:
        """Size of one agent decision's action space."""

    @abstractmethod
    def example(self) -> PlaceRequest:
        """A ``place_request`` body that this placer places as is."""

    @classmethod
    @abstractmethod
    def narrow_schema(cls, components: SchemaComponents, placers: Mapping[str, Self]) -> None:
        """Narrow the scenario's request schemas in ``components`` (in place) to what ``placers`` (by
        policy name, the default first) accept: per-node array lengths, index ranges (with
        :mod:`edgeplace.serve.schema_narrowing`). The policy names, batch limit and example are
        filled in generically."""

    # --- the two routes -----------------------------------------------------------------------------
    def job(self, body: PlaceRequest) -> JobT:
        """Check a ``place_request`` body against the topology; the job :meth:`place` takes."""
        (job,) = self.jobs(body.state, [body.request], ["request"])
        return job

    def place_batch(self, body: PlaceBatchRequest) -> bytes:
        """Place a ``place_batch_request`` body; returns its ``batch_placement`` JSON."""
        fields = [f"requests[{index}]" for index in range(len(body.requests))]
        return self.batch_json(body, self.jobs(body.state, body.requests, fields))

    def jobs(self, state: BaseModel, requests: Sequence[BaseModel], fields: Sequence[str]) -> list[JobT]:
        """Check a ``state`` body and the ``requests`` on it (at body paths ``fields``) against the
        topology; one job per request."""
        checked = self.check_state(state)
        return [
            self.request_job(checked, request, field) for request, field in zip(requests, fields, strict=True)
        ]

    @abstractmethod
    def check_state(self, state: Any) -> StateT:
        """Check a network ``state`` body against the topology (errors name ``state.<field>``)."""

    @abstractmethod
    def request_job(self, state: StateT, request: Any, field: str) -> JobT:
        """Check a ``request`` body (at body path ``field``) on a checked state; its job."""

    @abstractmethod
    def place(self, jobs: Sequence[JobT]) -> Sequence[bytes | ServeInputError]:
        """Place the jobs together (batched forwards; each job on its own state, unchanged);
        returns each job's ``placement`` JSON, in order, or the error that job answers with when
        only placing it shows it (e.g. 409: no feasible placement on its state)."""

    @abstractmethod
    def batch_json(self, body: Any, jobs: Sequence[JobT]) -> bytes:
        """Place the jobs of a ``place_batch_request`` ``body``; its ``batch_placement`` JSON."""

    # --- checks shared by the scenarios -------------------------------------------------------------
    def per_item(
        self, values: Sequence[Any], length: int, field: str, item: str, dtype: type = np.float64
    ) -> np.ndarray:
        """``values`` as a read-only array, checked to hold one entry per ``item`` of the topology.

        Raises:
            ServeInputError: 422 naming ``field`` when there are not ``length`` values.
        """
        if len(values) != length:
            raise ServeInputError(
                HTTPStatus.UNPROCESSABLE_ENTITY,
                field,
                f"expected {length} values (one per {item} of {self.topology}), got {len(values)}",
            )
        array = np.array(values, dtype=dtype)
        array.setflags(write=False)
        return array

    def check_index(self, index: int, count: int, field: str, item: str) -> None:
        """Raise a 422 naming ``field`` unless ``index`` is one of the topology's ``count`` ``item``s."""
        if index >= count:
            raise ServeInputError(
                HTTPStatus.UNPROCESSABLE_ENTITY,
                field,
                f"{item} index {index} out of range: {self.topology} has {count} {item}s (0..{count - 1})",
            )
