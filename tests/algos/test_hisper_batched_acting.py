"""Batched acting (one forward for every env x agent) is exactly the per-agent path: same argmax actions,
and sampled actions drawn from the same per-agent distributions."""

import numpy as np
import pytest
import torch

from edgeplace.algos.hisper.actor import Actor
from edgeplace.algos.hisper.collector import JointCollector, uniform_actions
from edgeplace.algos.hisper.joint_view import JointStateLayout
from edgeplace.algos.hisper.learner import HISPERLearner
from edgeplace.algos.hisper.policy import HISPERPolicy
from edgeplace.algos.hisper.settings import HISPERSettings
from edgeplace.envs.action_masks import entry_row
from edgeplace.envs.dnn_inference import DnnInferenceEnv, agent_service
from edgeplace.models.autoregressive_head import ActionMode

ENV = {"agents_per_service": 2, "horizon": 5}
TINY = {"embed_dim": 8, "actor_hidden": (16,), "critic_hidden": (16,), "lstm_hidden": 8}
ENVS = 6


def make_learner(autoregressive: bool) -> tuple[HISPERLearner, np.ndarray]:
    """A learner with random weights and the global states (E, G) of a few random slots."""
    collector = JointCollector([DnnInferenceEnv(ENV) for _ in range(ENVS)], seed=1)
    env = collector.envs[0]
    rng = np.random.default_rng(0)
    collector.step(uniform_actions(env, rng, ENVS))  # states after one slot: instances exist
    layout = JointStateLayout.from_layout(env.layout, env.possible_agents)
    masks = np.stack([env.layout.structural_mask(agent_service(a)) for a in env.possible_agents])
    settings = HISPERSettings(autoregressive=autoregressive, hybrid_reward=autoregressive, **TINY)
    learner = HISPERLearner(layout, masks, settings, gamma=0.95, seed=5)
    # perturb the near-uniform initial heads so that argmax and samples differ between agents
    with torch.no_grad():
        for actor in learner.actors:
            for p in actor.head.parameters():
                p.add_(torch.randn(p.shape, generator=learner.generator))
    return learner, collector.states


def per_agent(learner: HISPERLearner, states: np.ndarray, mode: ActionMode) -> list:
    """One forward per agent (the path batched acting replaces). -> A HeadOutputs with * = (E,)."""
    requests, servers, links = learner.actor_inputs(torch.as_tensor(states))
    with torch.no_grad():
        return [
            actor(requests[n], servers, links, [m[n] for m in learner.masks], mode=mode)
            for n, actor in enumerate(learner.actors)
        ]


@pytest.mark.parametrize("autoregressive", [True, False])
def test_batched_argmax_equals_one_forward_per_agent(autoregressive):
    learner, states = make_learner(autoregressive)
    batched = learner.act(states, explore=False)  # (E, A, 3)
    singles = per_agent(learner, states, ActionMode.ARGMAX)
    expected = np.stack([out.actions.numpy() for out in singles], axis=1)  # (E, A, 3)
    np.testing.assert_array_equal(batched, expected)
    assert len({tuple(a) for a in expected.reshape(-1, 3)}) > 1  # not a degenerate all-equal case


@pytest.mark.parametrize("autoregressive", [True, False])
def test_batched_samples_come_from_each_agents_own_distribution(autoregressive):
    learner, states = make_learner(autoregressive)
    out = learner.policy(torch.as_tensor(states), ActionMode.SAMPLE)  # * = (A, E)
    requests, servers, links = learner.actor_inputs(torch.as_tensor(states))
    for n, actor in enumerate(learner.actors):
        masks = [m[n] for m in learner.masks]
        with torch.no_grad():
            forced = actor.evaluate(requests[n], servers, links, out.actions[n], masks)
        torch.testing.assert_close(out.log_pi[n], forced.log_pi)  # same log pi of the same actions
        for k in range(3):
            torch.testing.assert_close(out.probs[k][n], forced.probs[k])
    # same generator state, same samples
    learner.generator.manual_seed(9)
    first = learner.act(states)
    learner.generator.manual_seed(9)
    np.testing.assert_array_equal(first, learner.act(states))


def test_policy_act_batch_equals_one_forward_per_agent():
    learner, states = make_learner(True)
    policy = HISPERPolicy.from_learner(learner)
    observations = learner.layout.observations(states, learner.masks_np)
    agents = list(learner.layout.agents)
    ids = [agent for _ in range(ENVS) for agent in agents]
    rows = [
        {k: entry_row(v, e) for k, v in observations[agent].items()} for e in range(ENVS) for agent in agents
    ]
    expected = np.stack([out.actions.numpy() for out in per_agent(learner, states, ActionMode.ARGMAX)], 1)
    np.testing.assert_array_equal(policy.act_batch(ids, rows), expected.reshape(-1, 3))
    # uneven rows per agent fall back to one forward per agent, with the same result
    np.testing.assert_array_equal(policy.act_batch(ids[:5], rows[:5]), expected.reshape(-1, 3)[:5])
    assert all(isinstance(actor, Actor) and not actor.training for actor in policy.actors)
