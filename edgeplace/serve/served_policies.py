"""The policies an application serves: checkpoints resolved where the app is built, then loaded in
each replica and looked up by scenario and name per request."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from http import HTTPStatus
from pathlib import Path
from typing import Any

from edgeplace.algos.checkpoints import read_metadata, resolve_checkpoint
from edgeplace.algos.module_policy import ModulePolicy
from edgeplace.serve.errors import ServeInputError
from edgeplace.serve.genai_chain_placer import SCENARIO_ID as CHAIN_SCENARIO
from edgeplace.serve.genai_chain_placer import ChainPlacer
from edgeplace.serve.schemas import PolicyInfo
from edgeplace.serve.settings import ServeArgs

#: Scenarios with a Serve placer.
SERVED_SCENARIOS = (CHAIN_SCENARIO,)


@dataclass(frozen=True)
class PolicySource:
    """A checkpoint to serve, resolved and checked where the application is built.

    Attributes:
        name: the policy's name in the API.
        scenario: its scenario id (from the checkpoint's metadata).
        checkpoint: absolute path of the algorithm checkpoint.
        metadata: the checkpoint's edgeplace metadata.
        topology: override topology URI, or None for the training one.
    """

    name: str
    scenario: str
    checkpoint: Path
    metadata: Mapping[str, Any]
    topology: str | None


def resolve_sources(args: ServeArgs) -> list[PolicySource]:
    """Resolve every checkpoint of ``args``; names must be unique and scenarios servable.

    Raises:
        CheckpointError: a path that is not an edgeplace checkpoint or run directory.
        ValueError: an unservable scenario or a duplicate policy name.
    """
    sources: list[PolicySource] = []
    for spec in args.checkpoints:
        checkpoint = resolve_checkpoint(spec.path).resolve()
        metadata = read_metadata(checkpoint)
        scenario = metadata.get("scenario")
        if scenario not in SERVED_SCENARIOS:
            raise ValueError(
                f"{checkpoint}: scenario {scenario!r} has no Serve placer; served: {SERVED_SCENARIOS}"
            )
        name = spec.name or metadata.get("name") or checkpoint.name
        if any(source.name == name for source in sources):
            raise ValueError(f"policy name {name!r} is used twice; name the checkpoints NAME=PATH")
        topology = spec.topology or args.topology
        sources.append(PolicySource(name, scenario, checkpoint, metadata, topology))
    return sources


@dataclass(frozen=True)
class ServedPolicy:
    """A loaded policy and its placer."""

    source: PolicySource
    placer: ChainPlacer


class ServedPolicies:
    """The replica's policies; the first one of each scenario answers requests that name none.

    Args:
        sources: what to load (from :func:`resolve_sources`).
        top_k: candidates listed per stage.
    """

    def __init__(self, sources: list[PolicySource], top_k: int) -> None:
        self._by_scenario: dict[str, dict[str, ServedPolicy]] = {}
        for source in sources:
            policy = ModulePolicy.from_checkpoint(source.checkpoint, name=source.name)
            env_config = source.metadata.get("env_config", {})
            placer = ChainPlacer.from_env_config(policy, env_config, source.topology, top_k)
            self._by_scenario.setdefault(source.scenario, {})[source.name] = ServedPolicy(source, placer)

    def __len__(self) -> int:
        return sum(len(policies) for policies in self._by_scenario.values())

    def placer(self, scenario: str, name: str | None) -> ChainPlacer:
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

    def placers(self, scenario: str) -> dict[str, ChainPlacer]:
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
        num_instances=placer.num_instances,
        default=default,
        training=dict(source.metadata),
    )
