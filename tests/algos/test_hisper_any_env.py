"""The joint algorithms (HISPER presets, HAPPO) on envs other than dnn-inference, through the generic
joint view: the toy plug-in (Discrete actions, masks that change with the loads) trained by the generic
loop and restored through its spec, and a differently shaped env written here (MultiDiscrete actions of
unequal sizes, observations of unequal widths, a mask that changes every step)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import gymnasium as gym
import numpy as np
import pytest
import torch

from edgeplace.algos import training
from edgeplace.algos.checkpoints import save_checkpoint
from edgeplace.algos.hisper.build import build_happo_config, build_hisper_config
from edgeplace.algos.hisper.flat_view import FlatJointView
from edgeplace.algos.hisper.joint_view import JointStateLayout, joint_view
from edgeplace.algos.hisper.learner import HISPERLearner
from edgeplace.algos.hisper.policy import HISPERPolicy
from edgeplace.algos.hisper.settings import PRESETS, HISPERSettings
from edgeplace.algos.train_config import TrainConfig
from edgeplace.envs.action_masks import concatenated, mask_parts, mask_space, multi_discrete_mask
from edgeplace.envs.simultaneous import SimultaneousEnv
from edgeplace.evaluation.runner import run_episodes
from edgeplace.obs_keys import ObsKey
from edgeplace.policy import Observation
from edgeplace.scenarios import get_scenario

TINY_MODEL = {"embed_dim": 8, "actor_hidden": (16,), "critic_hidden": (16,), "lstm_hidden": 8}
JOINT = {
    "steps_per_iteration": 12,
    "eval_interval_steps": 12,
    "eval_episodes": 2,
    "num_envs_per_env_runner": 2,
}
OFF_POLICY = {
    "prefill_steps": 12,
    "updates_per_iteration": 2,
    "buffer_size": 200,
    "train_batch_size_per_learner": 8,
}


def options(algo: str) -> dict[str, Any]:
    return JOINT if algo == "happo" else {**JOINT, **OFF_POLICY}


def build(config: TrainConfig):
    """The RLlib config of a joint algorithm (a HISPER preset or HAPPO)."""
    return build_happo_config(config) if config.algo == "happo" else build_hisper_config(config, config.algo)


class MaskChecked:
    """A policy that asserts every action it returns is allowed by the observation's action mask."""

    def __init__(self, policy: HISPERPolicy) -> None:
        self.policy, self.name = policy, policy.name
        self.actions = 0

    def act_batch(self, agent_ids: Sequence[str], observations: Sequence[Observation]) -> np.ndarray:
        actions = self.policy.act_batch(agent_ids, observations)
        for agent, obs, action in zip(agent_ids, observations, actions, strict=True):
            parts = mask_parts(obs[ObsKey.ACTION_MASK])
            assert all(part[a] > 0 for part, a in zip(parts, np.atleast_1d(action), strict=True)), agent
            self.actions += 1
        return actions


# --- the toy plug-in, through the generic loop and its spec ------------------------------------------
@pytest.mark.usefixtures("ray_session")
@pytest.mark.parametrize("algo", ["hisper", "hasac", "happo"])
def test_the_toy_trains_and_its_checkpoint_acts_with_allowed_actions(tmp_path, monkeypatch, algo):
    monkeypatch.setattr(training, "learning_curve_plot", lambda frame, path, **kwargs: path.touch())
    config = TrainConfig(
        scenario="toy",
        algo=algo,
        timesteps=48,  # agent decisions: 2 iterations x 12 steps x 2 agents
        seed=1,
        model=TINY_MODEL,
        algo_options=options(algo),
        checkpoint_every=1,
    )
    result = training.train(config, tmp_path)
    assert result.iterations == 2 and result.timesteps == 48
    toy = get_scenario("toy")
    policy = toy.policy_from_checkpoint(result.run_dir, name=algo)
    assert isinstance(policy, HISPERPolicy) and policy.name == algo
    env = toy.make_env()
    checked = MaskChecked(policy)
    (kpis,) = run_episodes(toy.make_env, checked, seed=4, episodes=1)
    assert set(kpis) == toy.reported_kpis(env.possible_agents)
    assert checked.actions == 2 * env.horizon
    assert policy.act_batch(["agent_0"], [env.reset(seed=0)[0]["agent_0"]]).shape == (1,)  # Discrete


# --- a differently shaped env -----------------------------------------------------------------------
class PickEnv(SimultaneousEnv):
    """Two agents pick (a, b) from MultiDiscrete spaces of unequal sizes; at step t value ``t mod n_0``
    of a and the values of b of t's parity are masked out. Agents observe entries of unequal widths.
    Reward: a + b of the agent's own pick, minus 1 when both pick the same a."""

    AGENTS = ("left", "right")
    NVEC = {"left": (3, 2), "right": (2, 4)}
    GRID = {"left": (2, 3), "right": (4,)}

    def __init__(self, config: Mapping[str, Any] | None = None) -> None:
        self.possible_agents = list(self.AGENTS)
        self.observation_spaces = {
            agent: gym.spaces.Dict(
                {
                    "grid": gym.spaces.Box(-1.0, 1.0, self.GRID[agent], np.float32),
                    "t": gym.spaces.Box(0.0, 10.0, (1,), np.float32),
                    ObsKey.ACTION_MASK: mask_space(gym.spaces.MultiDiscrete(self.NVEC[agent])),
                }
            )
            for agent in self.AGENTS
        }
        self.action_spaces = {agent: gym.spaces.MultiDiscrete(self.NVEC[agent]) for agent in self.AGENTS}
        super().__init__(horizon=4)
        self.total = 0.0

    def mask(self, agent: str) -> tuple[np.ndarray, ...]:
        n_a, n_b = self.NVEC[agent]
        return multi_discrete_mask([np.arange(n_a) != self.t % n_a, np.arange(n_b) % 2 != self.t % 2])

    def _begin_episode(self) -> None:
        self.grids = {
            agent: self.rng.uniform(-1, 1, self.GRID[agent]).astype(np.float32) for agent in self.AGENTS
        }
        self.total = 0.0

    def _observe(self) -> dict[str, dict[str, np.ndarray]]:
        return {
            agent: {
                "grid": self.grids[agent],
                "t": np.array([self.t], np.float32),
                ObsKey.ACTION_MASK: self.mask(agent),
            }
            for agent in self.AGENTS
        }

    def _apply(self, actions: Sequence[Any]) -> tuple[dict[str, float], dict[str, dict]]:
        clash = float(actions[0][0] == actions[1][0])
        rewards = {agent: float(a + b) - clash for agent, (a, b) in zip(self.AGENTS, actions, strict=True)}
        self.total += sum(rewards.values())
        return rewards, {agent: {} for agent in self.AGENTS}

    def _episode_kpis(self) -> dict[str, float]:
        return {"total": self.total}


def test_the_generic_view_pads_observations_and_actions_and_stores_the_changing_masks():
    env = PickEnv()
    view = joint_view(env)
    assert isinstance(view, FlatJointView)
    assert view.sizes == (3, 4) and view.own_keys == ("grid", "t") and view.request_dim == 6 + 1
    np.testing.assert_array_equal(
        view.structural_masks, [[1, 1, 1, 1, 1, 0, 0], [1, 1, 0, 1, 1, 1, 1]]
    )  # left: a < 3, b < 2; right: a < 2, b < 4
    layout = JointStateLayout.from_view(view)
    observations, _ = env.reset(seed=0)
    for t in range(2):
        state = view.global_state(observations)
        assert state.shape == (layout.state_dim,) == (2 * (7 + 7),)
        np.testing.assert_array_equal(layout.requests(state)[1], [*observations["right"]["grid"], t, 0, 0])
        blocks = layout.agent_blocks(state)[:, layout.request_dim :] > 0.5  # (A, W): the padded masks
        for n, agent in enumerate(env.possible_agents):
            np.testing.assert_array_equal(
                blocks[n][view.structural_masks[n]], concatenated(observations[agent]["action_mask"]) > 0
            )
            assert not blocks[n][~view.structural_masks[n]].any()
        observations, *_ = env.step(
            view.env_actions(view.random_actions(np.random.default_rng(t), state[None])[0])
        )
    assert view.reward({"left": 1.0, "right": 3.0}, {}).tolist() == [2.0]


def test_learner_samples_only_the_allowed_sub_actions_of_each_step():
    env = PickEnv()
    view = joint_view(env)
    layout = JointStateLayout.from_view(view)
    learner = HISPERLearner(layout, view.structural_masks, HISPERSettings(**TINY_MODEL), gamma=0.9, seed=0)
    observations, _ = env.reset(seed=0)
    for _ in range(env.horizon):
        state = view.global_state(observations)
        actions = learner.act(np.repeat(state[None], 300, axis=0))  # (300, A, 2)
        for n, agent in enumerate(env.possible_agents):
            first, second = observations[agent]["action_mask"]
            assert set(actions[:, n, 0]) == set(np.flatnonzero(first))
            assert set(actions[:, n, 1]) == set(np.flatnonzero(second))
        observations, *_ = env.step(view.env_actions(actions[0]))


@pytest.mark.usefixtures("ray_session")
@pytest.mark.parametrize("algo", [*sorted(PRESETS), "happo"])
def test_every_joint_algorithm_trains_on_a_multi_discrete_env_and_restores(tmp_path, algo):
    config = TrainConfig(scenario="toy", algo=algo, seed=2, model=TINY_MODEL, algo_options=options(algo))
    algo_config = build(config).environment(PickEnv, env_config={}).multi_agent(policies=set(PickEnv.AGENTS))
    trained = algo_config.build_algo()
    results = [trained.train() for _ in range(2)]
    assert results[-1]["env_runners"]["num_env_steps_sampled_lifetime"] == 24
    assert np.isfinite(results[0]["evaluation"]["env_runners"]["kpi_total"])
    save_checkpoint(trained, tmp_path, 2, {"name": algo, "agent_modules": {}}, keep=1)
    policy = HISPERPolicy.from_checkpoint(tmp_path)
    # the restored policy acts like the learner's greedy path on the same observations
    states = trained.collector.states
    observations = [env._observe() for env in trained.collector.envs]  # what ``states`` hold
    ids = [agent for _ in states for agent in PickEnv.AGENTS]
    rows = [obs[agent] for obs in observations for agent in PickEnv.AGENTS]
    expected = trained.learner.act(states, explore=False).reshape(-1, 2)
    np.testing.assert_array_equal(policy.act_batch(ids, rows), expected)
    checked = MaskChecked(policy)
    run_episodes(PickEnv, checked, seed=3, episodes=2, num_envs=2)
    assert checked.actions == 2 * 2 * 4
    restored = build(config).environment(PickEnv, env_config={}).multi_agent(policies=set(PickEnv.AGENTS))
    restored = restored.build_algo()
    restored.restore_from_path(tmp_path / "checkpoints" / "iter_000002")
    for a, b in zip(trained.learner.actors, restored.learner.actors, strict=True):
        for p, q in zip(a.parameters(), b.parameters(), strict=True):
            torch.testing.assert_close(p, q)
    trained.stop(), restored.stop()
