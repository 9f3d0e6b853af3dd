"""The evaluation runner: identical streams whatever the batching and whatever the policy, one row per
episode."""

from __future__ import annotations

import numpy as np
import pytest

from edgeplace.algos.baselines import make_baseline
from edgeplace.envs.genai_chain import ChainKPI, GenAIChainEnv
from edgeplace.evaluation.design import REQUEST_SET
from edgeplace.evaluation.pipeline import evaluate_to_report
from edgeplace.evaluation.runner import episodes_per_seed, evaluate_policies, run_episodes
from edgeplace.obs_keys import ObsKey

CONFIG = {"topology": "synthetic:genai-small", "split": "test"}


def test_episodes_do_not_depend_on_batching():
    greedy = make_baseline("genai-chain", "greedy")
    one = run_episodes(lambda: GenAIChainEnv(CONFIG), greedy, seed=7, episodes=6, num_envs=1)
    many = run_episodes(lambda: GenAIChainEnv(CONFIG), greedy, seed=7, episodes=6, num_envs=4)
    assert one == many
    other_seed = run_episodes(lambda: GenAIChainEnv(CONFIG), greedy, seed=8, episodes=6, num_envs=4)
    assert other_seed != one


def test_evaluate_policies_rows_and_report(tmp_path):
    policies = [make_baseline("genai-chain", "greedy"), make_baseline("genai-chain", "random", seed=0)]
    frame = evaluate_policies("genai-chain", CONFIG, policies, seeds=[0, 1], episodes=3)
    assert len(frame) == 2 * 2 * 3
    assert {"policy", "seed", "episode", *ChainKPI} <= set(frame.columns)
    report = evaluate_to_report("genai-chain", CONFIG, policies, seeds=[0], episodes=4, out_dir=tmp_path,
                                reference="greedy")  # fmt: skip
    text = report.table_md.read_text()
    assert "greedy" in text and "random" in text and "%" in text
    assert all(path.is_file() for path in report.plots)


class Recorder:
    """A policy that records what ``stage_1`` observes (each request's start) and what it chose."""

    def __init__(self, policy) -> None:
        self.policy, self.name = policy, policy.name
        self.requests: list[np.ndarray] = []
        self.actions: list[int] = []

    def act_batch(self, agent_ids, observations):
        actions = self.policy.act_batch(agent_ids, observations)
        for agent, obs, action in zip(agent_ids, observations, actions, strict=True):
            if agent == "stage_1":
                self.requests.append(np.array(obs[ObsKey.REQUEST]))
                self.actions.append(int(action))
        return actions


@pytest.mark.parametrize("split", ["train", "test"])
def test_two_different_policies_see_the_same_request_sequence(split):
    env_config = {"topology": "synthetic:genai-small", "split": split}
    greedy = Recorder(make_baseline("genai-chain", "greedy"))
    random = Recorder(make_baseline("genai-chain", "random", seed=1))
    for policy in (greedy, random):
        run_episodes(lambda: GenAIChainEnv(env_config), policy, seed=3, episodes=3, num_envs=2)
    assert greedy.actions != random.actions  # they act differently...
    np.testing.assert_array_equal(np.stack(greedy.requests), np.stack(random.requests))  # ...on one stream


def test_replayed_request_sets_are_tagged_and_counted(tmp_path):
    env = GenAIChainEnv(CONFIG)
    sets = env.request_sets
    assert sets == len(env.requests) // np.gcd(len(env.requests), env.config.requests_per_episode)
    assert episodes_per_seed("genai-chain", CONFIG) == sets
    greedy = make_baseline("genai-chain", "greedy")
    frame = evaluate_policies("genai-chain", CONFIG, [greedy], seeds=[0, 1], episodes=sets + 2)
    assert frame[REQUEST_SET].tolist() == [e % sets for e in range(sets + 2)] * 2
    # episodes e and e + sets replay the same requests (the same set) under other noise
    record = Recorder(greedy)
    kpis = run_episodes(lambda: GenAIChainEnv(CONFIG), record, seed=0, episodes=sets + 1, num_envs=1)
    assert kpis[0] != kpis[sets]
    per_episode = len(record.requests) // (sets + 1)
    first, again = record.requests[:per_episode], record.requests[sets * per_episode :]
    assert all(np.array_equal(a, b) for a, b in zip(first, again, strict=True))
    train = {**CONFIG, "split": "train"}
    assert GenAIChainEnv(train).request_sets is None and episodes_per_seed("genai-chain", train) == 200
    assert REQUEST_SET not in evaluate_policies("genai-chain", train, [greedy], seeds=[0], episodes=2)
