"""Checks that run before any trial starts: the fixed config and every searched value build the
scenario's env and the algorithm's RLlib config, the metric exists, the scheduler fits the checkpoints."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, get_type_hints

from ray.rllib.core.rl_module.multi_rl_module import MultiRLModuleSpec
from ray.rllib.utils.metrics import ENV_RUNNER_RESULTS, EVALUATION_RESULTS

from edgeplace.algos.kpi_callback import KPI_METRIC_PREFIX
from edgeplace.algos.registry import algorithm_preparation, build_algorithm_config
from edgeplace.algos.train_config import TrainConfig
from edgeplace.scenarios import ScenarioSpec, get_scenario
from edgeplace.tuning.resources_spec import TRAIN_RESOURCE_FIELDS, ResourcesSpec
from edgeplace.tuning.scheduler_spec import SchedulerKind, SchedulerSpec
from edgeplace.tuning.search_space import CONTINUOUS, KEY_SEPARATOR, SearchDimension, nest, overlay
from edgeplace.tuning.typecheck import SweepSpecError, check_type, key_path

#: The TrainConfig field holding the RLModule's ``model_config``.
MODEL_FIELD = "model"
#: The TrainConfig field holding the scenario's ``env_config``.
ENV_CONFIG_FIELD = "env_config"
#: The TrainConfig field holding algorithm-specific settings (VAMAPPO's switches).
ALGO_OPTIONS_FIELD = "algo_options"
#: TrainConfig fields whose own keys are searched (``model.d_model``), not the mapping as a whole.
MAPPING_FIELDS = (MODEL_FIELD, ENV_CONFIG_FIELD, ALGO_OPTIONS_FIELD)
#: TrainConfig fields a search space may not vary (set once per sweep by other sections).
UNSEARCHABLE_FIELDS = ("scenario", "algo", "checkpoint_every", "keep_checkpoints", *TRAIN_RESOURCE_FIELDS)
#: Result keys of KPIs: of training episodes (``env_runners/kpi_utility``) and of the evaluations
#: that some algorithms run (``evaluation/env_runners/kpi_reward``).
KPI_METRIC_PREFIXES = (
    f"{ENV_RUNNER_RESULTS}/{KPI_METRIC_PREFIX}",
    f"{EVALUATION_RESULTS}/{ENV_RUNNER_RESULTS}/{KPI_METRIC_PREFIX}",
)
#: Errors a bad config value raises while an env or an RLlib config is built.
BUILD_ERRORS = (ValueError, KeyError, TypeError, FileNotFoundError)


def preflight(
    train: TrainConfig,
    search_space: Iterable[SearchDimension],
    scheduler: SchedulerSpec,
    metric: str,
    resources: ResourcesSpec,
    checkpoint_every: int,
) -> None:
    """Raise :class:`SweepSpecError` naming the key if any part of a sweep cannot run."""
    scenario = get_scenario(train.scenario)
    _check_metric(metric, scenario)
    if scheduler.type is SchedulerKind.PBT and scheduler.perturbation_interval % checkpoint_every:
        raise SweepSpecError(
            f"scheduler.perturbation_interval: {scheduler.perturbation_interval} must be a multiple of "
            f"checkpoint.every ({checkpoint_every}), so PBT finds a checkpoint when it exploits"
        )
    algo_config = _build(train, scenario, env_where=f"train.{ENV_CONFIG_FIELD}", where="train")
    try:
        algo_config.algo_class.default_resource_request(resources.apply(algo_config))
    except BUILD_ERRORS as err:
        raise SweepSpecError(f"resources: {err}") from None
    module_keys = _module_config_keys(algo_config)  # train.model's keys: the module configs checked them
    for section, dimensions in (("search_space", search_space), ("scheduler.mutations", scheduler.mutations)):
        for dimension in dimensions:
            _check_dimension(key_path(section, dimension.key), dimension, train, scenario, module_keys)


def _check_metric(metric: str, scenario: ScenarioSpec) -> None:
    """A KPI metric (of training episodes or of evaluations) names one of the scenario's KPIs."""
    for prefix in KPI_METRIC_PREFIXES:
        if metric.startswith(prefix) and metric.removeprefix(prefix) not in scenario.kpis:
            known = [prefix + kpi for kpi in scenario.kpis]
            raise SweepSpecError(f"metric: {scenario.scenario_id} reports no {metric!r}; its KPIs: {known}")


def _check_dimension(
    where: str,
    dimension: SearchDimension,
    train: TrainConfig,
    scenario: ScenarioSpec,
    module_keys: set[str] | None,
) -> None:
    """The key is a searchable TrainConfig field (or a field of a mapping one) and each value builds."""
    hints = get_type_hints(TrainConfig)
    field, *sub = dimension.path
    if field not in hints:
        raise SweepSpecError(f"{where}: not a TrainConfig field, {'.FIELD, '.join(MAPPING_FIELDS)}.FIELD")
    if field in UNSEARCHABLE_FIELDS:
        raise SweepSpecError(f"{where}: cannot be searched (set once per sweep)")
    preparation = algorithm_preparation(train.scenario, train.algo)
    if preparation is not None and any(_covers(key, dimension.key) for key in preparation.inputs):
        raise SweepSpecError(
            f"{where}: cannot be searched: {train.algo} reads it in the stages that run once, before the "
            f"trials (keys fixed per sweep: {', '.join(preparation.inputs)})"
        )
    is_mapping = field in MAPPING_FIELDS
    if is_mapping and not sub:
        raise SweepSpecError(f"{where}: search its fields ({field}.FIELD), not the whole mapping")
    if sub and not is_mapping:
        raise SweepSpecError(f"{where}: only {'.FIELD, '.join(MAPPING_FIELDS)}.FIELD nest")
    if field == MODEL_FIELD:
        _check_model_key(where, sub[0], module_keys)
    if dimension.sampler in CONTINUOUS and not sub and hints[field] is not float:
        raise SweepSpecError(
            f"{where}: {dimension.sampler} draws floats but {field} is {hints[field].__name__}; "
            "use choice or grid"
        )
    for value in dimension.values:
        checked: Any = value if sub else check_type(where, value, hints[field])
        try:
            candidate = TrainConfig.from_dict(
                overlay(train.to_dict(), nest((dimension,), {dimension.key: checked}))
            )
        except ValueError as err:
            raise SweepSpecError(f"{where}: {value!r}: {err}") from None
        _build(candidate, scenario, env_where=f"{where}: {value!r}", where=f"{where}: {value!r}")


def _covers(key: str, searched: str) -> bool:
    """Whether TrainConfig key ``key`` is ``searched`` or a mapping that holds it (``env_config``)."""
    return searched == key or searched.startswith(key + KEY_SEPARATOR)


def _build(config: TrainConfig, scenario: ScenarioSpec, *, env_where: str, where: str) -> Any:
    """Build the env and the RLlib config of ``config``; an error names ``env_where`` (env) or
    ``where`` (algorithm config)."""
    try:
        scenario.make_env(config.env_config)
    except BUILD_ERRORS as err:
        raise SweepSpecError(f"{env_where}: {_message(err)}") from None
    try:
        return build_algorithm_config(config)
    except BUILD_ERRORS as err:
        raise SweepSpecError(f"{where}: {_message(err)}") from None


def _module_config_keys(algo_config: Any) -> set[str] | None:
    """Field names of the RLModules' ``model_config`` as the algorithm resolved them (the module
    config classes fill in every field, so these are the known ones). None when the algorithm has no
    RLModule spec (HISPER, HAPPO: their own networks, whose config builder rejects unknown keys)."""
    try:
        spec = algo_config.rl_module_spec
    except NotImplementedError:  # AlgorithmConfig.get_default_rl_module_spec of a non-RLModule algorithm
        return None
    specs = spec.rl_module_specs.values() if isinstance(spec, MultiRLModuleSpec) else [spec]
    return {key for module_spec in specs for key in (module_spec.model_config or {})}


def _check_model_key(where: str, key: str, module_keys: set[str] | None) -> None:
    """``key`` is a field of the RLModules' ``model_config`` (unchecked here when they are unknown: the
    algorithm's config builder then names a bad key, see :func:`_build`)."""
    if module_keys is not None and key not in module_keys:
        raise SweepSpecError(f"{where}: unknown model field; known: {sorted(module_keys)}")


def _message(err: Exception) -> str:
    return str(err.args[0]) if isinstance(err, KeyError) and err.args else str(err)
