import numpy as np
import pytest
import torch

from edgeplace.algos.hisper.joint_view import JointStateLayout
from edgeplace.algos.hisper.learner import Batch, HISPERLearner
from edgeplace.algos.hisper.settings import EntropyInTargets, HISPERSettings, TwinMin
from edgeplace.algos.hisper.update import (
    critic_loss,
    replace_agent,
    sequential_update,
    soft_targets,
    twin_min,
)
from edgeplace.envs.dnn_inference import DnnInferenceEnv, agent_service, global_state
from edgeplace.models.autoregressive_head import HeadOutput

TINY = {"embed_dim": 4, "actor_hidden": (8,), "critic_hidden": (8,), "lstm_hidden": 4}


def test_soft_targets_hand_case():
    rewards = torch.tensor([[1.0, -2.0, -0.5], [0.0, 0.0, 0.0]])
    terminated = torch.tensor([False, True])
    next_min_q = torch.tensor([[10.0, -4.0, -1.0], [5.0, 5.0, 5.0]])
    next_log_pi = torch.tensor([-3.0, -1.0])
    y = soft_targets(rewards, terminated, next_min_q, next_log_pi, gamma=0.5, alpha=2.0)
    # row 0: r + 0.5 (q - 2 * -3) = r + 0.5 (q + 6); row 1 terminated: r
    expected = torch.tensor([[1.0 + 8.0, -2.0 + 1.0, -0.5 + 2.5], [0.0, 0.0, 0.0]])
    torch.testing.assert_close(y, expected)
    split = soft_targets(
        rewards,
        terminated,
        next_min_q,
        next_log_pi,
        gamma=0.5,
        alpha=2.0,
        entropy_in_targets=EntropyInTargets.SPLIT,
    )
    # the entropy bonus 6 is shared by the 3 parts: 2 each
    torch.testing.assert_close(split[0], torch.tensor([1.0 + 6.0, -2.0 - 1.0, -0.5 + 0.5]))


def test_critic_loss_sums_twins_and_parts_and_averages_the_batch():
    q = torch.tensor([[[1.0, 2.0], [0.0, 0.0]], [[0.0, 0.0], [3.0, 0.0]]])  # (2 twins, B=2, P=2)
    targets = torch.zeros(2, 2)
    # twin 0: mean(1 + 4, 0) = 2.5; twin 1: mean(0, 9) = 4.5
    assert float(critic_loss(q, targets)) == pytest.approx(7.0)


def test_twin_min_per_part_or_by_the_lower_total():
    # (2 twins, B=2, P=3): row 0 sums 6 vs 4, row 1 sums 0 vs 1
    q = torch.tensor([[[1.0, 5.0, 0.0], [0.0, 0.0, 0.0]], [[2.0, 1.0, 1.0], [-1.0, 2.0, 0.0]]])
    torch.testing.assert_close(twin_min(q, TwinMin.PART), torch.tensor([[1.0, 1.0, 0.0], [-1.0, 0.0, 0.0]]))
    torch.testing.assert_close(twin_min(q, TwinMin.TOTAL), torch.tensor([[2.0, 1.0, 1.0], [0.0, 0.0, 0.0]]))
    one_part = q[..., :1]
    torch.testing.assert_close(twin_min(one_part, TwinMin.TOTAL), twin_min(one_part, TwinMin.PART))
    q.requires_grad_(True)
    twin_min(q, TwinMin.TOTAL).sum().backward()
    # the gradient reaches the chosen twin's entries only
    torch.testing.assert_close(q.grad, torch.tensor([[[0.0] * 3, [1.0] * 3], [[1.0] * 3, [0.0] * 3]]))


def test_sequential_update_is_a_permutation_and_later_agents_see_fresh_actions():
    batch, agents, width = 2, 4, 3
    joint = torch.zeros(batch, agents, width)
    order = [2, 0, 3, 1]
    seen: list[tuple[int, torch.Tensor]] = []

    def step_agent(n: int, current: torch.Tensor) -> None:
        seen.append((n, current.clone()))

    def resample(n: int) -> torch.Tensor:
        return torch.full((batch, width), float(n + 1))  # marks agent n's fresh sample

    final = sequential_update(order, joint, step_agent, resample)
    assert [n for n, _ in seen] == order
    for position, (_, current) in enumerate(seen):
        updated = set(order[:position])
        for n in range(agents):
            expected = float(n + 1) if n in updated else 0.0
            assert torch.all(current[:, n] == expected), (position, n)
    torch.testing.assert_close(final[:, :, 0], torch.tensor([[1.0, 2.0, 3.0, 4.0]] * batch))
    with pytest.raises(ValueError, match="permutation"):
        sequential_update([0, 0, 1, 2], torch.zeros(batch, agents, width), step_agent, resample)


def test_replace_agent_keeps_the_gradient_of_the_replaced_entry_only():
    joint = torch.zeros(2, 3, 2)
    encoding = torch.ones(2, 2, requires_grad=True)
    flat = replace_agent(joint, 1, encoding)
    assert flat.shape == (2, 6)
    torch.testing.assert_close(flat[0], torch.tensor([0.0, 0.0, 1.0, 1.0, 0.0, 0.0]))
    flat.sum().backward()
    torch.testing.assert_close(encoding.grad, torch.ones(2, 2))


def make_learner(settings: HISPERSettings, seed: int = 0) -> tuple[HISPERLearner, DnnInferenceEnv]:
    env = DnnInferenceEnv({"agents_per_service": 1, "horizon": 3})
    layout = JointStateLayout.from_layout(env.layout, env.possible_agents)
    masks = np.stack([env.layout.structural_mask(agent_service(a)) for a in env.possible_agents])
    return HISPERLearner(layout, masks, settings, gamma=0.9, seed=seed), env


def make_batch(env: DnnInferenceEnv, size: int = 4) -> dict[str, np.ndarray]:
    observations, _ = env.reset(seed=0)
    state = global_state(observations, env.possible_agents)
    rng = np.random.default_rng(0)
    return {
        "state": np.repeat(state[None], size, axis=0),
        "next_state": np.repeat(state[None], size, axis=0),
        "actions": rng.integers(0, [16, 3, 16], size=(size, 2, 3)),
        "rewards": rng.normal(size=(size, 3)).astype(np.float32),
        "terminated": np.zeros(size, dtype=bool),
    }


class StubCritic(torch.nn.Module):
    """Twin Q values known in advance: twin 0 and twin 1 per part; the min is what the target uses."""

    def __init__(self, q: torch.Tensor) -> None:
        super().__init__()
        self.q = q  # (2, P)

    def forward(self, state: torch.Tensor, joint_action: torch.Tensor) -> torch.Tensor:
        return self.q[:, None, :].expand(2, state.shape[0], self.q.shape[1])


@pytest.mark.parametrize(
    ("hybrid", "how", "min_q"),
    [
        (True, TwinMin.PART, [3.0, -1.0, 2.0]),
        (True, TwinMin.TOTAL, [4.0, -1.0, 2.0]),  # twin sums 5 and 8
        (False, TwinMin.PART, [3.0]),
        (False, TwinMin.TOTAL, [3.0]),
    ],
)
def test_learner_targets_use_the_min_twin_and_the_joint_log_pi(hybrid, how, min_q):
    learner, env = make_learner(HISPERSettings(hybrid_reward=hybrid, alpha=0.5, twin_min=how, **TINY))
    rows = make_batch(env, size=3)
    batch = Batch(rows, learner.device)
    parts = 3 if hybrid else 1
    learner.target_critic = StubCritic(torch.tensor([[4.0, -1.0, 2.0][:parts], [3.0, 0.0, 5.0][:parts]]))
    log_pi = torch.tensor([[-1.0, -2.0, -3.0], [-0.5, -0.5, -0.5]])  # (A=2, B=3)
    one_hots = tuple(torch.zeros(2, 3, size) for size in learner.sizes)
    fake = HeadOutput(torch.zeros(2, 3, 3, dtype=torch.long), log_pi, one_hots, one_hots, one_hots)
    learner.policy = lambda state, mode, grad=False: fake
    y = learner.targets(batch)
    joint_log_pi = torch.tensor([-1.5, -2.5, -3.5])
    min_q = torch.tensor(min_q)
    rewards = (
        torch.as_tensor(rows["rewards"]) if hybrid else torch.as_tensor(rows["rewards"]).sum(1, keepdim=True)
    )
    expected = rewards + 0.9 * (min_q[None] - 0.5 * joint_log_pi[:, None])
    torch.testing.assert_close(y, expected)


def test_polyak_moves_the_target_by_tau_after_each_update():
    learner, env = make_learner(HISPERSettings(tau=0.25, **TINY))
    before = [p.detach().clone() for p in learner.target_critic.parameters()]
    learner.update(make_batch(env))
    for old, target, online in zip(
        before, learner.target_critic.parameters(), learner.critic.parameters(), strict=True
    ):
        torch.testing.assert_close(target, 0.75 * old + 0.25 * online.detach())


def test_update_steps_every_actor_once_and_keeps_the_critic_trainable():
    learner, env = make_learner(HISPERSettings(**TINY))
    before = [[p.detach().clone() for p in actor.parameters()] for actor in learner.actors]
    stats = learner.update(make_batch(env))
    for n, actor in enumerate(learner.actors):
        assert any(not torch.equal(a, b) for a, b in zip(before[n], actor.parameters(), strict=True)), n
    assert all(p.requires_grad for p in learner.critic.parameters())
    assert {"critic_loss", "actor_loss", "od_0/policy_loss", "mot_0/entropy"} <= set(stats)
    assert learner.updates == 1


def test_a_critic_only_update_leaves_the_actors_and_moves_the_critic():
    learner, env = make_learner(HISPERSettings(**TINY))
    actors = [p.detach().clone() for actor in learner.actors for p in actor.parameters()]
    critic = [p.detach().clone() for p in learner.critic.parameters()]
    stats = learner.update(make_batch(env), actors=False)
    after = [p for actor in learner.actors for p in actor.parameters()]
    assert all(torch.equal(a, b) for a, b in zip(actors, after, strict=True))
    assert any(not torch.equal(a, b) for a, b in zip(critic, learner.critic.parameters(), strict=True))
    assert "critic_loss" in stats and "actor_loss" not in stats
    assert learner.updates == 1


def test_mot_agents_never_pick_the_masked_model_slot():
    learner, env = make_learner(HISPERSettings(**TINY))
    observations, _ = env.reset(seed=1)
    states = np.repeat(global_state(observations, env.possible_agents)[None], 500, axis=0)
    actions = learner.act(states)
    assert actions.shape == (500, 2, 3)
    assert actions[:, 1, 1].max() <= 2 and actions[:, 0, 1].max() == 3
    assert actions[..., 2].max() < env.network.num_servers
