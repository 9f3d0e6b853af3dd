"""The policies an application serves: loaded in each replica from their resolved checkpoints, and
looked up by scenario and name per request."""

from __future__ import annotations

from dataclasses import dataclass
from http import HTTPStatus

from edgeplace.serve.errors import ServeInputError
from edgeplace.serve.placer import ScenarioPlacer
from edgeplace.serve.scenarios import placer_class
from edgeplace.serve.schemas import PolicyInfo
from edgeplace.serve.sources import PolicySource


@dataclass(frozen=True)
class ServedPolicy:
    """A loaded policy and its placer."""

    source: PolicySource
    placer: ScenarioPlacer


class ServedPolicies:
    """The replica's policies; the first one of each scenario answers requests that name none.

    Args:
        sources: what to load (from :func:`edgeplace.serve.sources.resolve_sources`).
        top_k: candidates listed per decision.
    """

    def __init__(self, sources: list[PolicySource], top_k: int) -> None:
        self._by_scenario: dict[str, dict[str, ServedPolicy]] = {}
        for source in sources:
            placer = placer_class(source.scenario).load(source, top_k)
            self._by_scenario.setdefault(source.scenario, {})[source.name] = ServedPolicy(source, placer)

    def __len__(self) -> int:
        return sum(len(policies) for policies in self._by_scenario.values())

    @property
    def scenarios(self) -> list[str]:
        """The served scenarios, in configuration order."""
        return list(self._by_scenario)

    def placer(self, scenario: str, name: str | None) -> ScenarioPlacer:
        """The placer of policy ``name`` (default: the scenario's first) of ``scenario``.

        Raises:
            ServeInputError: 404 naming ``scenario`` or ``policy``.
        """
        policies = self._by_scenario.get(scenario)
        if policies is None:
            raise self.unknown_scenario(scenario)
        if name is None:
            return next(iter(policies.values())).placer
        if name not in policies:
            raise ServeInputError(
                HTTPStatus.NOT_FOUND,
                "policy",
                f"unknown policy {name!r} for {scenario}; served: {list(policies)}",
            )
        return policies[name].placer

    def placers(self, scenario: str) -> dict[str, ScenarioPlacer]:
        """The placers of ``scenario`` by policy name, its default first."""
        return {name: served.placer for name, served in self._by_scenario.get(scenario, {}).items()}

    def unknown_scenario(self, scenario: str) -> ServeInputError:
        """The 404 for a scenario this application does not serve."""
        served = sorted(self._by_scenario)
        return ServeInputError(
            HTTPStatus.NOT_FOUND, "scenario", f"unknown scenario {scenario!r}; served: {served}"
        )

    def infos(self) -> list[PolicyInfo]:
        """Every served policy, in configuration order within each scenario."""
        return [
            _info(served, default=index == 0)
            for policies in self._by_scenario.values()
            for index, served in enumerate(policies.values())
        ]


def _info(served: ServedPolicy, *, default: bool) -> PolicyInfo:
    source, placer = served.source, served.placer
    return PolicyInfo(
        name=source.name,
        scenario=source.scenario,
        checkpoint=str(source.checkpoint),
        topology=placer.topology,
        num_nodes=placer.num_nodes,
        num_actions=placer.num_actions,
        default=default,
        training=dict(source.metadata),
    )
