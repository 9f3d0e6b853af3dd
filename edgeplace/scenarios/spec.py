"""What a scenario declares: one :class:`ScenarioSpec` holding everything the platform needs from it.

Every registry of the platform (CLI choices, env registration, baselines, algorithms, checkpoint
loading, Serve placers, reproductions, sweep files) reads the specs found through the
``edgeplace.scenarios`` entry-point group (:mod:`edgeplace.scenarios.registry`). Heavy parts (RLlib
config builders, torch policies, Serve placers) are named by :class:`~edgeplace.scenarios.lazy.Lazy`
references, so declaring and listing a scenario imports neither torch nor Ray Serve.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from edgeplace.scenarios.lazy import Lazy, resolved

if TYPE_CHECKING:
    from ray.rllib.algorithms.algorithm import Algorithm
    from ray.rllib.algorithms.algorithm_config import AlgorithmConfig
    from ray.rllib.core.rl_module.rl_module import RLModuleSpec
    from ray.rllib.env.multi_agent_env import MultiAgentEnv

    from edgeplace.algos.train_config import TrainConfig
    from edgeplace.algos.training import TrainingResult
    from edgeplace.policy import Policy
    from edgeplace.serve.placer import ScenarioPlacer

EnvConfig = Mapping[str, Any]
#: ``(seed, env_config) -> Policy``: a baseline for envs built from ``env_config``.
BaselineFactory = Callable[[int, EnvConfig], "Policy"]
#: ``(path, *, name, env_config) -> Policy``: the policy of a trained checkpoint or run directory;
#: ``env_config`` (None: the checkpoint's own) is the env it will act in.
PolicyLoader = Callable[..., "Policy"]
#: ``(out, *, budget, address, num_gpus_per_learner, console, **options) -> report path``.
ReproductionRunner = Callable[..., Path]

#: A scenario id: lowercase words joined by hyphens (it is a CLI argument, an RLlib env name and a URL
#: segment).
SCENARIO_ID_PATTERN = re.compile(r"[a-z][a-z0-9]*(-[a-z0-9]+)*")


@dataclass(frozen=True)
class Preparation:
    """Stages an algorithm runs before its RLlib run (AgentVNE: NodeRank pre-training). A sweep runs
    them once, with its fixed config, and starts every trial from their output."""

    run: Callable[[TrainConfig, Path], TrainConfig]
    """Runs the stages into a run directory (resuming what is there) and returns the RLlib run's config."""
    inputs: tuple[str, ...]
    """The TrainConfig keys they read (``env_config``, ``algo_options.FIELD``): a sweep cannot search them."""


@dataclass(frozen=True)
class AlgorithmSpec:
    """An algorithm that trains a scenario: its RLlib config builder and what the platform needs
    around it."""

    build: Callable[[TrainConfig], AlgorithmConfig]
    """The RLlib config of a run (validates ``algo_options`` where ``takes_options``)."""
    description: str
    """One line for ``edgeplace scenarios`` and ``--help``."""
    takes_options: bool = True
    """Whether ``TrainConfig.algo_options`` means anything to it (if not, any option is an error)."""
    train_defaults: Mapping[str, Any] = field(default_factory=dict)
    """TrainConfig values the algorithm prescribes (the command line's options override them)."""
    trainer: Callable[..., TrainingResult] | None = None
    """Runs the whole training (``(config, run_dir, resume=, on_iteration=)``); None: one RLlib run."""
    rllib_subdir: str = ""
    """Where in the run directory ``trainer`` puts its RLlib run (checkpoints, metrics)."""
    preparation: Preparation | None = None
    """The stages ``trainer`` runs before the RLlib run (None: it has none)."""
    learner_metrics: tuple[str, ...] = ()
    """Learner results copied into ``metrics.csv`` per module, in column order."""
    module_spec: Callable[[Mapping[str, Any]], RLModuleSpec] | None = None
    """``model_config -> RLModuleSpec`` of one module, for builders that configure RLlib's own
    algorithms (MAPPO) on the scenario's observations; None where the builder fixes its module."""
    live_policy: Callable[[Algorithm, Sequence[str]], Policy] | None = None
    """``(algorithm, agent ids) -> Policy``: what a running algorithm's checkpoint would restore to,
    read from the algorithm itself (the contract tests check that the two act alike)."""


@dataclass(frozen=True)
class ReproduceSpec:
    """A paper's reproduction protocol on the scenario: ``edgeplace reproduce PAPER``."""

    paper: str
    """The CLI argument (``vamappo``)."""
    run: ReproductionRunner
    description: str
    """One line for ``--help``."""
    reads_data: bool = False
    """Whether ``run`` takes ``data_dir`` (``--data``: the dataset directory it reads)."""


@dataclass(frozen=True)
class ScenarioSpec:
    """Everything the platform needs from one scenario family.

    Attributes:
        scenario_id: the CLI argument, RLlib env name, Serve URL segment and checkpoint tag.
        description: one line for ``edgeplace scenarios``.
        env: builds an env from an RLlib ``env_config`` mapping (its class, usually).
        kpis: names of the KPIs the env reports at episode end, in report order.
        primary_kpis: the subset a comparison table leads with.
        agent_kpis: per-agent KPIs, reported beside ``kpis`` as ``"<agent>/<kpi>"`` for every agent.
        wall_clock_kpis: the subset of ``kpis`` measured in wall-clock time (solving times): the only
            ones that differ between two runs of the same seed.
        baselines: baseline name -> factory ``(seed, env_config) -> Policy``; each runs on any env
            config of the scenario.
        trained_baselines: comparison policies built the same way that load a trained checkpoint
            (named by an environment variable, say) and fail with a message saying which.
        algorithms: algorithm id -> its spec.
        load_policy: ``(path, *, name, env_config) -> Policy`` for the checkpoints its algorithms
            write; None when it has no algorithms.
        placer: its :class:`~edgeplace.serve.placer.ScenarioPlacer` subclass (None: not servable).
        reproduce: its paper's reproduction protocol, if it has one.
        sweep_files: its Tune sweep files, as ``"package:relative/path.yaml"`` resources.
        has_splits: the env takes ``split`` (train/test request streams) in its config.
        agents_config: maps a number of agents (``--agents``) to env config entries; None when the
            topology and workload fix the agents.
        planner_memory: builds its planner's memory from rollouts (``edgeplace planners build-memory``):
            ``(out, *, windows, env_config, seed, epochs, console) -> out``; None when it has none.
    """

    scenario_id: str
    description: str
    env: Callable[[EnvConfig | None], MultiAgentEnv]
    kpis: tuple[str, ...]
    primary_kpis: tuple[str, ...]
    agent_kpis: tuple[str, ...] = ()
    wall_clock_kpis: tuple[str, ...] = ()
    baselines: Mapping[str, BaselineFactory] = field(default_factory=dict)
    trained_baselines: Mapping[str, BaselineFactory] = field(default_factory=dict)
    algorithms: Mapping[str, AlgorithmSpec] = field(default_factory=dict)
    load_policy: PolicyLoader | None = None
    placer: type[ScenarioPlacer] | Lazy | None = None
    reproduce: ReproduceSpec | None = None
    sweep_files: tuple[str, ...] = ()
    has_splits: bool = False
    agents_config: Callable[[int], dict[str, Any]] | None = None
    planner_memory: Callable[..., Path] | None = None

    def __post_init__(self) -> None:
        where = f"scenario {self.scenario_id!r}"
        if not SCENARIO_ID_PATTERN.fullmatch(self.scenario_id):
            raise ValueError(f"{where}: the id must be lowercase words joined by hyphens")
        if not self.kpis or len(set(self.kpis)) != len(self.kpis):
            raise ValueError(f"{where}: kpis must be non-empty and unique, got {list(self.kpis)}")
        for name in ("primary_kpis", "wall_clock_kpis"):
            stray = [kpi for kpi in getattr(self, name) if kpi not in self.kpis]
            if stray:
                raise ValueError(f"{where}: {name} {stray} are not among its kpis {list(self.kpis)}")
        clashes = sorted(set(self.baselines) & set(self.trained_baselines))
        if clashes:
            raise ValueError(f"{where}: {clashes} are both baselines and trained_baselines")
        if self.algorithms and self.load_policy is None:
            raise ValueError(f"{where}: it has algorithms, so it needs load_policy for their checkpoints")
        for sweep in self.sweep_files:
            Lazy(sweep)  # the same "package:path" form; raises naming the malformed entry

    # --- envs --------------------------------------------------------------------------------
    def make_env(self, env_config: EnvConfig | None = None) -> MultiAgentEnv:
        """An env of this scenario built from ``env_config`` (its defaults fill the rest)."""
        return self.env(env_config)

    def env_config(
        self,
        *,
        topology: str | None = None,
        split: str | None = None,
        max_nodes: int | None = None,
        agents: int | None = None,
    ) -> dict[str, Any]:
        """The env config of a command-line run: only the given settings (the env's defaults fill the
        rest); ``split`` only for scenarios with train/test splits.

        Raises:
            ValueError: ``agents`` for a scenario whose agents are not configurable, or a count it
                cannot have.
        """
        config: dict[str, Any] = {}
        if agents is not None:
            if self.agents_config is None:
                raise ValueError(f"--agents: {self.scenario_id} has no agent count option")
            config.update(self.agents_config(agents))
        if topology is not None:
            config["topology"] = topology
        if max_nodes is not None:
            config["max_nodes"] = max_nodes
        if split is not None and self.has_splits:
            config["split"] = split
        return config

    def reported_kpis(self, agents: Sequence[str]) -> set[str]:
        """Every KPI key an episode of ``agents`` reports: ``kpis`` and each agent's ``agent_kpis``."""
        return {*self.kpis, *(f"{agent}/{kpi}" for agent in agents for kpi in self.agent_kpis)}

    # --- policies ----------------------------------------------------------------------------
    def baseline_names(self) -> list[str]:
        """Names of its baselines and trained baselines, sorted."""
        return sorted({**self.baselines, **self.trained_baselines})

    def make_baseline(self, name: str, *, seed: int = 0, env_config: EnvConfig | None = None) -> Policy:
        """(Trained) baseline ``name`` for envs built from ``env_config``; the error names the known ones."""
        factories = {**self.baselines, **self.trained_baselines}
        if name not in factories:
            raise KeyError(
                f"no baseline {name!r} for scenario {self.scenario_id!r}; known: {self.baseline_names()}"
            )
        return factories[name](seed, env_config or {})

    def algorithm(self, algo: str) -> AlgorithmSpec:
        """Algorithm ``algo`` of this scenario; the error names the ones that train it."""
        if algo not in self.algorithms:
            raise KeyError(
                f"algorithm {algo!r} does not train scenario {self.scenario_id!r}; "
                f"algorithms for it: {sorted(self.algorithms) or 'none'}"
            )
        return self.algorithms[algo]

    def policy_from_checkpoint(
        self, path: str | Path, *, name: str | None = None, env_config: EnvConfig | None = None
    ) -> Policy:
        """The policy of a checkpoint its algorithms wrote (or of a run directory: its latest)."""
        if self.load_policy is None:
            raise ValueError(f"scenario {self.scenario_id!r} has no trained policies to load")
        return self.load_policy(path, name=name, env_config=env_config)

    # --- Serve and Tune ----------------------------------------------------------------------
    def placer_class(self) -> type[ScenarioPlacer] | None:
        """Its Serve placer class (imported now), or None if it is not servable."""
        return resolved(self.placer)

    def sweep_paths(self) -> list[Traversable]:
        """Its sweep files (resources of the packages that ship them)."""
        paths = []
        for sweep in self.sweep_files:
            package, _, relative = sweep.partition(":")
            paths.append(resources.files(package).joinpath(relative))
        return paths
