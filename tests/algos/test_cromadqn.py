"""CROMADQN-like's pieces without Ray: the shared branching double-DQN target and the TD loss against a
direct numpy computation, the settings' checks, and the RLlib config its builder makes from a
TrainConfig (planner ``none`` only, epsilon over half the budget in env steps)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from edgeplace.algos.cromadqn.build import build_cromadqn_config
from edgeplace.algos.cromadqn.learner import (
    CromadqnTorchLearner,
    branching_target,
    branching_td_loss,
    taken_q,
)
from edgeplace.algos.cromadqn.settings import CromadqnSettings
from edgeplace.algos.train_config import TrainConfig

NEG_INF = float("-inf")


def tiny_batch(seed: int = 0):
    """N = 3 samples, B = 4 branches of width W = 5, random allowed sets (>= 1 per branch)."""
    rng = np.random.default_rng(seed)
    n, b, w = 3, 4, 5
    allowed = rng.random((n, b, w)) < 0.6
    allowed[..., 0] |= ~allowed.any(-1)
    online = np.where(allowed, rng.normal(size=(n, b, w)), NEG_INF)
    target = np.where(allowed, rng.normal(size=(n, b, w)), NEG_INF)
    rewards = rng.normal(size=n)
    terminateds = np.array([False, True, False])
    n_step = np.array([1, 1, 3])
    return online, target, rewards, terminateds, n_step, allowed


def test_the_branching_target_matches_numpy():
    online, target, rewards, terminateds, n_step, allowed = tiny_batch()
    gamma = 0.9
    expected = np.empty(3)
    for i in range(3):
        best = [target[i, b, int(np.argmax(online[i, b]))] for b in range(4)]  # masked argmax per branch
        assert all(np.isfinite(best))
        expected[i] = rewards[i] + gamma ** n_step[i] * (0.0 if terminateds[i] else np.mean(best))
    y = branching_target(
        torch.tensor(rewards),
        torch.tensor(gamma**n_step, dtype=torch.float64),
        torch.tensor(terminateds),
        torch.tensor(online),
        torch.tensor(target),
    )
    np.testing.assert_allclose(y.numpy(), expected, rtol=1e-12)


def test_the_td_loss_is_the_weighted_mean_over_samples_of_the_mean_branch_huber():
    online, _, _, _, _, allowed = tiny_batch(1)
    rng = np.random.default_rng(2)
    actions = np.stack([[rng.choice(np.flatnonzero(allowed[i, b])) for b in range(4)] for i in range(3)])
    y, weights = np.array([0.3, -2.5, 4.0]), np.array([1.0, 0.5, 2.0])
    q = np.take_along_axis(online, actions[..., None], -1)[..., 0]  # (N, B)
    delta = np.abs(q - y[:, None])
    huber = np.where(delta < 1.0, 0.5 * delta**2, delta - 0.5)
    q_taken = taken_q(torch.tensor(online), torch.tensor(actions))
    np.testing.assert_allclose(q_taken.numpy(), q)
    loss, td_error = branching_td_loss(q_taken, torch.tensor(y), torch.tensor(weights))
    assert loss.item() == pytest.approx(np.mean(weights * huber.mean(-1)))
    np.testing.assert_allclose(td_error.numpy(), delta.mean(-1))
    mse, _ = branching_td_loss(q_taken, torch.tensor(y), torch.tensor(weights), huber=False)
    assert mse.item() == pytest.approx(np.mean(weights * (delta**2).mean(-1)))


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"lr": 0}, "lr must be > 0, got 0"),
        ({"epsilon_end": 1.5}, "epsilon_end must be in \\[0, 1\\], got 1.5"),
        ({"epsilon_fraction": 0.0}, "epsilon_fraction"),
        ({"batch_size": 2.5}, "batch_size must be an integer >= 1, got 2.5"),
        ({"n_step": 5}, "rollout_fragment_length \\(4\\) must be >= n_step \\(5\\)"),
        ({"coral_reef": True}, "coral_reef initial placement is not implemented"),
        ({"replay": 10}, "unknown keys \\['replay'\\]"),
    ],
)
def test_settings_name_the_bad_value(values, message):
    with pytest.raises(ValueError, match=message):
        CromadqnSettings.from_dict(values)


def run(**changes) -> TrainConfig:
    return TrainConfig(scenario="metaverse-dag", algo="cromadqn", timesteps=8_000, **changes)


def test_the_builder_maps_the_spec_defaults_onto_dqn():
    algo = build_cromadqn_config(run())
    assert algo.env_config["planner"] == "none"
    assert algo.learner_class is CromadqnTorchLearner
    assert (algo.lr, algo.gamma, algo.train_batch_size_per_learner) == (1e-4, 0.99, 256)
    assert algo.replay_buffer_config["capacity"] == 100_000
    assert algo.target_network_update_freq == 1_000 and algo.double_q
    assert algo.epsilon == [[0, 1.0], [1_000, 0.05]]  # 8,000 decisions / 4 ECs = 2,000 env steps, half
    assert algo.policies.keys() == {"shared"}


def test_the_builder_rejects_a_planner_and_ppo_fields():
    with pytest.raises(ValueError, match="planner 'heuristic'"):
        build_cromadqn_config(run(env_config={"planner": "heuristic"}))
    with pytest.raises(ValueError, match="PPO fields \\['num_epochs', 'lr'\\]"):
        build_cromadqn_config(run(lr=1e-3, num_epochs=2))
    with pytest.raises(ValueError, match="unknown model_config keys"):
        build_cromadqn_config(run(model={"gru_size": 8}))
