"""The sweep file: one YAML that names scenario, algorithm, fixed config, search space, scheduler,
metric, stop criteria, per-trial resources, checkpointing and loggers.

Every key is checked before any trial starts; errors name the key path (``train.num_epochs: expected
int, got 'ten'``). See ``edgeplace/tune_configs/`` for complete examples.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any, Self, get_type_hints

import yaml

from edgeplace.algos.registry import algorithm_preparation
from edgeplace.algos.train_config import TrainConfig
from edgeplace.scenarios import get_scenario
from edgeplace.topology.uri import absolute_topology_uri
from edgeplace.tuning.checkpoint_spec import TRAIN_CHECKPOINT_FIELDS, CheckpointSpec
from edgeplace.tuning.preflight import preflight
from edgeplace.tuning.resources_spec import TRAIN_RESOURCE_FIELDS, ResourcesSpec
from edgeplace.tuning.scheduler_spec import SchedulerSpec
from edgeplace.tuning.search_space import SearchDimension, parse_dimensions
from edgeplace.tuning.typecheck import (
    SweepSpecError,
    check_type,
    dataclass_from_mapping,
    key_path,
    reject_unknown_keys,
    require_mapping,
)

#: TrainConfig fields set by top-level keys of the sweep file.
TRAIN_TOP_LEVEL_FIELDS = ("scenario", "algo")
#: Sections of the sweep file parsed by a dedicated parser rather than by field type.
SECTION_TRAIN = "train"
SECTION_SEARCH_SPACE = "search_space"
SECTION_SCHEDULER = "scheduler"
SECTION_RESOURCES = "resources"
SECTION_CHECKPOINT = "checkpoint"
SECTION_STOP = "stop"
#: URI schemes of remote storage (``s3://``, ``gs://``, ...) contain this.
URI_MARKER = "://"


class Mode(StrEnum):
    """Whether the metric is maximised or minimised."""

    MAX = "max"
    MIN = "min"


class LoggerName(StrEnum):
    """Optional experiment trackers (Tune's TensorBoard, CSV and JSON loggers always run)."""

    WANDB = "wandb"


@dataclass(frozen=True)
class SweepSpec:
    """A validated sweep. Build it with :meth:`from_yaml` / :meth:`from_dict`; construction checks
    that the fixed config and every searched value build an RLlib config (no trial starts first)."""

    name: str
    """Experiment name: the directory under ``storage_path``."""
    train: TrainConfig
    """The fixed config of every trial (``scenario``, ``algo``, ``resources`` and ``checkpoint``
    already applied); searched keys override it per trial."""
    search_space: tuple[SearchDimension, ...] = ()
    """Searched hyperparameters (TrainConfig fields or ``model|env_config|algo_options.FIELD``)."""
    metric: str = "env_runners/episode_return_mean"
    """The result key trials are ranked, scheduled and checkpointed by (e.g. ``env_runners/kpi_utility``
    over training episodes, ``evaluation/env_runners/kpi_reward`` for algorithms that evaluate)."""
    mode: Mode = Mode.MAX
    """max | min."""
    num_samples: int = 1
    """Samples of the search space (each grid point is run ``num_samples`` times)."""
    max_concurrent_trials: int | None = None
    """At most this many trials at once; null lets the cluster's free resources decide."""
    search_seed: int | None = 0
    """Seed of the random sampling of choice/uniform/loguniform (null: unseeded)."""
    scheduler: SchedulerSpec = field(default_factory=SchedulerSpec)
    """FIFO, ASHA or PBT."""
    stop: Mapping[str, float] = field(default_factory=dict)
    """Result key -> value: a trial stops once the result reaches it (>=); the ``train.timesteps``
    budget stops it in any case."""
    resources: ResourcesSpec = field(default_factory=ResourcesSpec)
    """Per-trial resources, as RLlib resource settings."""
    checkpoint: CheckpointSpec = field(default_factory=CheckpointSpec)
    """Checkpoint frequency and retention."""
    loggers: tuple[LoggerName, ...] = ()
    """Extra trackers: ``[wandb]`` (offline unless a W&B key or WANDB_MODE is configured)."""
    wandb_project: str = "edgeplace"
    """W&B project of the runs."""
    storage_path: str = "runs/tune"
    """Where experiments go: a local directory (relative to the working directory) or a URI such as
    ``s3://bucket/edgeplace``; on a multi-node cluster it must be shared storage."""
    export_best_to: str | None = None
    """Local directory that receives a copy of the best checkpoint after the sweep (for
    ``edgeplace evaluate`` / ``serve`` when ``storage_path`` is remote)."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "mode", Mode(self.mode))
        object.__setattr__(self, "loggers", tuple(LoggerName(name) for name in self.loggers))
        if not self.name or "/" in self.name:
            raise SweepSpecError(f"name: must be a non-empty directory name, got {self.name!r}")
        if self.num_samples < 1:
            raise SweepSpecError(f"num_samples: must be >= 1, got {self.num_samples}")
        if self.max_concurrent_trials is not None and self.max_concurrent_trials < 1:
            raise SweepSpecError(f"max_concurrent_trials: must be >= 1, got {self.max_concurrent_trials}")
        owned = {**self.resources.train_overrides(), **self.checkpoint.train_overrides()}
        for name, value in owned.items():
            if getattr(self.train, name) != value:
                raise SweepSpecError(f"train.{name}: is set by the resources/checkpoint section")
        if self.is_remote and algorithm_preparation(self.train.scenario, self.train.algo) is not None:
            raise SweepSpecError(
                f"storage_path: {self.train.algo} prepares its trials with stages whose output they read "
                f"from files under the experiment directory; use a local or shared-filesystem path, not "
                f"{self.storage_path!r}"
            )
        preflight(
            self.train, self.search_space, self.scheduler, self.metric, self.resources, self.checkpoint.every
        )

    @property
    def experiment_path(self) -> str:
        """The experiment directory: ``storage_path/name`` (local paths made absolute)."""
        return f"{self.storage_root}/{self.name}"

    @property
    def storage_root(self) -> str:
        """``storage_path`` as Tune takes it: a URI, or an absolute local path."""
        if self.is_remote:
            return self.storage_path.rstrip("/")
        return str(Path(self.storage_path).expanduser().resolve())

    @property
    def is_remote(self) -> bool:
        """Whether experiments go to remote storage (a URI) rather than a local directory."""
        return URI_MARKER in self.storage_path

    @classmethod
    def from_yaml(cls, path: str | Path) -> Self:
        """Read and validate a sweep file; ``name`` defaults to the file's stem."""
        path = Path(path)
        try:
            raw = yaml.safe_load(path.read_text())
        except yaml.YAMLError as err:
            raise SweepSpecError(f"{path}: not valid YAML ({err})") from None
        raw = dict(require_mapping(str(path), raw if raw is not None else {}))
        raw.setdefault("name", path.stem)
        return cls.from_dict(raw)

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> Self:
        """Validate a sweep mapping (the YAML's top level) key by key."""
        raw = require_mapping("sweep", raw)
        known = {*TRAIN_TOP_LEVEL_FIELDS, *(f.name for f in dataclasses.fields(cls))}
        reject_unknown_keys("", raw, sorted(known))
        for name in ("name", *TRAIN_TOP_LEVEL_FIELDS):
            if name not in raw:
                raise SweepSpecError(f"{name}: required")
        hints = get_type_hints(cls)
        parsers: dict[str, Callable[[str, Any], Any]] = {
            SECTION_SEARCH_SPACE: parse_dimensions,
            SECTION_SCHEDULER: lambda where, value: dataclass_from_mapping(
                where, SchedulerSpec, value, {"mutations": parse_dimensions}
            ),
            SECTION_RESOURCES: lambda where, value: dataclass_from_mapping(where, ResourcesSpec, value),
            SECTION_CHECKPOINT: lambda where, value: dataclass_from_mapping(where, CheckpointSpec, value),
            SECTION_STOP: _parse_stop,
        }
        values = {
            key: parsers[key](key, value) if key in parsers else check_type(key, value, hints[key])
            for key, value in raw.items()
            if key != SECTION_TRAIN and key not in TRAIN_TOP_LEVEL_FIELDS
        }
        owned = {
            **values.get(SECTION_RESOURCES, ResourcesSpec()).train_overrides(),
            **values.get(SECTION_CHECKPOINT, CheckpointSpec()).train_overrides(),
        }
        top_level = {name: raw[name] for name in TRAIN_TOP_LEVEL_FIELDS}
        values[SECTION_TRAIN] = _train_config(raw.get(SECTION_TRAIN), top_level, owned)
        return cls(**values)


def _parse_stop(where: str, raw: Any) -> dict[str, float]:
    return {
        key: check_type(key_path(where, key), value, float)
        for key, value in require_mapping(where, raw).items()
    }


def _train_config(raw: Any, top_level: Mapping[str, Any], owned: Mapping[str, Any]) -> TrainConfig:
    """The fixed TrainConfig: the ``train`` section checked against TrainConfig's fields and types, over
    the values the algorithm prescribes (as for ``edgeplace train``), plus the top-level ``scenario`` /
    ``algo`` and the fields owned by other sections."""
    hints = get_type_hints(TrainConfig)
    values = {}
    for key, value in require_mapping(SECTION_TRAIN, raw if raw is not None else {}).items():
        where = key_path(SECTION_TRAIN, key)
        if key in TRAIN_TOP_LEVEL_FIELDS:
            raise SweepSpecError(f"{where}: set it at the top level of the sweep file")
        if key in TRAIN_RESOURCE_FIELDS or key in TRAIN_CHECKPOINT_FIELDS:
            section = SECTION_RESOURCES if key in TRAIN_RESOURCE_FIELDS else SECTION_CHECKPOINT
            raise SweepSpecError(f"{where}: set it in the {section} section")
        if key not in hints:
            raise SweepSpecError(f"{where}: unknown key; known: {sorted(_train_keys())}")
        values[key] = check_type(where, value, hints[key])
    if isinstance(values.get("env_config", {}).get("topology"), str):
        # Tune runs trials in their own directories: pin relative dataset paths to the launch directory.
        env_config = dict(values["env_config"])
        env_config["topology"] = absolute_topology_uri(env_config["topology"])
        values["env_config"] = env_config
    for name, value in top_level.items():
        check_type(name, value, hints[name])
    try:
        scenario = get_scenario(top_level["scenario"])
    except KeyError as err:
        raise SweepSpecError(f"scenario: {err.args[0]}") from None
    try:
        prescribed = dict(scenario.algorithm(top_level["algo"]).train_defaults)
    except KeyError as err:
        raise SweepSpecError(f"algo: {err.args[0]}") from None
    try:
        return TrainConfig.from_dict({**prescribed, **values, **top_level, **owned})
    except ValueError as err:
        raise SweepSpecError(f"{SECTION_TRAIN}: {err}") from None


def _train_keys() -> set[str]:
    """The TrainConfig fields a ``train`` section may set."""
    owned = {*TRAIN_TOP_LEVEL_FIELDS, *TRAIN_RESOURCE_FIELDS, *TRAIN_CHECKPOINT_FIELDS}
    return {f.name for f in dataclasses.fields(TrainConfig)} - owned
