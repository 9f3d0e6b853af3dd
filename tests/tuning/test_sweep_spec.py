"""The sweep file: the shipped YAMLs validate, and bad ones are rejected by key path before any trial."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml

from edgeplace.algos.registry import algorithms_for
from edgeplace.algos.train_config import TrainConfig
from edgeplace.tuning import SweepSpec, SweepSpecError
from edgeplace.tuning.search_space import Sampler
from edgeplace.tuning.spec import LoggerName, Mode

TUNE_CONFIGS = Path(__file__).resolve().parents[2] / "edgeplace" / "tune_configs"
SMOKE = TUNE_CONFIGS / "genai_chain_mappo_smoke.yaml"
HISPER_SMOKE = TUNE_CONFIGS / "dnn_inference_hisper_smoke.yaml"
HAPPO_SMOKE = TUNE_CONFIGS / "dnn_inference_happo_smoke.yaml"
AGENTVNE_SMOKE = TUNE_CONFIGS / "agent_vne_agentvne_smoke.yaml"


def with_changes(changes: dict, remove: tuple[str, ...] = (), path: Path = SMOKE) -> dict:
    """The smoke sweep ``path`` with (nested) keys replaced or removed."""
    raw = copy.deepcopy(yaml.safe_load(path.read_text()))
    for key in remove:
        raw.pop(key)
    for key, value in changes.items():
        *parents, leaf = key.split("/")
        node = raw
        for parent in parents:
            node = node.setdefault(parent, {})
        node[leaf] = value
    return raw


SHIPPED = sorted(TUNE_CONFIGS.glob("*.yaml"))


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.name)
def test_shipped_sweeps_validate(path):
    spec = SweepSpec.from_yaml(path)
    assert spec.name == path.stem and spec.train.algo in algorithms_for(spec.train.scenario)
    assert spec.search_space
    if path.stem.endswith("_smoke"):
        assert path.with_name(path.name.replace("_smoke", "")) in SHIPPED, "smoke of a shipped sweep"
    else:
        assert {d.sampler for d in spec.search_space} >= {Sampler.LOGUNIFORM, Sampler.CHOICE, Sampler.GRID}
        assert path.with_name(f"{path.stem}_smoke.yaml") in SHIPPED, "every sweep has a smoke variant"


def test_vamappo_sweep_searches_algo_options_on_the_shipped_dataset():
    spec = SweepSpec.from_yaml(TUNE_CONFIGS / "genai_chain_vamappo.yaml")
    searched = {d.key for d in spec.search_space}
    assert searched == {"lr", "algo_options.caf_lambda", "algo_options.enhancement_temperature"}
    assert spec.train.algo_options == {"top_k_ratio": 0.1}
    assert spec.train.env_config["topology"] == "genai-edge:S1"  # the same on every node: not pinned


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
        ({"train/model/d_modle": 8}, "train: placement module: unknown model_config keys ['d_modle']"),
        ({"scenario": "nowhere"}, "scenario: unknown scenario 'nowhere'"),
        ({"algo": "dqn"}, "algo: algorithm 'dqn' does not train scenario 'genai-chain'"),
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


@pytest.mark.parametrize(
    ("path", "changes", "message"),
    [
        (HISPER_SMOKE, {"train/algo_options/tua": 0.01}, "train: hisper settings: unknown keys ['tua']"),
        (HISPER_SMOKE, {"train/model/width": 8}, "train: hisper: unknown model keys ['width']"),
        (
            HISPER_SMOKE,
            {"search_space/algo_options.alpah": {"grid": [1.0]}},
            "search_space.algo_options.alpah: 1.0: hisper settings: unknown keys ['alpah']",
        ),
        (
            HISPER_SMOKE,
            {"search_space/model.width": {"choice": [8]}},
            "search_space.model.width: 8: hisper: unknown model keys ['width']",
        ),
        (
            HISPER_SMOKE,
            {"metric": "evaluation/env_runners/kpi_happiness"},
            "metric: dnn-inference reports no 'evaluation/env_runners/kpi_happiness'",
        ),
        (
            HISPER_SMOKE,
            {"resources/num_env_runners": 2},
            "resources: HISPER collects with its own vectorised collector: num_env_runners must be 0, got 2",
        ),
        (HAPPO_SMOKE, {"train/algo_options/clipp": 0.1}, "train: happo settings: unknown keys ['clipp']"),
        (HAPPO_SMOKE, {"resources/num_learners": 1}, "resources: HAPPO updates in the algorithm process"),
        (
            AGENTVNE_SMOKE,
            {"train/algo_options/pretrain_epoch": 2},
            "train: agentvne algo_options: unknown keys ['pretrain_epoch']",
        ),
        (AGENTVNE_SMOKE, {"train/model/d_modle": 8}, "unknown model_config keys ['d_modle']"),
        (
            AGENTVNE_SMOKE,
            {"search_space/env_config.arrival_rate": {"grid": [0.1, 0.2]}},
            "search_space.env_config.arrival_rate: cannot be searched: agentvne reads it in the stages "
            "that run once, before the trials",
        ),
        (AGENTVNE_SMOKE, {"search_space/model.d_model": {"grid": [8]}}, "search_space.model.d_model: cannot"),
        (
            AGENTVNE_SMOKE,
            {"search_space/algo_options.pretrain_epochs": {"grid": [1, 2]}},
            "search_space.algo_options.pretrain_epochs: cannot be searched",
        ),
        (AGENTVNE_SMOKE, {"storage_path": "s3://bucket/tune"}, "storage_path: agentvne prepares its trials"),
    ],
    ids=lambda value: value.stem if isinstance(value, Path) else None,
)
def test_bad_keys_of_the_hisper_and_agentvne_sweeps_are_rejected_naming_them(path, changes, message):
    with pytest.raises(SweepSpecError) as err:
        SweepSpec.from_dict(with_changes(changes, path=path))
    assert message in str(err.value)


def test_agentvne_sweep_takes_the_spec_values_and_searches_fine_tuning_seeds():
    spec = SweepSpec.from_yaml(TUNE_CONFIGS / "agent_vne_agentvne.yaml")
    train = spec.train
    assert (train.train_batch_size, train.minibatch_size, train.num_epochs) == (400, 64, 5)
    assert (train.num_envs_per_env_runner, train.grad_clip, train.lr_decay) == (4, 1.0, False)
    seeds = SweepSpec.from_dict(with_changes({"search_space/seed": {"grid": [0, 1]}}, path=AGENTVNE_SMOKE))
    assert [d.key for d in seeds.search_space] == ["lr", "seed"]


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
