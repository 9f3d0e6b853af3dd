"""One comparison under the old and the new statistics: a trained policy against greedy on a GenAI edge
test split (issue 22, section 1).

- **old**: the former default of ``edgeplace evaluate`` (200 episodes of seed 0: 25 request sets each
  replayed 8 times), per-policy bootstrap CIs over episodes, and Welch's t-test on the pooled rows, as if
  the 200 episodes of each policy were independent samples;
- **new**: each request set once under each of five noise seeds, CIs resampling request sets, and the
  paired t-test over request sets with its paired bootstrap CI of the difference.

    python bench/statistics_before_after.py --checkpoint RUN/checkpoint [--topology genai-edge:S1]

Train the policy first, e.g. ``edgeplace train genai-chain --algo mappo --topology genai-edge:S1
--timesteps 76800 --out RUN``. Prints a table and writes ``--out``/before_after.md.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd
from rich.console import Console

from edgeplace.algos.baselines import make_baseline
from edgeplace.algos.module_policy import ModulePolicy
from edgeplace.evaluation.comparison import paired_comparison
from edgeplace.evaluation.report import table_markdown
from edgeplace.evaluation.runner import DEFAULT_EPISODES, episodes_per_seed, evaluate_policies
from edgeplace.evaluation.statistics import POLICY, bootstrap_ci, summarize, welch_t_test

METRICS = ("utility", "sla_satisfaction")
NEW_SEEDS = (0, 1, 2, 3, 4)


def _old(frame: pd.DataFrame, metric: str, policy: str, reference: str) -> list[str]:
    a, b = (frame.loc[frame[POLICY] == name, metric].to_numpy() for name in (policy, reference))
    test = welch_t_test(a, b)
    low, high = bootstrap_ci(a)
    return [
        "old: Welch t on pooled episodes",
        f"{a.size} vs {b.size} episodes",
        f"{a.mean():.4f} [{low:.4f}, {high:.4f}]",
        f"{test.mean_diff:+.4f} (no CI)",
        f"{test.p_value:.3g}",
    ]


def _new(frame: pd.DataFrame, metric: str, policy: str, reference: str) -> list[str]:
    rows = frame[POLICY]
    test = paired_comparison(
        frame[rows == policy], frame[rows == reference], metric, names=(policy, reference)
    )
    summary = summarize(frame[rows == policy], [metric]).iloc[0]
    mean, low, high = (summary[f"{metric}_{s}"] for s in ("mean", "ci_low", "ci_high"))
    return [
        f"new: {test.test}",
        f"{test.n} ({test.streams} paired episodes)",
        f"{mean:.4f} [{low:.4f}, {high:.4f}]",
        f"{test.mean_diff:+.4f} [{test.ci_low:+.4f}, {test.ci_high:+.4f}]",
        f"{test.p_value:.3g}",
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkpoint", type=Path, required=True)
    parser.add_argument("--topology", default="genai-edge:S1")
    parser.add_argument("--name", default="mappo")
    parser.add_argument("--out", type=Path, default=Path("bench_results/statistics"))
    args = parser.parse_args()
    env_config = {"topology": args.topology, "split": "test"}
    policies = [
        ModulePolicy.from_checkpoint(args.checkpoint, name=args.name),
        make_baseline("genai-chain", "greedy"),
    ]
    old = evaluate_policies("genai-chain", env_config, policies, seeds=[0], episodes=DEFAULT_EPISODES)
    old = old.drop(columns="request_set")  # the old frame had no clusters
    new_episodes = episodes_per_seed("genai-chain", env_config)
    new = evaluate_policies("genai-chain", env_config, policies, seeds=NEW_SEEDS, episodes=new_episodes)
    header = [
        "metric",
        "statistics",
        "n",
        f"{args.name} mean [95% CI]",
        f"{args.name} - greedy [95% CI]",
        "p",
    ]
    rows = [
        [metric, *cells]
        for metric in METRICS
        for cells in (_old(old, metric, args.name, "greedy"), _new(new, metric, args.name, "greedy"))
    ]
    table = table_markdown(header, rows)
    args.out.mkdir(parents=True, exist_ok=True)
    intro = (
        f"{args.name} ({args.checkpoint}) against greedy on the {args.topology} test split: old = seed 0 x "
        f"{DEFAULT_EPISODES} episodes; new = seeds {list(NEW_SEEDS)} x {new_episodes} request sets.\n\n"
    )
    (args.out / "before_after.md").write_text(intro + table + "\n")
    Console().print(intro + table)


if __name__ == "__main__":
    main()
