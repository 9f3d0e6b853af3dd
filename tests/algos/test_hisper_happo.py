import numpy as np
import pytest
import torch

from edgeplace.algos.checkpoints import save_checkpoint
from edgeplace.algos.hisper import happo_learner
from edgeplace.algos.hisper.build import build_happo_config
from edgeplace.algos.hisper.happo_learner import HAPPOLearner, Rollout
from edgeplace.algos.hisper.happo_settings import HAPPOSettings
from edgeplace.algos.hisper.happo_update import gae, happo_surrogate
from edgeplace.algos.hisper.joint_view import JointStateLayout
from edgeplace.algos.hisper.policy import HISPERPolicy
from edgeplace.algos.hisper.value_norm import ValueNorm
from edgeplace.algos.train_config import TrainConfig
from edgeplace.envs.action_masks import entry_row
from edgeplace.envs.dnn_inference import DnnInferenceEnv, agent_service, global_state

TINY = {"embed_dim": 4, "actor_hidden": (8,), "critic_hidden": (8,), "lstm_hidden": 4}


def test_gae_hand_case_cuts_at_episode_ends_and_bootstraps_truncations():
    rewards = torch.tensor([[1.0], [2.0], [3.0]])
    values = torch.tensor([[0.5], [1.0], [2.0]])
    next_values = torch.tensor([[1.0], [4.0], [10.0]])
    terminated = torch.tensor([[False], [False], [True]])
    episode_end = torch.tensor([[False], [True], [True]])  # step 1 ends a truncated episode
    adv, ret = gae(rewards, values, next_values, terminated, episode_end, gamma=0.5, lam=0.5)
    d2 = 3.0 - 2.0  # terminated: no bootstrap
    d1 = 2.0 + 0.5 * 4.0 - 1.0  # truncated: bootstraps from its final observation, recursion cut
    d0 = 1.0 + 0.5 * 1.0 - 0.5
    torch.testing.assert_close(adv[:, 0], torch.tensor([d0 + 0.25 * d1, d1, d2]))
    torch.testing.assert_close(ret, adv + values)


def test_happo_surrogate_clips_the_m_weighted_ratio():
    log_pi = torch.log(torch.tensor([1.5, 0.5]))
    old = torch.zeros(2)
    factor = torch.tensor([2.0, 1.0])
    advantages = torch.tensor([1.0, -1.0])
    # row 0: min(1.5 * 2, 1.2 * 2) = 2.4; row 1: min(0.5 * -1, 0.8 * -1) = -0.8
    loss = happo_surrogate(log_pi, old, factor, advantages, clip=0.2)
    assert float(loss) == pytest.approx(-(2.4 - 0.8) / 2)


def test_value_norm_round_trip_and_debiased_mean():
    norm = ValueNorm()
    x = torch.tensor([1.0, 3.0, 5.0, 7.0])
    norm.update(x)
    mean, var = norm.mean_var()
    assert float(mean) == pytest.approx(4.0, rel=1e-4) and float(var) == pytest.approx(5.0, rel=1e-3)
    torch.testing.assert_close(norm.denormalize(norm.normalize(x)), x)


def make_learner(**settings) -> tuple[HAPPOLearner, DnnInferenceEnv]:
    env = DnnInferenceEnv({"agents_per_service": 1, "horizon": 4})
    layout = JointStateLayout.from_layout(env.layout, env.possible_agents)
    masks = np.stack([env.layout.structural_mask(agent_service(a)) for a in env.possible_agents])
    return HAPPOLearner(layout, masks, HAPPOSettings(**TINY, **settings), gamma=0.95, seed=1), env


def rollout(learner: HAPPOLearner, env: DnnInferenceEnv, steps: int = 4) -> Rollout:
    observations, _ = env.reset(seed=2)
    states, nexts, actions, log_pis, rewards = [], [], [], [], []
    for _ in range(steps):
        state = global_state(observations, env.possible_agents)
        action, log_pi = learner.act_with_log_prob(state[None])
        observations, reward, *_ = env.step(dict(zip(env.possible_agents, action[0], strict=True)))
        states.append(state), nexts.append(global_state(observations, env.possible_agents))
        actions.append(action[0]), log_pis.append(log_pi[0]), rewards.append(reward["od_0"])
    end = np.zeros((steps, 1), bool)
    end[-1] = True
    return Rollout(
        state=np.stack(states)[:, None],
        actions=np.stack(actions)[:, None],
        log_pi=np.stack(log_pis)[:, None],
        rewards=np.array(rewards, np.float32)[:, None],
        next_state=np.stack(nexts)[:, None],
        terminated=np.zeros((steps, 1), bool),
        episode_end=end,
    )


def test_later_agents_are_weighted_by_the_earlier_agents_ratio(monkeypatch):
    learner, env = make_learner(epochs=2)
    batch = rollout(learner, env)
    factors: list[torch.Tensor] = []
    real = happo_learner.happo_surrogate

    def recording(log_pi, old_log_pi, factor, advantages, clip):
        factors.append(factor.clone())
        return real(log_pi, old_log_pi, factor, advantages, clip)

    monkeypatch.setattr(happo_learner, "happo_surrogate", recording)
    rng_state = learner.rng.bit_generator.state
    learner.update(batch)
    replay = np.random.default_rng()
    replay.bit_generator.state = rng_state
    first = int(replay.permutation(2)[0])  # the update's first draw is the agent order
    assert len(factors) == 4  # 2 agents x 2 epochs x 1 minibatch
    torch.testing.assert_close(factors[0], torch.ones(4))
    torch.testing.assert_close(factors[1], torch.ones(4))
    state = torch.as_tensor(batch.state[:, 0])
    requests, servers, links = happo_learner.actor_inputs(learner.layout, state)
    masks = [m[first] for m in learner.masks]
    with torch.no_grad():
        new = learner.actors[first].evaluate(
            requests[first], servers, links, torch.as_tensor(batch.actions[:, 0, first]), masks
        )
    expected = (new.log_pi - torch.as_tensor(batch.log_pi[:, 0, first])).exp()
    # minibatches take the rows in a shuffled order: compare as multisets
    torch.testing.assert_close(factors[2].sort().values, expected.sort().values)
    assert not torch.allclose(expected, torch.ones(4))  # the first agent's policy did move


def test_tiny_happo_run_checkpoints_and_acts_through_the_policy(tmp_path):
    config = TrainConfig(
        scenario="dnn-inference",
        algo="happo",
        env_config={"agents_per_service": 1, "horizon": 5},
        seed=0,
        model=TINY,
        algo_options={
            "steps_per_iteration": 10,
            "eval_interval_steps": 10,
            "eval_episodes": 2,
            "num_envs_per_env_runner": 2,
        },
    )
    algo = build_happo_config(config).build_algo()
    result = algo.train()
    assert result["env_runners"]["num_env_steps_sampled_lifetime"] == 10
    assert np.isfinite(result["evaluation"]["env_runners"]["episode_return_mean"])
    assert np.isfinite(result["learners"]["critic"]["vf_loss"])
    save_checkpoint(algo, tmp_path, 1, {"name": "happo", "agent_modules": {}}, keep=1)
    policy = HISPERPolicy.from_checkpoint(tmp_path)
    states = algo.collector.states
    observations = algo.layout.observations(states, algo.masks)
    ids = [agent for _ in states for agent in algo.agents]
    obs = [
        {k: entry_row(v, e) for k, v in observations[agent].items()}
        for e in range(len(states))
        for agent in algo.agents
    ]
    np.testing.assert_array_equal(
        policy.act_batch(ids, obs), algo.learner.act(states, explore=False).reshape(-1, 3)
    )
    restored = build_happo_config(config).build_algo()
    restored.restore_from_path(tmp_path / "checkpoints" / "iter_000001")
    for a, b in zip(algo.learner.value.parameters(), restored.learner.value.parameters(), strict=True):
        torch.testing.assert_close(a, b)
    algo.stop(), restored.stop()
