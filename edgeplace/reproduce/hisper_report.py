"""The HISPER reproduction report: the primary claims of spec h with Welch t-tests, our orderings beside the
paper's statements, training time, and the Fig. 7-10 plots.

Inputs (:class:`ReproductionResults`): the training runs' ``metrics.csv`` (the fixed-seed evaluations
during training are the ``eval_*`` columns of the iterations that evaluated), the final evaluation per
agent count (one row per policy, training seed and evaluation seed, with the env's episode KPIs), and
the decision times of Fig. 9.

The final evaluation plays episode 0 of each evaluation seed through the shared evaluation runner
(:func:`edgeplace.evaluation.runner.evaluate_policies`, env seed derived from the evaluation seed), the
same streams for every policy; the curves during training reset the env with the evaluation seed
itself (spec f). Both are fixed; they are different streams.

Statistics and plots: :mod:`hisper_results`, :mod:`hisper_plots`.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from edgeplace.envs.dnn_inference import AgentKPI, DnnKPI, agent_ids, agent_kpi
from edgeplace.evaluation.report import table_markdown
from edgeplace.evaluation.statistics import POLICY, welch_t_test
from edgeplace.reproduce import hisper_paper as paper
from edgeplace.reproduce.hisper_plots import curves_plot, decision_plot, failure_plot, per_agent_plot
from edgeplace.reproduce.hisper_results import (
    ALPHA,
    LEARNED,
    POLICIES,
    ReproductionResults,
    curve_final,
    eval_curve,
    paired_gap,
    run_of,
    seconds_per_steps,
    steps_to_stable,
    welch_row,
)
from edgeplace.reproduce.report_files import records, write_report_files


def _yes(flag: bool) -> str:
    return "yes" if flag else "**no**"


def _p(p: float) -> str:
    return "n/a" if not np.isfinite(p) else f"{p:.3g}"


def claims(results: ReproductionResults) -> list[list[str]]:
    """The primary claims of spec h: rows [claim, agents, measured, met]."""
    rows: list[list[str]] = []
    reward, failure = DnnKPI.REWARD, DnnKPI.FAILURE_RATE
    primary = (
        ("(1) HISPER reward >", reward, "{:+.1f}", 1.0),
        ("(2) HISPER failure rate <", failure, "{:+.3f}", -1.0),
    )
    for claim, metric, number, better in primary:
        for agents, frame in results.evaluations.items():
            for rival in POLICIES[1:]:
                diff, p = welch_row(frame, "hisper", rival, metric)
                rows.append(
                    [
                        f"{claim} {rival} (p < {ALPHA})",
                        str(agents),
                        f"{number.format(diff)} (p = {_p(p)})",
                        _yes(better * diff > 0 and p < ALPHA),
                    ]
                )
    for agents, frame in results.evaluations.items():
        means = frame.groupby(POLICY)[reward].mean()
        others = means.drop("random")
        nearest = str(others.idxmin())
        diff, p = welch_row(frame, "random", nearest, reward)
        rows.append(
            [
                f"(3) Random lowest reward (vs nearest, {nearest})",
                str(agents),
                f"{diff:+.1f} (p = {_p(p)})",
                _yes(bool((means["random"] < others).all()) and p < ALPHA),
            ]
        )
    if set(AGENT_PAIR) <= set(results.evaluations):
        small, large = (paired_gap(results.evaluations[n], "hisper", "hasac", reward) for n in AGENT_PAIR)
        test = welch_t_test(large, small)
        rows.append(
            [
                "(3) HISPER - HASAC reward gap wider at 10 agents than at 8",
                "8 vs 10",
                f"{small.mean():+.1f} vs {large.mean():+.1f} (p = {_p(test.p_value)}); per agent "
                f"{small.mean() / AGENT_PAIR[0]:+.1f} vs {large.mean() / AGENT_PAIR[1]:+.1f}",
                _yes(test.mean_diff > 0 and test.p_value < ALPHA),
            ]
        )
    for agents in results.evaluations:
        reference = paper.TRAINING_TIME.get(agents, {}).get("steps_to_stable", float("nan"))
        steps = np.array([s for s, _ in steps_to_stable(results, "hisper", agents)])
        mean = float(np.nanmean(steps)) if np.isfinite(steps).any() else float("nan")
        ratio = mean / reference
        short = results.budget.steps < reference / 2
        found = "never stable" if not np.isfinite(mean) else f"{mean:,.0f} steps"
        measured = f"{found} (paper {reference:,.0f}; ratio {ratio:.2f})"
        if short:
            measured += f"; runs of {results.budget.steps:,} steps cannot show the paper's point"
        rows.append(
            [
                "(4) HISPER steps to stable within 2x of the paper's",
                str(agents),
                measured,
                _yes(bool(0.5 <= ratio <= 2.0)),
            ]
        )
    return rows


AGENT_PAIR = (8, 10)


def ordering(means: Mapping[str, float], higher_is_better: bool = True) -> str:
    """Policies from best to worst, e.g. ``hisper > hasac > random``."""
    items = sorted(means.items(), key=lambda kv: kv[1], reverse=higher_is_better)
    return " > ".join(name for name, _ in items)


def final_table(results: ReproductionResults, agents: int) -> str:
    """Final-evaluation means ± std per policy, and the learned runs' curve finals."""
    frame = results.evaluations[agents]
    metrics = (DnnKPI.REWARD, DnnKPI.R_ACC, DnnKPI.R_DELAY, DnnKPI.R_COST, DnnKPI.FAILURE_RATE)
    header = ["policy", "episodes", *[str(m) for m in metrics], "curve final reward (last 10 evals)"]
    rows = []
    for policy in POLICIES:
        part = frame[frame[POLICY] == policy]
        if part.empty:
            continue
        cells = [
            f"{part[m].mean():.3f} ± {part[m].std():.3f}"
            if m == DnnKPI.FAILURE_RATE
            else f"{part[m].mean():.1f} ± {part[m].std():.1f}"
            for m in metrics
        ]
        curve = "-"
        if policy in LEARNED:
            finals = [
                curve_final(eval_curve(run_of(results, policy, agents, s), agents)["value"])
                for s in results.budget.training_seeds
            ]
            curve = f"{np.mean(finals):.1f} ± {np.std(finals, ddof=1) if len(finals) > 1 else 0.0:.1f}"
        rows.append([policy, str(len(part)), *cells, curve])
    return table_markdown(header, rows)


def statements_section(results: ReproductionResults) -> str:
    """Our orderings beside the paper's statements (Fig. 7-10)."""
    rows = []
    for agents, frame in results.evaluations.items():
        means = frame.groupby(POLICY)[
            [
                DnnKPI.REWARD,
                DnnKPI.R_ACC,
                DnnKPI.COST_PER_SLOT,
                DnnKPI.DELAY_PER_REQUEST_S,
                DnnKPI.FAILURE_RATE,
            ]
        ].mean()
        rows.append(["Fig. 7 reward", str(agents), ordering(means[DnnKPI.REWARD].to_dict())])
        rows.append(["Fig. 7 accuracy (r1)", str(agents), ordering(means[DnnKPI.R_ACC].to_dict())])
        rows.append(
            [
                "Fig. 7 cost per slot (lowest first)",
                str(agents),
                ordering(means[DnnKPI.COST_PER_SLOT].to_dict(), higher_is_better=False),
            ]
        )
        rows.append(
            [
                "Fig. 7 delay per request (lowest first)",
                str(agents),
                ordering(means[DnnKPI.DELAY_PER_REQUEST_S].to_dict(), higher_is_better=False),
            ]
        )
        rows.append(
            [
                "Fig. 8 failure rate (lowest first)",
                str(agents),
                ordering(means[DnnKPI.FAILURE_RATE].to_dict(), higher_is_better=False),
            ]
        )
    timing = results.decision_time
    for agents, part in timing.groupby("agents"):
        largest = part[part["requests"] == part["requests"].max()].set_index("policy")["seconds"]
        ratio = largest.get("hisper", np.nan) / largest.get("hasac", np.nan)
        rows.append(
            [
                "Fig. 9 decision time at the most requests (fastest first)",
                str(agents),
                ordering(largest.to_dict(), higher_is_better=False)
                + f"; HISPER / HASAC = {ratio:.2f} (paper: at most {paper.DECISION_TIME_RATIO})",
            ]
        )
    if 8 in results.evaluations:
        rows.append(["Fig. 10 per agent", "8", per_agent_statement(results.evaluations[8], 8)])
    ours = table_markdown(["figure", "agents", "ours"], rows)
    theirs = table_markdown(
        ["figure", "agents", "paper (our summary)"],
        [[fig, "all" if n is None else str(n), text] for fig, n, text in paper.STATEMENTS],
    )
    return "## Orderings beside the paper's statements\n\n" + ours + "\n\n" + theirs


def per_agent_statement(frame: pd.DataFrame, agents: int) -> str:
    """OD vs MOT accuracy per policy, and who has the highest delay per agent."""
    ids = agent_ids(agents // 2)
    od = [a for a in ids if a.startswith("od")]
    mot = [a for a in ids if a.startswith("mot")]
    parts = []
    accuracy = frame.groupby(POLICY)[[agent_kpi(a, AgentKPI.ACCURACY) for a in ids]].mean()
    for policy, row in accuracy.iterrows():
        od_mean = row[[agent_kpi(a, AgentKPI.ACCURACY) for a in od]].mean()
        mot_mean = row[[agent_kpi(a, AgentKPI.ACCURACY) for a in mot]].mean()
        parts.append(f"{policy}: OD {od_mean:.1f} vs MOT {mot_mean:.1f}")
    delays = frame.groupby(POLICY)[[agent_kpi(a, AgentKPI.DELAY_S) for a in ids]].mean()
    slowest = delays.idxmax().value_counts()
    return (
        "accuracy "
        + "; ".join(parts)
        + ". Highest delay per agent: "
        + ", ".join(f"{name} on {count}/{len(ids)} agents" for name, count in slowest.items())
    )


def training_section(results: ReproductionResults) -> str:
    """Steps/time to stable and seconds per 2,000 steps per algorithm and agent count, with the paper's."""
    rows = []
    for agents in results.evaluations:
        reference = paper.TRAINING_TIME.get(agents, {})
        for algo in LEARNED:
            stable = steps_to_stable(results, algo, agents)
            steps = [s for s, _ in stable]
            walls = [w for _, w in stable]
            per_2000 = [
                seconds_per_steps(run_of(results, algo, agents, s), agents)
                for s in results.budget.training_seeds
            ]
            rows.append(
                [
                    algo,
                    str(agents),
                    ", ".join("never" if not np.isfinite(s) else f"{s:,.0f}" for s in steps),
                    ", ".join("-" if not np.isfinite(w) else f"{w / 60:.1f}" for w in walls),
                    f"{np.median(per_2000):.2f}",
                    f"{reference['steps_to_stable']:,.0f}" if algo == "hisper" and reference else "-",
                    f"{reference['minutes_to_stable']}" if algo == "hisper" and reference else "-",
                    f"{reference['s_per_2000']}" if algo == "hisper" and reference else "-",
                ]
            )
    header = [
        "algorithm",
        "agents",
        "steps to stable (per seed)",
        "minutes to stable",
        "s per 2,000 steps",
        "paper steps",
        "paper minutes",
        "paper s per 2,000",
    ]
    note = (
        "Our wall times are CPU times of this machine (including the evaluations during training); the "
        "paper's are on an RTX 4070 Ti. 'never': the run did not settle above the threshold."
    )
    return "## Training time\n\n" + table_markdown(header, rows) + "\n\n" + note


def runs_section(results: ReproductionResults) -> str:
    rows = [
        [
            name,
            f"{int(run.metrics['timesteps'].iloc[-1]):,}",
            str(len(run.metrics)),
            f"{run.metrics['wall_s'].iloc[-1]:.0f}",
        ]
        for name, run in results.runs.items()
    ]
    return "## Training runs\n\n" + table_markdown(["run", "agent decisions", "iterations", "wall s"], rows)


def write_report(results: ReproductionResults, out: Path) -> Path:
    """Write ``report.md``, ``summary.json`` and the PNGs into ``out``; returns the report path."""
    figures = [curves_plot(results, n, out / f"fig7_curves_a{n}.png") for n in results.evaluations]
    figures.append(failure_plot(results, out / "fig8_failure_rate.png"))
    figures.append(decision_plot(results, out / "fig9_decision_time.png"))
    if 8 in results.evaluations:
        figures.append(per_agent_plot(results, 8, out / "fig10_per_agent_a8.png"))
    claim_rows = claims(results)
    budget = results.budget
    sections = [
        f"# HISPER reproduction ({budget.name} budget)\n\n"
        f"{budget.steps:,} env steps per training run, training seeds {list(budget.training_seeds)}, "
        f"{budget.updates:,} updates of {budget.batch_size} transitions (HISPER/HASAC), networks "
        f"{budget.model}. Final evaluation: one argmax episode on each of the evaluation seeds, for every "
        "training seed. Welch t-tests on per-episode values, two-sided. Paper statements: spec section h.",
        "## Primary claims (spec h)\n\n" + table_markdown(["claim", "agents", "measured", "met"], claim_rows),
        *[f"## Final evaluation, {n} agents\n\n" + final_table(results, n) for n in results.evaluations],
        statements_section(results),
        training_section(results),
        runs_section(results),
    ]
    summary: dict[str, Any] = {
        "budget": budget.name,
        "claims": records(("claim", "agents", "measured", "met"), claim_rows),
        "final": {
            str(n): frame.groupby(POLICY)[[DnnKPI.REWARD, DnnKPI.FAILURE_RATE]].mean().to_dict("index")
            for n, frame in results.evaluations.items()
        },
        "steps_to_stable": {
            str(n): {algo: steps_to_stable(results, algo, n) for algo in LEARNED} for n in results.evaluations
        },
    }
    return write_report_files(out, sections, figures, summary)
