"""The policies an application serves, resolved and checked where the application is built (bad
paths, unservable scenarios and unknown rule controllers fail there, before any replica starts):
trained checkpoints, and checkpoint-free rule controllers (``rule:SCENARIO[:CONTROLLER]``)."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from edgeplace.algos.checkpoints import read_metadata, resolve_checkpoint
from edgeplace.serve.settings import RULE_PREFIX, CheckpointSpec, ServeArgs


@dataclass(frozen=True)
class PolicySource:
    """A policy to serve: a checkpoint, or a rule controller (``rule`` set).

    Attributes:
        name: the policy's name in the API.
        scenario: its scenario id (from the checkpoint's metadata, or the rule's spelling).
        checkpoint: absolute path of the algorithm checkpoint; for a rule controller its spelling
            ``rule:SCENARIO:CONTROLLER`` (what ``/v1/policies`` lists as its checkpoint).
        metadata: the checkpoint's edgeplace metadata; for a rule controller its scenario, name and
            ``rule`` (the controller), with an empty env config (the scenario's default).
        topology: override topology URI, or None for the training (or default) one.
        rule: the rule controller to serve without a checkpoint, or None for a checkpoint.
    """

    name: str
    scenario: str
    checkpoint: Path | str
    metadata: Mapping[str, Any]
    topology: str | None
    rule: str | None = None

    @property
    def env_config(self) -> dict[str, Any]:
        """The training env config (a rule's: none, the scenario's defaults), on the override topology if
        one is given."""
        values = dict(self.metadata.get("env_config", {}))
        if self.topology is not None:
            values["topology"] = self.topology
        return values


def resolve_sources(args: ServeArgs, served_scenarios: Collection[str]) -> list[PolicySource]:
    """Resolve every policy of ``args``; names must be unique and scenarios in ``served_scenarios``.

    Raises:
        CheckpointError: a path that is not an edgeplace checkpoint or run directory.
        ValueError: an unservable scenario, a rule controller its placer does not serve, or a duplicate
            policy name.
    """
    sources: list[PolicySource] = []
    for spec in args.checkpoints:
        if spec.rule is not None:
            source = rule_source(spec, served_scenarios, args.topology)
        else:
            source = checkpoint_source(spec, served_scenarios, args.topology)
        if any(other.name == source.name for other in sources):
            raise ValueError(f"policy name {source.name!r} is used twice; name the policies NAME=PATH")
        sources.append(source)
    return sources


def checkpoint_source(
    spec: CheckpointSpec, served_scenarios: Collection[str], topology: str | None
) -> PolicySource:
    """The source of a checkpoint ``spec`` (``topology``: the application's override)."""
    checkpoint = resolve_checkpoint(spec.path).resolve()
    metadata = read_metadata(checkpoint)
    scenario = metadata.get("scenario")
    if scenario not in served_scenarios:
        raise ValueError(
            f"{checkpoint}: scenario {scenario!r} has no Serve placer; served: {sorted(served_scenarios)}"
        )
    name = spec.name or metadata.get("name") or checkpoint.name
    return PolicySource(name, scenario, checkpoint, metadata, spec.topology or topology)


def rule_source(
    spec: CheckpointSpec, served_scenarios: Collection[str], topology: str | None
) -> PolicySource:
    """The source of a rule ``spec``: its scenario's placer must serve the controller (default: the
    placer's first); ``topology``: the application's override.

    Raises:
        ValueError: naming the scenario (unservable, or without a served rule controller) or the
            controller (one its placer does not serve).
    """
    from edgeplace.serve.scenarios import placer_class  # it imports the placers, which import this

    scenario, controller = spec.rule_scenario, spec.rule_controller
    spelled = f"{RULE_PREFIX}{spec.rule}"
    if scenario not in served_scenarios:
        raise ValueError(
            f"{spelled}: scenario {scenario!r} has no Serve placer; served: {sorted(served_scenarios)}"
        )
    controllers = placer_class(scenario).rule_controllers
    if not controllers:
        rule_scenarios = [s for s in sorted(served_scenarios) if placer_class(s).rule_controllers]
        raise ValueError(
            f"{spelled}: the {scenario} placer serves no rule controller, only checkpoints; "
            f"rule policies are served for {rule_scenarios}"
        )
    controller = controller or controllers[0]
    if controller not in controllers:
        raise ValueError(
            f"{spelled}: the {scenario} placer does not serve rule controller {controller!r}; "
            f"served: {list(controllers)}"
        )
    name = spec.name or controller
    metadata = {"scenario": scenario, "name": name, "rule": controller, "env_config": {}}
    checkpoint = f"{RULE_PREFIX}{scenario}:{controller}"
    return PolicySource(name, scenario, checkpoint, metadata, spec.topology or topology, rule=controller)
