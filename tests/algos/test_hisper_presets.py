import pytest

from edgeplace.algos.hisper.build import build_hisper_config
from edgeplace.algos.hisper.settings import PRESETS, HISPERSettings, preset_settings
from edgeplace.algos.train_config import TrainConfig

SWITCHES = {"autoregressive", "hybrid_reward"}


@pytest.mark.parametrize("preset", sorted(PRESETS))
def test_presets_differ_from_hisper_only_in_the_switches(preset):
    base, other = preset_settings("hisper").to_dict(), preset_settings(preset).to_dict()
    assert {key for key in base if base[key] != other[key]} <= SWITCHES


def test_preset_switches():
    expected = {
        "hisper": (True, True),
        "hasac": (False, False),
        "hisper-noHRA": (True, False),
        "hisper-noAR": (False, True),
    }
    got = {name: (s.autoregressive, s.hybrid_reward) for name in PRESETS for s in [preset_settings(name)]}
    assert got == expected


def test_defaults_are_the_spec_values():
    s = HISPERSettings()
    assert (s.actor_lr, s.critic_lr, s.tau, s.buffer_size, s.prefill_steps) == (
        2e-4,
        5e-4,
        0.005,
        370_000,
        90_000,
    )
    assert (s.steps_per_iteration, s.updates_per_iteration, s.eval_interval_steps) == (2000, 100, 2000)
    assert (
        s.critic_hidden == (512, 512, 256, 256, 128) and s.actor_hidden == (256, 256) and s.lstm_hidden == 128
    )
    assert (s.resolved_alpha(8), s.resolved_alpha(10)) == (2.0, 2.5)


def test_build_maps_the_train_config():
    config = TrainConfig(
        scenario="dnn-inference",
        algo="hasac",
        env_config={"agents_per_service": 5},
        seed=7,
        model={"lstm_hidden": 64},
        algo_options={"tau": 0.01, "train_batch_size_per_learner": 256, "gamma": 0.99},
    )
    algo_config = build_hisper_config(config, "hasac")
    settings = algo_config.get_hisper_settings()
    assert (settings.autoregressive, settings.hybrid_reward, settings.tau, settings.lstm_hidden) == (
        False,
        False,
        0.01,
        64,
    )
    assert (algo_config.train_batch_size_per_learner, algo_config.gamma, algo_config.seed) == (256, 0.99, 7)
    assert algo_config.num_envs_per_env_runner == 20
    assert algo_config.policy_mapping_fn("mot_4", None) == "mot_4"
    assert set(algo_config.policies) == {f"od_{i}" for i in range(5)} | {f"mot_{i}" for i in range(5)}


@pytest.mark.parametrize(
    ("learners", "bundle"),
    [
        ({}, {"CPU": 1}),
        ({"num_cpus_per_learner": 3}, {"CPU": 3}),
        ({"num_gpus_per_learner": 0.5}, {"CPU": 1, "GPU": 0.5}),
    ],
)
def test_a_trial_reserves_one_bundle_with_the_learners_resources(learners, bundle):
    from edgeplace.algos.hisper.algorithm import HISPER

    config = build_hisper_config(TrainConfig(scenario="dnn-inference", algo="hisper"), "hisper")
    request = HISPER.default_resource_request(config.learners(**learners))
    assert request.bundles == [bundle]


@pytest.mark.parametrize(
    ("changes", "match"),
    [
        ({"model": {"width": 3}}, "unknown model keys \\['width'\\]"),
        ({"algo_options": {"bogus": 1}}, "unknown keys \\['bogus'\\]"),
        ({"algo_options": {"tau": 2.0}}, "hisper.tau must be in"),
        (
            {"algo_options": {"critic_warmup_updates": 3, "prefill_steps": 0}},
            "critic_warmup_updates needs prefill_steps",
        ),
        ({"lr": 1e-3}, r"hisper does not read TrainConfig's PPO fields \['lr'\]"),
    ],
)
def test_bad_settings_raise_naming_the_field(changes, match):
    config = TrainConfig(scenario="dnn-inference", algo="hisper").replace(**changes)
    with pytest.raises(ValueError, match=match):
        build_hisper_config(config, "hisper")


def test_unknown_preset_raises():
    with pytest.raises(KeyError, match="unknown HISPER preset"):
        preset_settings("hisper-xl")


def test_steps_per_iteration_must_fill_whole_rounds():
    config = TrainConfig(scenario="dnn-inference", algo="hisper", algo_options={"steps_per_iteration": 30})
    with pytest.raises(ValueError, match="multiple of num_envs_per_env_runner"):
        build_hisper_config(config, "hisper").validate()
