"""The evaluation runner: identical streams whatever the batching, one row per episode."""

from __future__ import annotations

from edgeplace.algos.baselines import make_baseline
from edgeplace.envs.genai_chain import ChainKPI, GenAIChainEnv
from edgeplace.evaluation.pipeline import evaluate_to_report
from edgeplace.evaluation.runner import evaluate_policies, run_episodes

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
