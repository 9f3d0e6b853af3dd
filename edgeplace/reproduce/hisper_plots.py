"""The HISPER reproduction's figures: Fig. 7 evaluation curves, Fig. 8 failure rate, Fig. 9 decision
time against the number of requests, Fig. 10 per-agent accuracy, cost and delay."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from edgeplace.envs.dnn_inference import AgentKPI, DnnKPI, agent_ids, agent_kpi
from edgeplace.evaluation.plots import save_figure
from edgeplace.evaluation.statistics import POLICY
from edgeplace.reproduce.hisper_results import BASELINES, LEARNED, POLICIES, eval_curve, policy_values, run_of

if TYPE_CHECKING:
    from edgeplace.reproduce.hisper import HisperResults

#: Fig. 7 panels: metrics.csv column of the training evaluation, final-evaluation KPI, title.
CURVE_PANELS = (
    ("eval_episode_return_mean", DnnKPI.REWARD, "reward (episode sum)"),
    ("eval_kpi_r_acc", DnnKPI.R_ACC, "accuracy r1 (episode sum)"),
    ("eval_kpi_r_cost", DnnKPI.R_COST, "cost r3 = -cost (episode sum)"),
    ("eval_kpi_r_delay", DnnKPI.R_DELAY, "delay r2 = -delay (episode sum)"),
)
FAILURE_CURVE = "eval_kpi_failure_rate"
#: Line and bar colour per policy, in POLICIES order.
COLORS = dict(zip(POLICIES, ("#C44E52", "#4C72B0", "#55A868", "#8172B2", "#937860", "#7F7F7F"), strict=True))


def _learned_curves(results: HisperResults, algo: str, agents: int, column: str) -> pd.DataFrame:
    """Mean, min and max over training seeds of an eval column, per env step (seeds aligned by step)."""
    curves = [
        eval_curve(run_of(results, algo, agents, s), agents, column).set_index("steps")["value"].rename(s)
        for s in results.budget.training_seeds
    ]
    table = pd.concat(curves, axis=1)
    return pd.DataFrame({"mean": table.mean(1), "low": table.min(1), "high": table.max(1)})


def _curve_axes(ax: Any, results: HisperResults, agents: int, column: str, kpi: str, title: str) -> None:
    frame = results.evaluations[agents]
    for algo in LEARNED:
        curve = _learned_curves(results, algo, agents, column)
        if curve.empty:
            continue
        ax.plot(curve.index, curve["mean"], color=COLORS[algo], label=algo)
        ax.fill_between(curve.index, curve["low"], curve["high"], color=COLORS[algo], alpha=0.2)
    for name in BASELINES:
        values = policy_values(frame, name, kpi)
        if values.size:
            ax.axhline(values.mean(), color=COLORS[name], linestyle="--", label=name)
    ax.set_title(f"{title}, {agents} agents")
    ax.set_xlabel("env steps")
    ax.grid(alpha=0.3)


def curves_plot(results: HisperResults, agents: int, path: Path) -> Path:
    """Fig. 7: reward, accuracy, cost and delay during training (mean and range over training seeds;
    baselines dashed at their final-evaluation mean)."""
    fig = Figure(figsize=(12, 8), layout="constrained")
    for ax, (column, kpi, title) in zip(fig.subplots(2, 2).flat, CURVE_PANELS, strict=True):
        _curve_axes(ax, results, agents, column, kpi, title)
    fig.axes[0].legend(fontsize=8)
    return save_figure(fig, path)


def failure_plot(results: HisperResults, path: Path) -> Path:
    """Fig. 8: failure rate during training at each agent count."""
    fig = Figure(figsize=(6 * len(results.evaluations), 4), layout="constrained")
    axes = np.atleast_1d(fig.subplots(1, len(results.evaluations)))
    for ax, agents in zip(axes, results.evaluations, strict=True):
        _curve_axes(ax, results, agents, FAILURE_CURVE, DnnKPI.FAILURE_RATE, "failure rate")
    axes[0].legend(fontsize=8)
    return save_figure(fig, path)


def decision_plot(results: HisperResults, path: Path) -> Path:
    """Fig. 9: median act_batch seconds against the number of requests (log-log)."""
    groups = list(results.decision_time.groupby("agents"))
    fig = Figure(figsize=(6 * max(1, len(groups)), 4), layout="constrained")
    axes = np.atleast_1d(fig.subplots(1, max(1, len(groups))))
    for ax, (agents, part) in zip(axes, groups, strict=False):
        for policy, rows in part.groupby("policy"):
            rows = rows.sort_values("requests")
            ax.plot(
                rows["requests"], rows["seconds"], marker="o", color=COLORS.get(str(policy)), label=policy
            )
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("requests per decision batch")
        ax.set_ylabel("seconds")
        ax.set_title(f"decision time, {agents} agents")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    return save_figure(fig, path)


def per_agent_plot(results: HisperResults, agents: int, path: Path) -> Path:
    """Fig. 10: per-agent accuracy, cost and delay (final evaluation means) of every policy."""
    frame = results.evaluations[agents]
    ids = agent_ids(agents // 2)
    kpis = (AgentKPI.ACCURACY, AgentKPI.COST, AgentKPI.DELAY_S)
    policies = [p for p in POLICIES if (frame[POLICY] == p).any()]
    fig = Figure(figsize=(15, 4), layout="constrained")
    width = 0.8 / max(1, len(policies))
    x = np.arange(len(ids))
    for ax, kpi in zip(fig.subplots(1, len(kpis)), kpis, strict=True):
        means = frame.groupby(POLICY)[[agent_kpi(a, kpi) for a in ids]].mean()
        for i, policy in enumerate(policies):
            ax.bar(
                x + (i - (len(policies) - 1) / 2) * width,
                means.loc[policy].to_numpy(),
                width,
                color=COLORS[policy],
                label=policy,
            )
        ax.set_xticks(x, ids, rotation=45)
        ax.set_title(f"per-agent {kpi}, {agents} agents")
        ax.grid(alpha=0.3, axis="y")
    fig.axes[0].legend(fontsize=8)
    return save_figure(fig, path)
