"""The lm-inference reproduction's figures: Fig. 5 (T-bar_type against F_norm), Fig. 6 (per-LM success
ratio and latency), Fig. 7 (J per epoch), and the learning curves of the learned hierarchy and the
hierarchical DRL baseline against training slots."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import matplotlib
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from edgeplace.envs.lm_inference.kpis import LmKpi
from edgeplace.envs.lm_inference.lm_types import LM_LABELS
from edgeplace.evaluation.plots import save_figure
from edgeplace.evaluation.statistics import CI_HIGH, CI_LOW, MEAN, stat_column

FIG5, FIG6, FIG7, CURVES = (
    "fig5_latency_vs_fairness.png",
    "fig6_per_lm.png",
    "fig7_j_per_epoch.png",
    ("learning_curves.png"),
)
_STYLE = {"font.size": 9}


def _cells(summary: pd.DataFrame, metric: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mean, CI low and CI high of ``metric`` per summary row. Shapes: (P,) each."""
    return tuple(summary[stat_column(metric, stat)].to_numpy(dtype=float) for stat in (MEAN, CI_LOW, CI_HIGH))


def fig5(summary: pd.DataFrame, policies: Sequence[str], path: Path) -> Path:
    """T-bar_type (s) against F_norm, one point per policy with its 95% CIs on both axes."""
    x, x_low, x_high = _cells(summary, LmKpi.TYPE_MEAN_LATENCY_S)
    y, y_low, y_high = _cells(summary, LmKpi.JAIN_NORM)
    with matplotlib.rc_context(_STYLE):
        fig = Figure(figsize=(6.0, 4.2), layout="tight")
        ax = fig.subplots()
        ax.errorbar(x, y, xerr=[x - x_low, x_high - x], yerr=[y - y_low, y_high - y], fmt="o", capsize=3)
        for name, px, py in zip(policies, x, y, strict=True):
            ax.annotate(name, (px, py), textcoords="offset points", xytext=(4, 4))
        ax.set_xlabel("T̄_type (s, lower is better)")
        ax.set_ylabel("F_norm (higher is better)")
        ax.set_title("Fig. 5: latency against fairness (mean, 95% CI over seeds)")
        ax.grid(alpha=0.3)
        return save_figure(fig, path)


def fig6(summary: pd.DataFrame, policies: Sequence[str], path: Path) -> Path:
    """Per-LM success ratio and success-only latency, grouped bars per policy."""
    with matplotlib.rc_context(_STYLE):
        fig = Figure(figsize=(max(7.0, 0.9 * len(policies)), 5.6), layout="tight")
        axes = fig.subplots(2, 1, sharex=True)
        width = 0.8 / len(LM_LABELS)
        x = np.arange(len(policies))
        for ax, kpi, label in (
            (axes[0], LmKpi.SUCCESS_RATIO, "success ratio ρ_i"),
            (axes[1], LmKpi.LATENCY_S, "latency T̄_i (s)"),
        ):
            for k, lm in enumerate(LM_LABELS):
                mean, low, high = _cells(summary, f"{kpi.value}_{lm}")
                offset = x + (k - (len(LM_LABELS) - 1) / 2) * width
                ax.bar(offset, mean, width, yerr=[mean - low, high - mean], capsize=2, label=lm)
            ax.set_ylabel(label)
            ax.grid(alpha=0.3, axis="y")
        axes[0].legend(ncols=len(LM_LABELS), loc="lower right")
        axes[1].set_xticks(x, list(policies), rotation=30, ha="right")
        fig.suptitle("Fig. 6: per-LM service (mean, 95% CI over seeds)")
        return save_figure(fig, path)


def fig7(per_epoch: pd.DataFrame, path: Path) -> Path:
    """J per epoch (rows: epochs from 1; columns: policies; mean over seeds)."""
    with matplotlib.rc_context(_STYLE):
        fig = Figure(figsize=(7.0, 4.2), layout="tight")
        ax = fig.subplots()
        for policy in per_epoch.columns:
            ax.plot(per_epoch.index, per_epoch[policy], marker="o", markersize=3, label=policy)
        ax.set_xlabel("epoch (50 slots = 25 min)")
        ax.set_ylabel("J (Eq. 10, lower is better)")
        ax.set_title("Fig. 7: objective per epoch (mean over seeds)")
        ax.legend(ncols=3, fontsize=7)
        ax.grid(alpha=0.3)
        return save_figure(fig, path)


def learning_curves(curves: Mapping[str, pd.DataFrame], path: Path) -> Path | None:
    """J of the training episodes against training slots, one line per run (frames with columns
    ``slots`` and ``objective``); None when no run has a point."""
    drawn = {name: frame.dropna(subset=["objective"]) for name, frame in curves.items()}
    drawn = {name: frame for name, frame in drawn.items() if len(frame)}
    if not drawn:
        return None
    with matplotlib.rc_context(_STYLE):
        fig = Figure(figsize=(7.0, 4.2), layout="tight")
        ax = fig.subplots()
        for name, frame in drawn.items():
            ax.plot(frame["slots"], frame["objective"], marker="o" if len(frame) < 30 else None, label=name)
        ax.set_xlabel("training slots")
        ax.set_ylabel("J of the training episodes (lower is better)")
        ax.set_title("Learning curves: the learned hierarchy and the hierarchical DRL baseline")
        ax.legend(fontsize=7)
        ax.grid(alpha=0.3)
        return save_figure(fig, path)
