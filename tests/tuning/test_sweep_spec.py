"""The sweep file: the shipped YAMLs validate, and bad ones are rejected by key path before any trial."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml

from edgeplace.algos.registry import algorithm_names
from edgeplace.algos.train_config import TrainConfig
from edgeplace.tuning import SweepSpec, SweepSpecError
from edgeplace.tuning.search_space import Sampler
from edgeplace.tuning.spec import LoggerName, Mode
from tests.conftest import genai_edge_dir

TUNE_CONFIGS = Path(__file__).resolve().parents[2] / "tune_configs"
SMOKE = TUNE_CONFIGS / "genai_chain_mappo_smoke.yaml"


def smoke_dict() -> dict:
    return yaml.safe_load(SMOKE.read_text())


def with_changes(changes: dict, remove: tuple[str, ...] = ()) -> dict:
    """The smoke sweep with (nested) keys replaced or removed."""
    raw = copy.deepcopy(smoke_dict())
    for key in remove:
        raw.pop(key)
    for key, value in changes.items():
        *parents, leaf = key.split("/")
        node = raw
        for parent in parents:
            node = node.setdefault(parent, {})
        node[leaf] = value
    return raw


@pytest.mark.parametrize("path", sorted(TUNE_CONFIGS.glob("*.yaml")), ids=lambda p: p.name)
def test_shipped_sweeps_validate(path):
    if "genai-edge:" in path.read_text():
        genai_edge_dir(1)  # skips without the dataset
    spec = SweepSpec.from_yaml(path)
    assert spec.name == path.stem and spec.train.scenario == "genai-chain"
    assert spec.train.algo in algorithm_names() and spec.search_space
    if not path.stem.endswith("_smoke"):
        assert {d.sampler for d in spec.search_space} >= {Sampler.LOGUNIFORM, Sampler.CHOICE, Sampler.GRID}


def test_vamappo_sweep_searches_algo_options_with_an_absolute_dataset_path():
    genai_edge_dir(1)
    spec = SweepSpec.from_yaml(TUNE_CONFIGS / "genai_chain_vamappo.yaml")
    searched = {d.key for d in spec.search_space}
    assert searched == {"lr", "algo_options.caf_lambda", "algo_options.enhancement_temperature"}
    assert spec.train.algo_options == {"top_k_ratio": 0.1}
    assert spec.train.env_config["topology"].startswith("genai-edge:/")


def test_real_sweep_maps_every_section():
    spec = SweepSpec.from_yaml(TUNE_CONFIGS / "genai_chain_mappo.yaml")
    assert spec.metric == "env_runners/kpi_utility" and spec.mode is Mode.MAX
    assert spec.scheduler.type == "asha" and spec.loggers == (LoggerName.WANDB,)
    assert spec.train.checkpoint_every == spec.checkpoint.every == 4
    assert spec.train.num_gpus_per_learner == spec.resources.num_gpus_per_learner == 0.0
    assert spec.train.env_config["topology"] == "synthetic:genai-medium"


def test_sections_apply_to_the_fixed_train_config():
    spec = SweepSpec.from_dict(
        with_changes({"train/lr": 1, "resources/num_gpus_per_learner": 0.25, "checkpoint/every": 3})
    )
    assert spec.train.lr == 1.0 and isinstance(spec.train.lr, float)
    assert spec.train.num_gpus_per_learner == 0.25 and spec.train.checkpoint_every == 3
    assert spec.experiment_path.endswith("/runs/tune/genai_chain_mappo_smoke")
    assert Path(spec.storage_root).is_absolute()


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"bogus": 1}, "bogus: unknown key"),
        ({"train/num_epochs": "ten"}, "train.num_epochs: expected int, got 'ten'"),
        ({"train/lr_decay": "yes"}, "train.lr_decay: expected bool, got 'yes'"),
        ({"train/lrr": 0.1}, "train.lrr: unknown key"),
        ({"train/module_sharing": "some"}, "train.module_sharing: expected one of ['shared', 'per-agent']"),
        ({"train/num_gpus_per_learner": 1}, "train.num_gpus_per_learner: set it in the resources section"),
        ({"train/checkpoint_every": 2}, "train.checkpoint_every: set it in the checkpoint section"),
        ({"train/scenario": "genai-chain"}, "train.scenario: set it at the top level"),
        ({"train/minibatch_size": 400}, "train: minibatch_size (400) exceeds train_batch_size (200)"),
        ({"train/env_config/bogus": 1}, "train.env_config: genai-chain env_config: unknown keys ['bogus']"),
        ({"train/model/d_modle": 8}, "train.model.d_modle: unknown model field"),
        ({"scenario": "nowhere"}, "scenario: unknown scenario 'nowhere'"),
        ({"algo": "dqn"}, "algo: unknown algorithm 'dqn'"),
        ({"mode": "maximum"}, "mode: expected one of ['max', 'min'], got 'maximum'"),
        ({"num_samples": 0}, "num_samples: must be >= 1"),
        ({"loggers": ["mlflow"]}, "loggers[0]: expected one of ['wandb']"),
        (
            {"metric": "env_runners/kpi_happiness"},
            "metric: genai-chain reports no 'env_runners/kpi_happiness'",
        ),
        ({"stop": {"training_iteration": "many"}}, "stop.training_iteration: expected float, got 'many'"),
        ({"search_space/lr": {"logunifrm": [1e-4, 1e-3]}}, "search_space.lr: unknown sampler 'logunifrm'"),
        ({"search_space/lr": {"loguniform": [0, 1e-3]}}, "search_space.lr: loguniform needs low > 0"),
        ({"search_space/lr": {"uniform": [1e-3]}}, "search_space.lr: uniform needs [low, high] numbers"),
        ({"search_space/lr": {"choice": 0.1}}, "search_space.lr.choice: expected a list, got 0.1"),
        (
            {"search_space/num_epochs": {"grid": [1, "two"]}},
            "search_space.num_epochs: expected int, got 'two'",
        ),
        ({"search_space/num_epochs": {"uniform": [1, 4]}}, "search_space.num_epochs: uniform draws floats"),
        ({"search_space/gama": {"choice": [0.9]}}, "search_space.gama: not a TrainConfig field"),
        ({"search_space/model": {"choice": [{}]}}, "search_space.model: search its fields (model.FIELD)"),
        ({"search_space/model.width": {"choice": [8]}}, "search_space.model.width: unknown model field"),
        ({"search_space/lr.x": {"choice": [8]}}, "search_space.lr.x: only model.FIELD, env_config.FIELD"),
        ({"search_space/num_learners": {"grid": [1, 2]}}, "search_space.num_learners: cannot be searched"),
        (
            {"search_space/minibatch_size": {"grid": [100, 400]}},
            "search_space.minibatch_size: 400: minibatch",
        ),
        (
            {"algo": "vamappo", "search_space/algo_options.caf_lambda": {"grid": [0.3, 2.0]}},
            "search_space.algo_options.caf_lambda: 2.0: vamappo.caf_lambda must be in [0, 1]",
        ),
        ({"train/algo_options": {"top_k_ratio": 0.5}}, "train: mappo takes no algo_options"),
        ({"search_space/env_config.max_nodes": {"grid": [32, 4]}}, "search_space.env_config.max_nodes: 4:"),
        ({"scheduler/type": "hyperband"}, "scheduler.type: expected one of ['fifo', 'asha', 'pbt']"),
        ({"scheduler/grace_period": 5}, "scheduler.grace_period: 5 exceeds max_t 1"),
        ({"scheduler/mutations": {"lr": {"choice": [0.1]}}}, "scheduler.mutations: only the pbt scheduler"),
        ({"resources/num_gpus_per_learner": "half"}, "resources.num_gpus_per_learner: expected float"),
        (
            {"resources/num_gpus_per_learner": 1.5},
            "resources.num_gpus_per_learner: above 1 it must be a whole number",
        ),
        ({"resources/cpus": 2}, "resources.cpus: unknown key"),
        ({"checkpoint/every": 0}, "checkpoint.every: must be >= 1"),
    ],
)
def test_bad_sweeps_are_rejected_naming_the_key(changes, message):
    with pytest.raises(SweepSpecError) as err:
        SweepSpec.from_dict(with_changes(changes))
    assert message in str(err.value)


@pytest.mark.parametrize("key", ["name", "scenario", "algo"])
def test_required_keys(key):
    with pytest.raises(SweepSpecError, match=f"^{key}: required"):
        SweepSpec.from_dict(with_changes({}, remove=(key,)))


def test_pbt_needs_grid_free_mutations_aligned_with_checkpoints():
    pbt = {"type": "pbt", "perturbation_interval": 2, "mutations": {"lr": {"loguniform": [1e-4, 1e-3]}}}
    spec = SweepSpec.from_dict(with_changes({"scheduler": pbt, "checkpoint/every": 2}))
    assert spec.scheduler.mutations[0].key == "lr"
    with pytest.raises(
        SweepSpecError, match="perturbation_interval: 2 must be a multiple of checkpoint.every"
    ):
        SweepSpec.from_dict(with_changes({"scheduler": pbt, "checkpoint/every": 3}))
    grid = {**pbt, "mutations": {"num_epochs": {"grid": [1, 2]}}}
    with pytest.raises(SweepSpecError, match="mutations.num_epochs: PBT cannot mutate over a grid"):
        SweepSpec.from_dict(with_changes({"scheduler": grid}))
    with pytest.raises(SweepSpecError, match="scheduler.mutations: pbt needs at least one"):
        SweepSpec.from_dict(with_changes({"scheduler": {"type": "pbt"}}))


def test_yaml_errors_name_the_file(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("train: [unclosed\n")
    with pytest.raises(SweepSpecError, match="bad.yaml: not valid YAML"):
        SweepSpec.from_yaml(bad)
    listed = tmp_path / "list.yaml"
    listed.write_text("- a\n- b\n")
    with pytest.raises(SweepSpecError, match="expected a mapping"):
        SweepSpec.from_yaml(listed)


def test_name_defaults_to_the_file_stem(tmp_path):
    raw = with_changes({}, remove=("name",))
    path = tmp_path / "my_sweep.yaml"
    path.write_text(yaml.safe_dump(raw))
    assert SweepSpec.from_yaml(path).name == "my_sweep"


def test_owned_train_fields_must_match_their_sections():
    spec = SweepSpec.from_yaml(SMOKE)
    with pytest.raises(SweepSpecError, match="train.num_learners: is set by the resources/checkpoint"):
        SweepSpec(name="x", train=TrainConfig(**{**spec.train.to_dict(), "num_learners": 2}))
