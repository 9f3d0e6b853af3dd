"""The HISPER reproduction report: the primary claims of spec h tested over training seeds, our orderings
beside the paper's statements, training time, and the Fig. 7-10 plots.

Inputs (:class:`~edgeplace.reproduce.hisper.HisperResults`): the training runs' ``metrics.csv`` (the
fixed-seed evaluations during training are the ``eval_*`` columns of the iterations that evaluated), the
final evaluation per agent count (one row per policy, training seed and evaluation seed, with the env's
episode KPIs), and the decision times of Fig. 9.

The final evaluation plays episode 0 of each evaluation seed through the shared evaluation runner
(:func:`edgeplace.evaluation.runner.evaluate_policies`, env seed derived from the evaluation seed), the
same streams for every policy; the curves during training reset the env with the evaluation seed
itself (spec f). Both are fixed; they are different streams.

Statistics and plots: :mod:`hisper_results`, :mod:`hisper_plots`.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

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
    curve_final,
    eval_curve,
    run_of,
    seconds_per_steps,
    seed_gaps,
    steps_to_stable,
)
from edgeplace.reproduce.report import Report, Target, fmt_value, mean_std, paired, pm, section

if TYPE_CHECKING:
    from edgeplace.reproduce.hisper import HisperResults

#: The agent counts whose HISPER - HASAC gaps claim (3) compares.
AGENT_PAIR = (8, 10)
#: Our orderings beside Figs. 7-8's statements: (row, KPI of the final evaluation, higher is better).
ORDERINGS = (
    ("Fig. 7 reward", DnnKPI.REWARD, True),
    ("Fig. 7 accuracy (r1)", DnnKPI.R_ACC, True),
    ("Fig. 7 cost per slot (lowest first)", DnnKPI.COST_PER_SLOT, False),
    ("Fig. 7 delay per request (lowest first)", DnnKPI.DELAY_PER_REQUEST_S, False),
    ("Fig. 8 failure rate (lowest first)", DnnKPI.FAILURE_RATE, False),
)


def _p(p: float) -> str:
    return fmt_value(p, "{:.3g}")


def claims(results: HisperResults) -> list[Target]:
    """The primary claims of spec h, each at every agent count."""
    rows: list[Target] = []
    reward, failure = DnnKPI.REWARD, DnnKPI.FAILURE_RATE
    primary = (
        ("(1) HISPER reward >", reward, "{:+.1f}", 1.0),
        ("(2) HISPER failure rate <", failure, "{:+.3f}", -1.0),
    )
    for claim, metric, number, better in primary:
        for agents, frame in results.evaluations.items():
            for rival in POLICIES[1:]:
                test = paired(frame, "hisper", rival, metric)
                what = f"{claim} {rival} (p < {ALPHA}), {agents} agents"
                measured = f"{number.format(test.mean_diff)} ({test.p_and_n})"
                holds = better * test.mean_diff > 0 and test.p_value < ALPHA
                rows.append(Target(what, measured, holds, [test.mean_diff, test.p_value]))
    for agents, frame in results.evaluations.items():
        means = frame.groupby(POLICY)[reward].mean()
        others = means.drop("random")
        nearest = str(others.idxmin())
        test = paired(frame, "random", nearest, reward)
        what = f"(3) Random lowest reward (vs nearest, {nearest}), {agents} agents"
        holds = bool((means["random"] < others).all()) and test.p_value < ALPHA
        rows.append(Target(what, f"{test.mean_diff:+.1f} ({test.p_and_n})", holds, [*means, test.p_value]))
    if set(AGENT_PAIR) <= set(results.evaluations):
        small, large = (seed_gaps(results.evaluations[n], "hisper", "hasac", reward) for n in AGENT_PAIR)
        test = welch_t_test(large, small)
        rows.append(
            Target(
                "(3) HISPER - HASAC reward gap wider at 10 agents than at 8",
                f"{small.mean():+.1f} vs {large.mean():+.1f} (Welch t over training seeds: p = "
                f"{_p(test.p_value)}, n = {small.size} and {large.size}); per agent "
                f"{small.mean() / AGENT_PAIR[0]:+.1f} vs {large.mean() / AGENT_PAIR[1]:+.1f}",
                test.mean_diff > 0 and test.p_value < ALPHA,
                [test.mean_diff, test.p_value],
            )
        )
    for agents in results.evaluations:
        reference = paper.TRAINING_TIME.get(agents, {}).get("steps_to_stable", float("nan"))
        steps = np.array([s for s, _ in steps_to_stable(results, "hisper", agents)])
        mean = float(np.nanmean(steps)) if np.isfinite(steps).any() else float("nan")
        ratio = mean / reference
        found = "never stable" if not np.isfinite(mean) else f"{mean:,.0f} steps"
        measured = f"{found} (paper {reference:,.0f}; ratio {ratio:.2f})"
        if results.budget.steps < reference / 2:
            measured += f"; runs of {results.budget.steps:,} steps cannot show the paper's point"
        what = f"(4) HISPER steps to stable within 2x of the paper's, {agents} agents"
        rows.append(Target(what, measured, 0.5 <= ratio <= 2.0, [ratio]))
    return rows


def ordering(means: Mapping[str, float], higher_is_better: bool = True) -> str:
    """Policies from best to worst, e.g. ``hisper > hasac > random``."""
    items = sorted(means.items(), key=lambda kv: kv[1], reverse=higher_is_better)
    return " > ".join(name for name, _ in items)


def final_table(results: HisperResults, agents: int) -> str:
    """Final-evaluation means ± std per policy, and the learned runs' curve finals."""
    frame = results.evaluations[agents]
    metrics = (DnnKPI.REWARD, DnnKPI.R_ACC, DnnKPI.R_DELAY, DnnKPI.R_COST, DnnKPI.FAILURE_RATE)
    header = ["policy", "episodes", *[str(m) for m in metrics], "curve final reward (last 10 evals)"]
    rows = []
    for policy in POLICIES:
        part = frame[frame[POLICY] == policy]
        if part.empty:
            continue
        cells = [mean_std(part[m], "{:.3f}" if m == DnnKPI.FAILURE_RATE else "{:.1f}") for m in metrics]
        curve = "-"
        if policy in LEARNED:
            finals = [
                curve_final(eval_curve(run_of(results, policy, agents, s), agents)["value"])
                for s in results.budget.training_seeds
            ]
            curve = pm(np.mean(finals), np.std(finals, ddof=1) if len(finals) > 1 else 0.0, "{:.1f}")
        rows.append([policy, str(len(part)), *cells, curve])
    return table_markdown(header, rows)


def statements_section(results: HisperResults) -> str:
    """Our orderings beside the paper's statements (Fig. 7-10)."""
    rows = []
    for agents, frame in results.evaluations.items():
        means = frame.groupby(POLICY)[[kpi for _, kpi, _ in ORDERINGS]].mean()
        rows += [[row, str(agents), ordering(means[kpi].to_dict(), higher)] for row, kpi, higher in ORDERINGS]
    for agents, part in results.decision_time.groupby("agents"):
        largest = part[part["requests"] == part["requests"].max()].set_index("policy")["seconds"]
        ratio = largest.get("hisper", np.nan) / largest.get("hasac", np.nan)
        fastest = ordering(largest.to_dict(), higher_is_better=False)
        ours = f"{fastest}; HISPER / HASAC = {ratio:.2f} (paper: at most {paper.DECISION_TIME_RATIO})"
        rows.append(["Fig. 9 decision time at the most requests (fastest first)", str(agents), ours])
    if 8 in results.evaluations:
        rows.append(["Fig. 10 per agent", "8", per_agent_statement(results.evaluations[8], 8)])
    theirs = [[fig, "all" if n is None else str(n), text] for fig, n, text in paper.STATEMENTS]
    return section(
        "Orderings beside the paper's statements",
        table_markdown(["figure", "agents", "ours"], rows),
        table_markdown(["figure", "agents", "paper (our summary)"], theirs),
    )


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
    highest = ", ".join(f"{name} on {count}/{len(ids)} agents" for name, count in slowest.items())
    return "accuracy " + "; ".join(parts) + ". Highest delay per agent: " + highest


def training_section(results: HisperResults) -> str:
    """Steps/time to stable and seconds per 2,000 steps per algorithm and agent count, with the paper's."""
    rows = []
    for agents in results.evaluations:
        reference = paper.TRAINING_TIME.get(agents, {})
        for algo in LEARNED:
            stable = steps_to_stable(results, algo, agents)
            seeds = results.budget.training_seeds
            per_2000 = [seconds_per_steps(run_of(results, algo, agents, s), agents) for s in seeds]
            theirs = ["-"] * 3
            if algo == "hisper" and reference:
                theirs = [
                    f"{reference['steps_to_stable']:,.0f}",
                    *(f"{reference[k]}" for k in ("minutes_to_stable", "s_per_2000")),
                ]
            rows.append(
                [
                    algo,
                    str(agents),
                    ", ".join("never" if not np.isfinite(s) else f"{s:,.0f}" for s, _ in stable),
                    ", ".join("-" if not np.isfinite(w) else f"{w / 60:.1f}" for _, w in stable),
                    f"{np.median(per_2000):.2f}",
                    *theirs,
                ]
            )
    header = ["algorithm", "agents", "steps to stable (per seed)", "minutes to stable", "s per 2,000 steps"]
    header += ["paper steps", "paper minutes", "paper s per 2,000"]
    return section(
        "Training time",
        table_markdown(header, rows),
        "Our wall times are CPU times of this machine (including the evaluations during training); the "
        "paper's are on an RTX 4070 Ti. 'never': the run did not settle above the threshold.",
    )


def hisper_report(results: HisperResults, out: Path) -> Report:
    """The report's contents, with its figures drawn into ``out``."""
    figures = [curves_plot(results, n, out / f"fig7_curves_a{n}.png") for n in results.evaluations]
    figures.append(failure_plot(results, out / "fig8_failure_rate.png"))
    figures.append(decision_plot(results, out / "fig9_decision_time.png"))
    if 8 in results.evaluations:
        figures.append(per_agent_plot(results, 8, out / "fig10_per_agent_a8.png"))
    budget = results.budget
    return Report(
        paper="HISPER",
        settings=f"{budget.steps:,} env steps per training run, training seeds "
        f"{list(budget.training_seeds)}, {budget.updates:,} updates of {budget.batch_size} transitions "
        f"(HISPER/HASAC), networks {budget.model}. Final evaluation: one argmax episode on each of the "
        "evaluation seeds, for every training seed. Welch t-tests on per-episode values, two-sided. Paper "
        "statements: spec section h.",
        targets_source="the primary claims of spec h",
        targets=claims(results),
        sections=[
            *(section(f"Final evaluation, {n} agents", final_table(results, n)) for n in results.evaluations),
            statements_section(results),
            training_section(results),
        ],
        figures=figures,
        summary={
            "final": {
                str(n): frame.groupby(POLICY)[[DnnKPI.REWARD, DnnKPI.FAILURE_RATE]].mean().to_dict("index")
                for n, frame in results.evaluations.items()
            },
            "steps_to_stable": {
                str(n): {algo: steps_to_stable(results, algo, n) for algo in LEARNED}
                for n in results.evaluations
            },
        },
    )
