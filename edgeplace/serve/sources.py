"""The checkpoints an application serves, resolved and checked where the application is built
(bad paths and unservable scenarios fail there, before any replica starts)."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from edgeplace.algos.checkpoints import read_metadata, resolve_checkpoint
from edgeplace.serve.settings import ServeArgs


@dataclass(frozen=True)
class PolicySource:
    """A checkpoint to serve.

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

    @property
    def env_config(self) -> dict[str, Any]:
        """The training env config, on the override topology if one is given."""
        values = dict(self.metadata.get("env_config", {}))
        if self.topology is not None:
            values["topology"] = self.topology
        return values


def resolve_sources(args: ServeArgs, served_scenarios: Collection[str]) -> list[PolicySource]:
    """Resolve every checkpoint of ``args``; names must be unique and scenarios in ``served_scenarios``.

    Raises:
        CheckpointError: a path that is not an edgeplace checkpoint or run directory.
        ValueError: an unservable scenario or a duplicate policy name.
    """
    sources: list[PolicySource] = []
    for spec in args.checkpoints:
        checkpoint = resolve_checkpoint(spec.path).resolve()
        metadata = read_metadata(checkpoint)
        scenario = metadata.get("scenario")
        if scenario not in served_scenarios:
            raise ValueError(
                f"{checkpoint}: scenario {scenario!r} has no Serve placer; served: {sorted(served_scenarios)}"
            )
        name = spec.name or metadata.get("name") or checkpoint.name
        if any(source.name == name for source in sources):
            raise ValueError(f"policy name {name!r} is used twice; name the checkpoints NAME=PATH")
        topology = spec.topology or args.topology
        sources.append(PolicySource(name, scenario, checkpoint, metadata, topology))
    return sources
