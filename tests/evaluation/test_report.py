"""Tests of the Markdown table, the written evaluation report and the plots."""

import json
import re

import numpy as np
import pandas as pd
import pytest

from edgeplace import atomic_io
from edgeplace.atomic_io import write_bytes_atomic
from edgeplace.evaluation.plots import learning_curve_plot
from edgeplace.evaluation.report import markdown_table, write_evaluation_report
from edgeplace.evaluation.statistics import CLUSTER_UNIT, CLUSTERS, EPISODES, POLICY, REPLICATES, summarize

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
METRICS = ["sla_satisfaction", "latency_s"]


@pytest.fixture
def episodes() -> pd.DataFrame:
    """Three policies x 2 seeds x 5 episodes; latency undefined (NaN) in one episode."""
    rng = np.random.default_rng(0)
    rows = [
        {
            POLICY: policy,
            "seed": seed,
            "episode": episode,
            "sla_satisfaction": rng.normal(sla, 0.02),
            "latency_s": rng.exponential(latency),
        }
        for policy, sla, latency in [("ppo", 0.94, 0.1), ("greedy", 0.8, 0.2), ("rand|om", 0.5, 0.4)]
        for seed in range(2)
        for episode in range(5)
    ]
    frame = pd.DataFrame(rows)
    frame.loc[3, "latency_s"] = np.nan
    return frame


def _assert_png(path) -> None:
    data = path.read_bytes()
    assert len(data) > 1000 and data.startswith(PNG_MAGIC), path


def test_markdown_table_shape_and_formats():
    summary = pd.DataFrame(
        {
            POLICY: ["ppo", "greedy"],
            EPISODES: [30, 30],
            CLUSTERS: [10, 10],
            CLUSTER_UNIT: ["request sets", "request sets"],
            REPLICATES: [3, 1],
            "sla_mean": [0.942, 0.8],
            "sla_std": [0.031, 0.05],
            "sla_ci_low": [0.936, 0.79],
            "sla_ci_high": [0.948, 0.81],
            "latency_s_mean": [0.12, np.nan],
            "latency_s_std": [0.01, np.nan],
            "latency_s_ci_low": [0.11, np.nan],
            "latency_s_ci_high": [0.13, np.nan],
        }
    )
    labels = {"sla": "SLA | rate"}
    table = markdown_table(summary, ["sla", "latency_s"], labels=labels, formats={"sla": "{:.1%}"})
    lines = table.splitlines()
    assert len(lines) == 2 + 2  # header, separator, one row per policy
    assert all(len(re.split(r"(?<!\\)\|", line)) == 2 + 5 for line in lines)  # 5 columns
    assert lines[0] == r"| policy | SLA \| rate | latency_s | episodes | units |"
    assert set(lines[1].replace("|", "").split()) == {"---"}
    cells = "94.2% ± 3.1% [93.6%, 94.8%] | 0.120 ± 0.010 [0.110, 0.130]"
    assert lines[2] == f"| ppo | {cells} | 30 | 3 training seeds x 10 request sets |"
    assert lines[3].endswith("| 30 | 10 request sets |")
    assert "n/a ± n/a [n/a, n/a]" in lines[3]


def test_markdown_table_missing_metric_names_it():
    summary = pd.DataFrame(
        {POLICY: ["ppo"], EPISODES: [1], CLUSTERS: [1], CLUSTER_UNIT: ["episodes"], REPLICATES: [1]}
    )
    with pytest.raises(KeyError, match="utility_mean"):
        markdown_table(summary, ["utility"])


def test_write_evaluation_report(tmp_path, episodes):
    out_dir = tmp_path / "new" / "report"
    report = write_evaluation_report(
        episodes,
        METRICS,
        out_dir,
        title="GenAI chain",
        labels={"latency_s": "Latency (s)"},
        formats={"sla_satisfaction": "{:.1%}"},
        metadata={"scenario": "genai-chain", "budget": {"episodes": 5}},
        reference="ppo",
        resamples=500,
    )
    record = json.loads(report.results_json.read_text())
    assert report.results_json.stat().st_mode & 0o777 == 0o644  # not mkstemp's 0o600
    assert record["metadata"]["budget"] == {"episodes": 5}
    assert [s[POLICY] for s in record["summary"]] == ["ppo", "greedy", "rand|om"]
    assert len(record["episodes"]) == len(episodes)
    assert record["episodes"][3]["latency_s"] is None  # NaN -> null
    assert [c[POLICY] for c in record["comparisons"]["latency_s"]] == ["greedy", "rand|om"]

    page = report.table_md.read_text()
    assert page.startswith("# GenAI chain") and "- **scenario**: genai-chain" in page
    assert "p-value" in page and r"rand\|om" in page
    images = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", page)
    assert images == ["bar_sla_satisfaction.png", "bar_latency_s.png"]
    assert [p.name for p in report.plots] == [*images, "metrics_bar.png"]
    for path in report.plots:
        _assert_png(path)
    assert sorted(p.name for p in out_dir.iterdir()) == sorted(
        [*images, "metrics_bar.png", "results.json", "results.md"]
    )
    assert report.summary.equals(summarize(episodes, METRICS, resamples=500))


def test_write_evaluation_report_rejects_unknown_reference_before_writing(tmp_path, episodes):
    with pytest.raises(KeyError, match="nope"):
        write_evaluation_report(
            episodes, METRICS, tmp_path / "out", title="t", reference="nope", resamples=10
        )
    assert not (tmp_path / "out").exists()


def test_learning_curve_plot_skips_missing_and_empty_columns(tmp_path):
    metrics = pd.DataFrame(
        {
            "timesteps": [100, 200, 300, 400],
            "episode_return_mean": [1.0, 2.0, np.nan, 3.5],
            "all_nan": [np.nan] * 4,
        }
    )
    path = learning_curve_plot(
        metrics, tmp_path / "curve.png", ys=["episode_return_mean", "all_nan", "absent"], title="PPO"
    )
    _assert_png(path)
    assert learning_curve_plot(metrics, tmp_path / "none.png", ys=["all_nan"], title="PPO") is None
    assert sorted(p.name for p in tmp_path.iterdir()) == ["curve.png"]


def test_write_bytes_atomic_leaves_no_temp_file_on_failure(tmp_path, monkeypatch):
    target = tmp_path / "results.json"
    write_bytes_atomic(target, b"old")

    def fail(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(atomic_io.os, "replace", fail)
    with pytest.raises(OSError, match="disk full"):
        write_bytes_atomic(target, b"new")
    assert [p.name for p in tmp_path.iterdir()] == ["results.json"]
    assert target.read_bytes() == b"old"
