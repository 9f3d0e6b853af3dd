"""The lm-inference reproduction's report: the "must match" list of spec f and the issue's targets for
the learned hierarchy, the results table beside the calibration reference and the paper's numbers,
paired comparisons against MA-rule, and Figs. 5-7 with the learning curves."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from edgeplace.algos.baselines.lm_inference.calibration import REFERENCE, ReferenceRow
from edgeplace.algos.kpi_callback import KPI_METRIC_PREFIX
from edgeplace.algos.lm_inference.stages import SLOTS_COLUMN, staged_metrics
from edgeplace.envs.lm_inference.env import LmInfo
from edgeplace.envs.lm_inference.kpis import LmKpi
from edgeplace.envs.lm_inference.lm_types import LM_LABELS
from edgeplace.evaluation.report import table_markdown
from edgeplace.evaluation.statistics import CI_HIGH, CI_LOW, MEAN, POLICY, STD, stat_column, summarize
from edgeplace.reproduce import lm_inference_plots as plots
from edgeplace.reproduce.lm_inference_paper import EVAL_SEEDS, PAPER_NUMBERS, RULES, SPEC_DRL_SLOTS
from edgeplace.reproduce.report import Report, Target, comparison_table, fmt_value, section
from edgeplace.reproduce.steps import RUNS_DIR

if TYPE_CHECKING:
    from edgeplace.reproduce.lm_inference import LmInferenceResults

MA = ("ma-rule", "learned")
RULE, LEARNED = MA
#: Non-MA baselines of must-match 4 whose LM4 is the least served (RF's exception: LM2 on CPU).
LM4_STARVED = ("rr", "rl", "al", "ll", "mal")
EPOCH_J_PREFIX = "epoch_objective_"
"""Evaluation columns ``epoch_objective_<e>`` (e from 0): J of the requests resolved in epoch e."""
SETTLE_WINDOW, SETTLE_TOLERANCE, RULE_SETTLE_EPOCH = 5, 0.10, 3
LEARNED_LATENCY_RATIO, FAIRNESS_FLOOR = 1.2, 0.90
T_TYPE, T_MEAN, F_NORM, J = (
    LmKpi.TYPE_MEAN_LATENCY_S.value,
    LmKpi.MEAN_LATENCY_S.value,
    LmKpi.JAIN_NORM.value,
    LmKpi.OBJECTIVE.value,
)
RHO = tuple(f"{LmKpi.SUCCESS_RATIO.value}_{lm}" for lm in LM_LABELS)
T_LM = tuple(f"{LmKpi.LATENCY_S.value}_{lm}" for lm in LM_LABELS)
METRICS = (T_TYPE, T_MEAN, LmKpi.JAIN.value, F_NORM, J, *RHO, *T_LM)


class Stats:
    """Per-policy means of the summary (NaN for a policy or metric that is absent)."""

    def __init__(self, summary: pd.DataFrame) -> None:
        self.table = summary.set_index(POLICY)

    def __call__(self, policy: str, metric: str) -> float:
        column = stat_column(metric, MEAN)
        if policy not in self.table.index or column not in self.table.columns:
            return float("nan")
        return float(self.table.at[policy, column])

    @property
    def policies(self) -> list[str]:
        return list(self.table.index)


def settle_epoch(per_epoch: pd.Series) -> float:
    """The first epoch (from 1) after which the rolling 5-epoch mean of J stays within 10% of its final
    value; NaN for an empty series."""
    rolling = per_epoch.rolling(SETTLE_WINDOW, min_periods=1).mean().to_numpy()
    if not rolling.size:
        return float("nan")
    outside = np.flatnonzero(np.abs(rolling - rolling[-1]) > SETTLE_TOLERANCE * abs(rolling[-1]))
    return float(outside[-1] + 2 if outside.size else 1)


def epoch_objectives(infos: Mapping[str, Mapping[str, Any]]) -> dict[str, float]:
    """The ``epoch_objective_<e>`` columns of an evaluation episode, from its final infos."""
    per_epoch = next(iter(infos.values()))[LmInfo.EPOCH_OBJECTIVES]
    return {f"{EPOCH_J_PREFIX}{e}": float(value) for e, value in enumerate(per_epoch)}


def per_epoch_objectives(frame: pd.DataFrame) -> pd.DataFrame:
    """Mean over seeds of J per epoch: rows epochs from 1, columns policies (in frame order)."""
    prefix = EPOCH_J_PREFIX
    columns = sorted((c for c in frame.columns if c.startswith(prefix)), key=lambda c: int(c[len(prefix) :]))
    table = frame.groupby(POLICY, sort=False)[columns].mean().T
    table.index = np.arange(1, len(columns) + 1)
    return table


def _ma_target(s: Stats, backend: str) -> Target:
    """Must-match 1 for one MA backend."""
    others = [p for p in s.policies if p not in MA]
    lowest = all(s(backend, m) < s(o, m) for o in others for m in (T_TYPE, T_MEAN))
    rho_min = min(s(backend, r) for r in RHO)
    cut = 1.0 - s(backend, T_TYPE) / s("rf", T_TYPE)
    return Target(
        f"1. MA ({backend}): lowest T̄ and T̄_type, F_norm ≥ 0.90, every ρ_i > 0.4, T̄_type ≥ 70% below RF",
        f"T̄ {s(backend, T_MEAN):.0f} s, T̄_type {s(backend, T_TYPE):.0f} s "
        f"(lowest: {'yes' if lowest else 'no'}), F_norm {s(backend, F_NORM):.3f}, min ρ {rho_min:.2f}, "
        f"{cut:.0%} below RF",
        lowest and s(backend, F_NORM) >= FAIRNESS_FLOOR and rho_min > 0.4 and cut >= 0.70,
        [s(backend, T_MEAN), s(backend, T_TYPE), s(backend, F_NORM), rho_min, cut],
    )


def _baseline_targets(s: Stats) -> list[Target]:
    """Must-match 2-5: the baselines' order (among the paper's comparison: the rule controllers and
    MA; the DRL baseline, which the paper could not train, is reported apart), RL against RR, LM4
    starvation, MAL's misalignment."""
    ranked = sorted((p for p in s.policies if p in (*RULES, LEARNED)), key=lambda p: -s(p, T_TYPE))
    gap = s("rr", T_TYPE) - s("rl", T_TYPE)
    least = {p: min(RHO, key=lambda r, p=p: s(p, r)) == RHO[3] for p in LM4_STARVED}
    starved = all(s(p, T_LM[3]) > 600 and s(p, RHO[3]) <= 0.55 and least[p] for p in LM4_STARVED)
    rf_lowest = LM_LABELS[int(np.argmin([s("rf", r) for r in RHO]))]
    slower = s("mal", T_TYPE) - s(RULE, T_TYPE)
    lm4 = "; ".join(
        f"{p} {s(p, T_LM[3]):.0f} s / {s(p, RHO[3]):.2f}{'' if least[p] else ' (not least)'}"
        for p in LM4_STARVED
    )
    return [
        Target(
            "2. RF and RR are the two worst on T̄_type (rules and MA), both ≥ 300 s",
            f"worst two: {ranked[0]} {s(ranked[0], T_TYPE):.0f} s, {ranked[1]} {s(ranked[1], T_TYPE):.0f} s",
            set(ranked[:2]) == {"rf", "rr"} and min(s("rf", T_TYPE), s("rr", T_TYPE)) >= 300,
            [s("rf", T_TYPE), s("rr", T_TYPE)],
        ),
        Target(
            "3. RL ≥ 50 s faster than RR, fairer, F_norm ≥ 0.9",
            f"RR − RL {gap:.0f} s; F_norm RL {s('rl', F_NORM):.3f} vs RR {s('rr', F_NORM):.3f}",
            gap >= 50 and s("rl", F_NORM) > s("rr", F_NORM) and s("rl", F_NORM) >= 0.9,
            [gap, s("rl", F_NORM), s("rr", F_NORM)],
        ),
        Target(
            "4. Non-MA baselines: T̄_4 > 600 s, ρ_4 ≤ 0.55, LM4 least served (RF: LM2); RR ρ_4 < 0.3",
            f"T̄_4 / ρ_4: {lm4}; RF's least served: {rf_lowest}",
            starved and rf_lowest == "LM2" and s("rr", RHO[3]) < 0.3,
            [v for p in LM4_STARVED for v in (s(p, T_LM[3]), s(p, RHO[3]))],
        ),
        Target(
            "5. MAL ≥ 100 s slower than MA (MAL has MA-rule's planner and scheduler)",
            f"MAL − MA-rule {slower:.0f} s; MAL − learned {s('mal', T_TYPE) - s(LEARNED, T_TYPE):.0f} s",
            slower >= 100,
            [slower],
        ),
    ]


def _dynamics_targets(settle: Mapping[str, float], drl_budgets: Sequence[int]) -> list[Target]:
    """Must-match 6 (how fast J settles) and 7 (the DRL curves at both spec budgets)."""
    missing = [b for b in SPEC_DRL_SLOTS if b not in drl_budgets]
    drawn = ", ".join(f"{b:,}" for b in drl_budgets) or "no budget"
    rule, learned = settle.get(RULE, float("nan")), settle.get(LEARNED, float("nan"))
    return [
        Target(
            f"6. Rolling 5-epoch J within 10% of its final value by epoch ≤ {RULE_SETTLE_EPOCH} (rule)",
            f"rule: epoch {rule:.0f}; learned: epoch {learned:.0f}",
            rule <= RULE_SETTLE_EPOCH,
            [rule],
        ),
        Target(
            "6. The same by epoch ≤ 30 for the `llm` backend",
            "not run: no OpenAI-compatible endpoint offline (`edgeplace evaluate lm-inference --policy llm`)",
            False,
            [float("nan")],
        ),
        Target(
            "7. DRL learning curves at 20k and 200k slots beside the learned hierarchy's",
            f"drawn at {drawn} slots"
            + (f"; not run at {', '.join(f'{b:,}' for b in missing)}" if missing else ""),
            not missing,
            [float(len(drl_budgets))],
        ),
    ]


def _learned_targets(s: Stats) -> list[Target]:
    """The issue's targets for the learned hierarchy."""
    ratio = s(LEARNED, T_TYPE) / s(RULE, T_TYPE)
    return [
        Target(
            f"learned T̄_type within {LEARNED_LATENCY_RATIO}× of rule's",
            f"{s(LEARNED, T_TYPE):.0f} s vs {s(RULE, T_TYPE):.0f} s ({ratio:.2f}×)",
            ratio <= LEARNED_LATENCY_RATIO,
            [ratio],
        ),
        Target(
            "learned F_norm ≥ 0.90",
            f"{s(LEARNED, F_NORM):.3f}",
            s(LEARNED, F_NORM) >= FAIRNESS_FLOOR,
            [s(LEARNED, F_NORM)],
        ),
    ]


def _cell(summary: pd.DataFrame, policy: str, metric: str, fmt: str) -> str:
    row = summary.set_index(POLICY).loc[policy]
    mean, std = row[stat_column(metric, MEAN)], row[stat_column(metric, STD)]
    low, high = row[stat_column(metric, CI_LOW)], row[stat_column(metric, CI_HIGH)]
    return f"{fmt_value(mean, fmt)} ± {fmt_value(std, fmt)} [{fmt_value(low, fmt)}, {fmt_value(high, fmt)}]"


def _reference_cell(row: ReferenceRow) -> str:
    return f"{row.type_mean_latency_s:.0f} ± {row.type_mean_latency_std_s:.0f} / {row.jain_norm:.2f}"


def _results_table(summary: pd.DataFrame) -> str:
    header = [
        "policy",
        "T̄_type s",
        "T̄ s",
        "F",
        "F_norm",
        "J",
        "ρ LM1..4",
        "T̄_LM4 s",
        "reference T̄_type / F_norm",
        "paper",
    ]
    rows = []
    for policy in summary[POLICY]:
        means = summary.set_index(POLICY).loc[policy]
        rho = " ".join(f"{means[stat_column(r, MEAN)]:.2f}" for r in RHO)
        ref = REFERENCE.get(policy)
        rows.append(
            [
                policy,
                _cell(summary, policy, T_TYPE, "{:.0f}"),
                _cell(summary, policy, T_MEAN, "{:.0f}"),
                _cell(summary, policy, LmKpi.JAIN.value, "{:.3f}"),
                _cell(summary, policy, F_NORM, "{:.3f}"),
                _cell(summary, policy, J, "{:.3f}"),
                rho,
                fmt_value(means[stat_column(T_LM[3], MEAN)], "{:.0f}"),
                "" if ref is None else _reference_cell(ref),
                PAPER_NUMBERS.get(policy, ""),
            ]
        )
    return table_markdown(header, rows)


def _curves(results: LmInferenceResults, out: Path) -> dict[str, pd.DataFrame]:
    """Training J against slots of every learned run (all its stages) and every DRL run."""
    curves = {}
    for name in results.runs:
        metrics = staged_metrics(out / RUNS_DIR / name)
        objective = metrics.get(f"{KPI_METRIC_PREFIX}{J}", pd.Series(np.nan, index=metrics.index))
        curves[name] = pd.DataFrame({SLOTS_COLUMN: metrics[SLOTS_COLUMN], J: objective})
    for slots, run in results.drl.items():
        curves[f"drl-{slots:,}"] = run.curve[[SLOTS_COLUMN, J]]
    return curves


def lm_inference_report(results: LmInferenceResults, out: Path) -> Report:
    """The report's contents; the figures are drawn into ``out``."""
    frame = results.evaluation
    summary = summarize(frame, METRICS)
    stats = Stats(summary)
    per_epoch = per_epoch_objectives(frame)
    settle = {policy: settle_epoch(per_epoch[policy]) for policy in per_epoch.columns}
    budget = results.budget
    targets = [
        *(_ma_target(stats, backend) for backend in MA),
        *_baseline_targets(stats),
        *_dynamics_targets(settle, sorted(results.drl)),
        *_learned_targets(stats),
    ]
    policies = list(summary[POLICY])
    figures = [
        plots.fig5(summary, policies, out / plots.FIG5),
        plots.fig6(summary, policies, out / plots.FIG6),
        plots.fig7(per_epoch, out / plots.FIG7),
    ]
    curve_png = plots.learning_curves(_curves(results, out), out / plots.CURVES)
    figures += [curve_png] if curve_png is not None else []
    settle_rows = [
        [p, fmt_value(e, "{:.0f}"), fmt_value(per_epoch[p].iloc[-1], "{:.3f}")] for p, e in settle.items()
    ]
    seeds = len(budget.training_seeds)
    settings = (
        f"Seeds {list(EVAL_SEEDS)}: one episode of {budget.epochs} epochs of 50 slots each (the first a "
        "warm-up, the last 30 slots a drain), the same request streams for every policy. The learned "
        f"hierarchy trained {budget.learned_slots:,} slots with options {dict(budget.learned_options)}, "
        f"{seeds} training seed(s){'; its CIs carry no training-seed variance' if seeds == 1 else ''}. "
        "The DRL baseline "
        f"trained {', '.join(f'{b:,}' for b in sorted(results.drl))} slots in phases of "
        f"{budget.drl_phase_slots:,}. Statistics: mean ± std over seeds, bootstrap 95% CI; paired tests over "
        "the 5 seeds (n beside each p)."
    )
    return Report(
        paper="Multi-agentic LM inference (lm-inference)",
        settings=settings,
        targets_source='spec f "must match" and issue 21',
        targets=targets,
        sections=[
            section("Results (spec f: mean ± std [95% CI])", _results_table(summary)),
            section(
                "Against MA-rule (paired by seed)",
                comparison_table(frame, [T_TYPE, F_NORM, J], reference=RULE),
            ),
            section(
                "Fig. 7: when J settles (rolling 5-epoch mean within 10% of its final value)",
                table_markdown(["policy", "settles by epoch", "final-epoch J"], settle_rows),
            ),
        ],
        figures=figures,
        summary={
            "policies": {
                p: {m: stats(p, m) for m in (T_TYPE, T_MEAN, F_NORM, J, *RHO, T_LM[3])} for p in policies
            },
            "settle_epoch": settle,
        },
        run_kpis={"kpi_objective": "{:.3f}", "kpi_type_mean_latency_s": "{:.0f}", "kpi_jain_norm": "{:.3f}"},
    )
