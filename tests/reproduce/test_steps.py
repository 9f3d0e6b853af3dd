"""The reproductions' resumable evaluation step."""

from __future__ import annotations

import pandas as pd

from edgeplace.algos.baselines import make_baseline
from edgeplace.policy import Policy
from edgeplace.reproduce.steps import ensure_evaluated

CONFIG = {"topology": "synthetic:genai-small", "split": "test"}


def test_a_cached_evaluation_builds_no_policy(tmp_path):
    evaluation = ("greedy", tmp_path, "genai-chain", CONFIG)
    built: list[str] = []

    def make_policies() -> list[Policy]:
        built.append("greedy")
        return [make_baseline("genai-chain", "greedy")]

    def evaluate() -> pd.DataFrame:
        return ensure_evaluated(*evaluation, make_policies, seeds=[0, 1], episodes=2)

    first = evaluate()
    assert built == ["greedy"] and len(first) == 2 * 2
    again = evaluate()
    assert built == ["greedy"]  # read from eval/greedy/episodes.csv: no checkpoint would be loaded
    pd.testing.assert_frame_equal(again, first, check_dtype=False)
