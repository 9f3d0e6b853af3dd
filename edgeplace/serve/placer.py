"""What a scenario implements to be served: :class:`ScenarioPlacer`.

A placer turns a request body in the scenario's own terms (network state + request) into the env's
observations with the scenario's own code, acts greedily with one trained policy and writes the
placement as JSON. The routes (:mod:`edgeplace.serve.routes`) are generic over it:

- ``POST /v1/{scenario}/place``: :meth:`ScenarioPlacer.job` validates the body against the topology,
  then concurrent jobs are placed together by :meth:`ScenarioPlacer.place` (``@serve.batch``);
- ``POST /v1/{scenario}/place-batch``: :meth:`ScenarioPlacer.place_batch` places many requests on one
  network state with batched forwards.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Generic, Protocol, Self, TypeVar

from pydantic import BaseModel

from edgeplace.serve.errors import ServeInputError
from edgeplace.serve.sources import PolicySource

JobT = TypeVar("JobT")
#: The JSON Schema components of an OpenAPI document, by model name.
SchemaComponents = dict[str, dict[str, Any]]


def schema_property(components: SchemaComponents, model: type[BaseModel], field: str) -> dict[str, Any]:
    """The JSON schema of ``model.field`` among ``components`` (to narrow it in place)."""
    assert field in model.model_fields, f"{model.__name__} has no field {field!r}"
    return components[model.__name__]["properties"][field]


@dataclass(frozen=True)
class ScenarioSchemas:
    """The pydantic bodies of a scenario's two routes.

    ``place_request`` and ``place_batch_request`` have an optional ``policy`` (a served policy's
    name); ``place_batch_request`` lists its requests in ``requests``.
    """

    place_request: type[BaseModel]
    placement: type[BaseModel]
    place_batch_request: type[BaseModel]
    batch_placement: type[BaseModel]


class NamedPolicy(Protocol):
    """A trained policy as a placer needs it at least: its name."""

    name: str


class TopologyConfig(Protocol):
    """A scenario's env config as a placer needs it at least: the topology URI."""

    topology: str


class ScenarioPlacer(ABC, Generic[JobT]):
    """Places one scenario's requests with one trained policy on one topology.

    Subclasses set the class attributes, narrow the types of ``policy`` and ``config`` and implement the
    abstract methods; every input check that needs the topology raises
    :class:`~edgeplace.serve.errors.ServeInputError` naming the field.

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
    #: OpenAPI descriptions of the two routes; ``place_batch_summary`` says whether the requests are
    #: placed independently on the state or in sequence.
    place_summary: ClassVar[str]
    place_batch_summary: ClassVar[str]
    #: Agent decisions in one placed request, for capacity planning (None: varies per request).
    decisions_per_request: ClassVar[int | None] = None

    @classmethod
    @abstractmethod
    def load(cls, source: PolicySource, top_k: int) -> Self:
        """Restore ``source``'s trained policy and build the placer on its (or the override) topology;
        ``top_k`` candidates are listed per decision."""

    def __init__(self, policy: NamedPolicy, config: TopologyConfig, top_k: int) -> None:
        self.policy, self.config, self.top_k = policy, config, top_k

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
    def job(self, body: Any) -> JobT:
        """Check a ``place_request`` body against the topology; the job :meth:`place` takes."""

    @abstractmethod
    def place(self, jobs: Sequence[JobT]) -> Sequence[bytes | ServeInputError]:
        """Place the jobs together (batched forwards; each job on its own state, unchanged);
        returns each job's ``placement`` JSON, in order, or the error that job answers with when
        only placing it shows it (e.g. 409: no feasible placement on its state)."""

    @abstractmethod
    def place_batch(self, body: Any) -> bytes:
        """Place a ``place_batch_request`` body; returns its ``batch_placement`` JSON."""

    @abstractmethod
    def example(self) -> BaseModel:
        """A ``place_request`` body that this placer places as is."""

    @classmethod
    def narrow_schema(cls, components: SchemaComponents, placers: Mapping[str, Self]) -> None:
        """Narrow the scenario's request schemas in ``components`` (in place) to what ``placers`` (by
        policy name, the default first) accept: per-node array lengths, index ranges. The policy
        names, batch limit and example are filled in generically."""
