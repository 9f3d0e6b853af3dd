"""The env config of the lm-inference scenario: the cluster, the episode's length and measured window,
the workload and the training reward's settings (spec d, "Episodes" and "Rewards and delayed credit")."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any, Self

from edgeplace.config_mapping import from_mapping
from edgeplace.envs.lm_inference.case_memory import MemoryScope
from edgeplace.envs.lm_inference.cluster import DEFAULT_TOPOLOGY, Cluster, load_cluster
from edgeplace.envs.lm_inference.episode import RunSpec
from edgeplace.envs.lm_inference.params import LmInferenceParams
from edgeplace.workloads.lm_inference import Workload


@dataclass(frozen=True)
class LmInferenceConfig:
    """An lm-inference env (defaults: the training episode of spec d, 4 epochs = 200 slots).

    An episode runs ``epochs`` x ``epoch_slots`` slots; its KPIs cover the cohorts of slots
    [``warmup_epochs`` x ``epoch_slots``, end - ``drain_slots``), as an evaluation run of
    :class:`~edgeplace.envs.lm_inference.episode.RunSpec` measures them.
    """

    topology: str = DEFAULT_TOPOLOGY
    """Topology URI of the workers (``testbed:bristol``: the paper's six)."""
    hardware_seed: int = 0
    """Seed of the worker profiles on topologies without LM hardware."""
    epochs: int = 4
    epoch_slots: int = 50
    """Slots per planning epoch (the planner acts every ``epoch_slots`` slots)."""
    warmup_epochs: int = 1
    drain_slots: int = 30
    workload: str = Workload.STEADY.value
    scheduler_role_mask: bool = True
    """Mask the scheduler's off-role destinations (False: feasibility only)."""
    reward_window_slots: int = 5
    """The training reward covers requests resolved in the last this-many slots."""
    shaping: bool = True
    """Add the potential-based shaping term to the training reward."""
    shaping_gamma: float = 0.99
    """gamma of the shaping term, per slot."""
    scripted_agents: tuple[str, ...] = ()
    """Agents the env factory plays itself with the random-policy reference's rules (uniform plan, JSQ
    routing, role-enacting deployment), hidden from the learner: staged training (spec d) trains the
    deployers with ``("planner", "scheduler")`` scripted, then the scheduler with ``("planner",)``."""
    memory_scope: str = MemoryScope.EPISODE.value
    """Life of the env's case memory: ``episode`` (emptied at each episode start, so an episode depends
    only on (seed, episode index)) or ``env`` (kept across this env instance's episodes, as the paper
    does: an episode then depends on the episodes before it)."""
    memory_file: str | None = None
    """JSONL case memory (:meth:`CaseMemory.save`) that seeds the env's memory: read at construction,
    its cases added at each episode start (scope ``episode``) or once (scope ``env``)."""

    def __post_init__(self) -> None:
        where = "lm-inference env_config"
        for f in fields(self):
            value = getattr(self, f.name)
            if f.type == "int" and (isinstance(value, bool) or not isinstance(value, int)):
                raise ValueError(f"{where}: {f.name} must be an integer, got {value!r}")
            if f.type == "bool" and not isinstance(value, bool):
                raise ValueError(f"{where}: {f.name} must be true or false, got {value!r}")
        scripted = self.scripted_agents
        if not isinstance(scripted, list | tuple) or not all(isinstance(a, str) for a in scripted):
            raise ValueError(f"{where}: scripted_agents must be a list of agent ids, got {scripted!r}")
        object.__setattr__(self, "scripted_agents", tuple(self.scripted_agents))
        if len(set(self.scripted_agents)) != len(self.scripted_agents):
            raise ValueError(f"{where}: scripted_agents lists an agent twice: {list(self.scripted_agents)}")
        if self.epoch_slots < 1 or self.reward_window_slots < 1:
            raise ValueError(f"{where}: epoch_slots and reward_window_slots must be >= 1")
        if not 0.0 <= self.shaping_gamma <= 1.0:
            raise ValueError(f"{where}: shaping_gamma must be in [0, 1], got {self.shaping_gamma!r}")
        if self.memory_scope not in tuple(MemoryScope):
            scopes = [scope.value for scope in MemoryScope]
            raise ValueError(f"{where}: memory_scope must be one of {scopes}, got {self.memory_scope!r}")
        if self.memory_file is not None and not (isinstance(self.memory_file, str) and self.memory_file):
            raise ValueError(f"{where}: memory_file must be a path or null, got {self.memory_file!r}")
        try:
            Workload(self.workload)
            self.run_spec.cohort_slots(self.params)
        except ValueError as err:
            raise ValueError(f"{where}: {err}") from None

    @classmethod
    def from_env_config(cls, env_config: Mapping[str, Any] | Self | None) -> Self:
        """From an RLlib ``env_config`` (unknown keys raise, naming them)."""
        if isinstance(env_config, cls):
            return env_config
        return from_mapping(cls, env_config, "lm-inference env_config")

    @property
    def params(self) -> LmInferenceParams:
        """The system model's parameters."""
        return LmInferenceParams(epoch_slots=self.epoch_slots)

    @property
    def run_spec(self) -> RunSpec:
        """The episode as an evaluation run (length, measured window, workload)."""
        return RunSpec(self.epochs, self.warmup_epochs, self.drain_slots, Workload(self.workload))

    @property
    def horizon(self) -> int:
        """Slots per episode."""
        return self.epochs * self.epoch_slots

    def cluster(self) -> Cluster:
        """The workers of ``topology`` (built once per process).

        Raises:
            ValueError: a topology that cannot be loaded, naming the URI.
        """
        try:
            return load_cluster(self.topology, self.hardware_seed)
        except ValueError as err:  # TopologyError included
            raise ValueError(f"lm-inference env_config: topology {self.topology!r}: {err}") from err
