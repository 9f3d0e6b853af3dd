"""How a sweep maps onto Tune: samplers, schedulers, per-trial placement groups from RLlib, loggers."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import yaml
from ray import tune
from ray.air.integrations.wandb import WandbLoggerCallback
from ray.tune.logger import CSVLoggerCallback, JsonLoggerCallback, TBXLoggerCallback
from ray.tune.schedulers import ASHAScheduler, FIFOScheduler, PopulationBasedTraining
from ray.tune.search.sample import Categorical, Float, LogUniform, Uniform

from edgeplace.tuning import SweepSpec
from edgeplace.tuning.loggers import (
    WANDB_API_KEY_ENV,
    WANDB_MODE_ENV,
    FinalUpload,
    logger_callbacks,
    wandb_mode,
)
from edgeplace.tuning.trainable import latest_values
from edgeplace.tuning.trial_config import (
    RESOURCES_KEY,
    TRAIN_KEY,
    config_column,
    param_space,
    trial_configs,
    trial_resources,
)

TUNE_CONFIGS = Path(__file__).resolve().parents[2] / "edgeplace" / "tune_configs"
SMOKE = TUNE_CONFIGS / "genai_chain_mappo_smoke.yaml"


def smoke(path: Path = SMOKE, **changes) -> SweepSpec:
    raw = yaml.safe_load(path.read_text())
    raw.update(changes)
    return SweepSpec.from_dict(raw)


def test_param_space_holds_samplers_at_train_config_keys():
    spec = smoke(
        search_space={
            "lr": {"loguniform": [1e-4, 1e-3]},
            "clip_param": {"uniform": [0.1, 0.3]},
            "entropy_coeff": {"choice": [0.0, 0.01]},
            "num_epochs": {"grid": [1, 2]},
            "model.d_model": {"choice": [16, 32]},
        }
    )
    space = param_space(spec.train, spec.search_space, spec.resources)
    train = space[TRAIN_KEY]
    assert isinstance(train["lr"], Float) and isinstance(train["lr"].get_sampler(), LogUniform)
    assert isinstance(train["clip_param"].get_sampler(), Uniform)
    assert isinstance(train["entropy_coeff"], Categorical) and train["entropy_coeff"].categories == [
        0.0,
        0.01,
    ]
    assert train["num_epochs"] == tune.grid_search([1, 2])
    assert isinstance(train["model"]["d_model"], Categorical) and train["model"]["num_heads"] == 2
    assert train["timesteps"] == 200 and train["env_config"]["topology"] == "synthetic:genai-small"
    assert config_column("model.d_model") == "config/train/model/d_model"


def test_a_sampled_trial_config_rebuilds_its_train_and_rllib_configs():
    spec = smoke(
        resources={"num_cpus_for_main_process": 2, "num_env_runners": 1, "num_cpus_per_env_runner": 0.5}
    )
    trial = param_space(spec.train, (), spec.resources)
    train, algo_config = trial_configs({**trial, TRAIN_KEY: {**trial[TRAIN_KEY], "lr": 5e-4}})
    assert train.lr == 5e-4 and train.num_env_runners == 1
    assert algo_config.num_cpus_for_main_process == 2 and algo_config.num_cpus_per_env_runner == 0.5
    assert algo_config.num_env_runners == 1 and algo_config.train_batch_size_per_learner == 200


@pytest.mark.parametrize(
    ("resources", "bundles"),
    [
        ({}, [{"CPU": 1.0}]),
        ({"num_gpus_per_learner": 0.5}, [{"CPU": 1.0, "GPU": 0.5}]),
        ({"num_env_runners": 2, "num_cpus_per_env_runner": 0.5}, [{"CPU": 1.0}, {"CPU": 0.5}, {"CPU": 0.5}]),
        (
            {"num_learners": 2, "num_gpus_per_learner": 1, "num_cpus_per_learner": 2},
            [{"CPU": 1.0}, {"CPU": 2.0, "GPU": 1.0}, {"CPU": 2.0, "GPU": 1.0}],
        ),
    ],
)
def test_trial_placement_group_is_rllibs_resource_request(resources, bundles):
    spec = smoke(resources=resources)
    factory = trial_resources(param_space(spec.train, (), spec.resources))
    assert [{k: v for k, v in bundle.items() if v} for bundle in factory.bundles] == bundles
    assert (
        param_space(spec.train, (), spec.resources)[RESOURCES_KEY]["num_env_runners"]
        == spec.train.num_env_runners
    )


@pytest.mark.parametrize("name", ["dnn_inference_hisper_smoke", "dnn_inference_happo_smoke"])
@pytest.mark.parametrize(
    ("resources", "bundle"),
    [
        ({}, {"CPU": 1.0}),
        ({"num_cpus_for_main_process": 2, "num_gpus_per_learner": 0.25}, {"CPU": 2.0, "GPU": 0.25}),
        # the learner runs in the main process, so its CPUs are the bundle's (as RLlib's local learner)
        ({"num_cpus_per_learner": 3}, {"CPU": 3.0}),
    ],
)
def test_joint_algorithms_reserve_one_bundle_for_main_process_and_learner(name, resources, bundle):
    spec = smoke(TUNE_CONFIGS / f"{name}.yaml", resources=resources)
    factory = trial_resources(param_space(spec.train, (), spec.resources))
    assert [{k: v for k, v in b.items() if v} for b in factory.bundles] == [bundle]


def test_latest_values_keep_what_an_iteration_did_not_produce():
    first = {"evaluation": {"env_runners": {"kpi_reward": -5.0, "env_steps_at_evaluation": 20}}}
    assert latest_values({}, first) == first
    not_evaluated = {"evaluation": {"env_runners": {"kpi_reward": None, "env_steps_at_evaluation": None}}}
    assert latest_values(first, not_evaluated) == first
    fresh = {"evaluation": {"env_runners": {"kpi_reward": -3.0, "env_steps_at_evaluation": 60}}}
    assert latest_values(first, fresh) == fresh
    assert first["evaluation"]["env_runners"]["kpi_reward"] == -5.0, "inputs are not modified"


def test_schedulers():
    assert isinstance(smoke(scheduler={"type": "fifo"}).scheduler.build(TRAIN_KEY), FIFOScheduler)
    asha = smoke(scheduler={"type": "asha", "max_t": 9, "grace_period": 2}).scheduler.build(TRAIN_KEY)
    assert isinstance(asha, ASHAScheduler) and asha._max_t == 9 and asha._time_attr == "training_iteration"
    pbt = smoke(
        scheduler={
            "type": "pbt",
            "perturbation_interval": 2,
            "mutations": {"model.d_model": {"choice": [16, 32]}},
        }
    ).scheduler.build(TRAIN_KEY)
    assert isinstance(pbt, PopulationBasedTraining) and pbt._perturbation_interval == 2
    assert pbt._hyperparam_mutations[TRAIN_KEY]["model"]["d_model"].categories == [16, 32]


def test_tune_loggers_always_and_wandb_offline_without_a_key(monkeypatch):
    callbacks = logger_callbacks(None)
    assert {type(c) for c in callbacks} == {
        CSVLoggerCallback,
        JsonLoggerCallback,
        TBXLoggerCallback,
        FinalUpload,
    }
    assert isinstance(callbacks[-1], FinalUpload), "uploads after every logger has finished"
    monkeypatch.delenv(WANDB_API_KEY_ENV, raising=False)
    monkeypatch.delenv(WANDB_MODE_ENV, raising=False)
    monkeypatch.setenv("WANDB_CONFIG_DIR", "/nonexistent-edgeplace-test")  # no `wandb login` settings
    monkeypatch.setenv("NETRC", "/nonexistent-edgeplace-test/netrc")
    callbacks = logger_callbacks("proj")
    (wandb,) = [c for c in callbacks if isinstance(c, WandbLoggerCallback)]
    assert callbacks.index(wandb) < len(callbacks) - 1 and isinstance(callbacks[-1], FinalUpload)
    assert wandb.project == "proj" and wandb.kwargs == {"mode": "offline"}
    assert os.environ[WANDB_MODE_ENV] == "offline", "Ray's W&B key check reads the mode from the env"


def test_wandb_mode_respects_the_users_configuration(monkeypatch):
    monkeypatch.setenv(WANDB_MODE_ENV, "disabled")
    assert wandb_mode() == "disabled"
    monkeypatch.delenv(WANDB_MODE_ENV)
    monkeypatch.setenv(WANDB_API_KEY_ENV, "x" * 40)
    assert wandb_mode() == "online"
