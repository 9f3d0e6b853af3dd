"""The reproductions' resumable steps: a cached evaluation or table is not computed again."""

from __future__ import annotations

import pandas as pd

from edgeplace.algos.baselines import make_baseline
from edgeplace.envs.genai_chain import SCENARIO_ID
from edgeplace.policy import Policy
from edgeplace.reproduce.steps import EvaluationStep, cached_frame, evaluate_all

CONFIG = {"topology": "synthetic:genai-small", "split": "test"}


def test_a_cached_evaluation_builds_no_policy_and_keeps_its_tags(tmp_path):
    built: list[str] = []

    def make_policies() -> list[Policy]:
        built.append("greedy")
        return [make_baseline(SCENARIO_ID, "greedy")]

    steps = [EvaluationStep("greedy", CONFIG, make_policies, [0, 1], 2, {"swept": 0.5})]
    first = evaluate_all(steps, tmp_path, SCENARIO_ID)
    assert built == ["greedy"] and len(first) == 2 * 2 and set(first["swept"]) == {0.5}
    again = evaluate_all(steps, tmp_path, SCENARIO_ID)
    assert built == ["greedy"]  # read from eval/greedy/episodes.csv: no checkpoint would be loaded
    assert "swept" not in pd.read_csv(tmp_path / "eval" / "greedy" / "episodes.csv")
    pd.testing.assert_frame_equal(again, first, check_dtype=False)


def test_a_cached_table_is_not_computed_again(tmp_path):
    calls: list[int] = []

    def compute() -> pd.DataFrame:
        calls.append(1)
        return pd.DataFrame({"agents": [8], "seconds": [1.5e-5]})

    path = tmp_path / "sub" / "table.csv"
    first = cached_frame(path, compute)
    again = cached_frame(path, compute)
    assert calls == [1] and path.is_file()
    pd.testing.assert_frame_equal(again, first)
