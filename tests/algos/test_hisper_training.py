"""A tiny end-to-end HISPER run: the generic training loop, checkpoints, resume, and the policy wrapper."""

import numpy as np
import pandas as pd
import pytest
import torch

from edgeplace.algos import training
from edgeplace.algos.checkpoints import latest_checkpoint, save_checkpoint
from edgeplace.algos.hisper.build import build_hisper_config
from edgeplace.algos.hisper.policy import HISPERPolicy
from edgeplace.algos.train_config import TrainConfig
from edgeplace.envs.action_masks import entry_row
from edgeplace.envs.dnn_inference import DnnInferenceEnv
from edgeplace.evaluation.runner import run_episodes
from edgeplace.policy import Policy

ENV = {"agents_per_service": 2, "horizon": 5}
TINY_MODEL = {"embed_dim": 8, "actor_hidden": (16,), "critic_hidden": (32, 16), "lstm_hidden": 8}
OPTIONS = {
    "prefill_steps": 40,
    "steps_per_iteration": 20,  # 4 envs x horizon 5: iterations end on episode boundaries
    "updates_per_iteration": 2,
    "eval_interval_steps": 40,
    "eval_episodes": 2,
    "buffer_size": 500,
    "train_batch_size_per_learner": 16,
    "num_envs_per_env_runner": 4,
}


def tiny_config(algo: str = "hisper", timesteps: int = 160, **options) -> TrainConfig:
    return TrainConfig(
        scenario="dnn-inference",
        algo=algo,
        env_config=ENV,
        timesteps=timesteps,  # agent decisions: 160 = 2 iterations x 20 steps x 4 agents
        seed=3,
        model=TINY_MODEL,
        algo_options={**OPTIONS, **options},
        checkpoint_every=1,
    )


@pytest.fixture
def hisper_loop(monkeypatch):
    """The generic loop with HISPER presets registered (the registry wiring is the CLI owner's)."""
    monkeypatch.setattr(
        training, "build_algorithm_config", lambda config: build_hisper_config(config, config.algo)
    )
    # the curve is the loop's own concern (and its rendering is the slow part of this test)
    monkeypatch.setattr(training, "learning_curve_plot", lambda frame, path, **kwargs: path.touch())


def actor_weights(algo) -> list[torch.Tensor]:
    return [p.detach().clone() for actor in algo.learner.actors for p in actor.parameters()]


def test_train_loop_writes_metrics_and_checkpoints_and_resumes(tmp_path, hisper_loop):
    result = training.train(tiny_config(), tmp_path)
    assert result.iterations == 2 and result.timesteps == 160
    frame = pd.read_csv(result.metrics_csv)
    assert {"episode_return_mean", "kpi_reward", "kpi_failure_rate"} <= set(frame.columns)
    assert np.isfinite(frame["episode_return_mean"]).all()
    assert latest_checkpoint(tmp_path).name == "iter_000002"
    resumed = training.train(tiny_config(timesteps=240), tmp_path, resume=True)
    assert resumed.iterations == 3 and resumed.timesteps == 240
    assert latest_checkpoint(tmp_path).name == "iter_000003"


def test_resumed_run_continues_exactly(tmp_path):
    straight = build_hisper_config(tiny_config(), "hisper").build_algo()
    for _ in range(2):
        straight.train()
    first = build_hisper_config(tiny_config(), "hisper").build_algo()
    first.train()
    first.save_to_path(str(tmp_path / "ckpt"))
    resumed = build_hisper_config(tiny_config(), "hisper").build_algo()
    resumed.restore_from_path(str(tmp_path / "ckpt"))
    assert len(resumed.replay) == len(first.replay) and resumed.env_steps == first.env_steps
    result = resumed.train()
    assert result["env_runners"]["num_env_steps_sampled_lifetime"] == 40
    for a, b in zip(actor_weights(straight), actor_weights(resumed), strict=True):
        torch.testing.assert_close(a, b)
    for algo in (straight, first, resumed):
        algo.stop()


def test_checkpoint_without_replay_prefills_again(tmp_path):
    algo = build_hisper_config(tiny_config(checkpoint_replay=False), "hisper").build_algo()
    algo.train()
    algo.save_to_path(str(tmp_path / "ckpt"))
    assert not (tmp_path / "ckpt" / "replay_buffer").exists()
    restored = build_hisper_config(tiny_config(checkpoint_replay=False), "hisper").build_algo()
    restored.restore_from_path(str(tmp_path / "ckpt"))
    assert len(restored.replay) == 0 and not restored.prefilled
    restored.train()
    assert len(restored.replay) == 40 + 20
    for a, b in ((algo, restored),):
        a.stop(), b.stop()


def test_critic_warm_up_runs_once_after_the_prefill():
    algo = build_hisper_config(tiny_config(critic_warmup_updates=5), "hisper").build_algo()
    algo.train()
    assert algo.learner.updates == 5 + OPTIONS["updates_per_iteration"]
    algo.train()
    assert algo.learner.updates == 5 + 2 * OPTIONS["updates_per_iteration"]
    algo.stop()


@pytest.mark.parametrize("preset", ["hisper", "hasac"])
def test_restored_checkpoint_reproduces_the_trained_policy(tmp_path, preset):
    config = tiny_config(preset)
    algo = build_hisper_config(config, preset).build_algo()
    algo.train()
    metadata = {"name": preset, "scenario": "dnn-inference", "env_config": ENV, "agent_modules": {}}
    save_checkpoint(algo, tmp_path, 1, metadata, keep=1)
    restored = HISPERPolicy.from_checkpoint(tmp_path)
    live = HISPERPolicy.from_learner(algo.learner, name=preset)
    assert isinstance(restored, Policy) and restored.name == preset

    def env() -> DnnInferenceEnv:
        return DnnInferenceEnv(ENV)

    episodes = [run_episodes(env, policy, seed=11, episodes=3, num_envs=2) for policy in (restored, live)]
    assert episodes[0] == episodes[1]
    # the protocol's argmax path equals the learner's own greedy acting, and the restored actions equal it
    states = algo.collector.states
    layout_obs = algo.layout.observations(states, algo.learner.masks_np)
    agents = list(algo.agents)
    ids = [agent for _ in range(len(states)) for agent in agents]
    obs = [
        {k: entry_row(v, e) for k, v in layout_obs[agent].items()}
        for e in range(len(states))
        for agent in agents
    ]
    expected = algo.learner.act(states, explore=False).reshape(-1, 3)
    np.testing.assert_array_equal(restored.act_batch(ids, obs), expected)
    np.testing.assert_array_equal(restored.act_batch(ids[:3], obs[:3]), expected[:3])  # uneven rows per agent
    algo.stop()
