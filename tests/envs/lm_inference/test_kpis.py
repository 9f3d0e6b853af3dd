"""KPIs of section b: Jain's index and its normalisation with their edge cases, request-weighted vs
per-type latency, the objective, and cohort selection."""

from __future__ import annotations

import numpy as np
import pytest

from edgeplace.envs.lm_inference.kpis import LmKpi, cohort_kpis, cohort_mask, jain
from edgeplace.envs.lm_inference.request_log import Outcome, RequestLog
from tests.envs.lm_inference.conftest import LM1, LM2, LM3, PARAMS, workload


def test_jain_matches_the_spec_worked_example():
    # Spec g1: ratios (0.93, 0.88, 0.97, 0.72) give F = 0.988 and F_norm = 0.984.
    index, normalised = jain(np.array([0.93, 0.88, 0.97, 0.72]))
    assert index == pytest.approx(0.988, abs=5e-4) and normalised == pytest.approx(0.984, abs=5e-4)


@pytest.mark.parametrize(
    ("ratios", "expected"),
    [
        ([0.0, 0.0, 0.0, 0.0], (0.25, 0.0)),  # all zero: F := 1/I
        ([0.5, 0.5, 0.5, 0.5], (1.0, 1.0)),
        ([1.0, 0.0, 0.0, 0.0], (0.25, 0.0)),
        ([0.4], (1.0, 1.0)),  # one type counted
        ([], (0.25, 0.0)),  # no type with arrivals
        ([1.0, 0.0], (0.5, 0.0)),  # two types counted: I = 2
    ],
)
def test_jain_edge_cases(ratios, expected):
    assert jain(np.array(ratios)) == pytest.approx(expected)


def finished_log(rows: list[tuple[int, int, int, float | None]]) -> RequestLog:
    """The log of one-prompt requests (slot, lm, outcome, latency s) given in slot order, as the
    simulator leaves it; the requests of a slot come from origins 0, 1, ... in turn."""
    origins = [sum(r[0] == row[0] for r in rows[:k]) for k, row in enumerate(rows)]
    log = RequestLog(
        workload(rows[-1][0] + 1, *((r[0], o, r[1], 1) for r, o in zip(rows, origins, strict=True)))
    )
    log.outcome[:] = [r[2] for r in rows]
    log.resolved_s[:] = [r[0] * PARAMS.slot_s + (r[3] or 0.0) for r in rows]
    return log


def test_latency_means_are_request_weighted_and_per_type():
    log = finished_log(
        [
            (0, LM1, Outcome.SUCCESS, 100.0),
            (0, LM1, Outcome.SUCCESS, 200.0),
            (1, LM1, Outcome.SUCCESS, 300.0),
            (1, LM2, Outcome.SUCCESS, 600.0),
            (2, LM2, Outcome.EXPIRED, None),
            (2, LM3, Outcome.INFEASIBLE, None),
        ]
    )
    kpis = cohort_kpis(log, np.ones(6, dtype=bool), PARAMS)
    assert kpis.arrivals.tolist() == [3, 2, 1, 0]
    np.testing.assert_allclose(kpis.success_ratio[:3], [1.0, 0.5, 0.0])
    assert np.isnan(kpis.success_ratio[3])  # no arrivals: left out of F and T-bar_type
    assert kpis.mean_latency_s == pytest.approx(300.0)  # (100 + 200 + 300 + 600) / 4
    assert kpis.latency_s[:3].tolist() == pytest.approx([200.0, 600.0, PARAMS.deadline_s])
    assert kpis.type_mean_latency_s == pytest.approx((200 + 600 + 900) / 3)
    index, normalised = jain(np.array([1.0, 0.5, 0.0]))
    assert (kpis.jain, kpis.jain_norm) == pytest.approx((index, normalised))
    assert kpis.objective == pytest.approx(0.5 * 300 / 900 + 0.5 * (1 - normalised))
    assert kpis.as_dict()[f"{LmKpi.SUCCESS_RATIO.value}_LM2"] == pytest.approx(0.5)


def test_no_success_means_deadline_latency():
    log = finished_log([(0, LM1, Outcome.EXPIRED, None), (0, LM2, Outcome.UNRESOLVED, None)])
    kpis = cohort_kpis(log, np.ones(2, dtype=bool), PARAMS)
    assert kpis.mean_latency_s == PARAMS.deadline_s and kpis.type_mean_latency_s == PARAMS.deadline_s
    assert kpis.jain_norm == 0.0 and kpis.objective == pytest.approx(1.0)


def test_cohorts_select_by_arrival_slot():
    log = finished_log([(0, LM1, Outcome.SUCCESS, 10.0), (3, LM1, Outcome.EXPIRED, None)])
    assert cohort_mask(log, 1, 4).tolist() == [False, True]
    assert cohort_kpis(log, cohort_mask(log, 0, 1), PARAMS).success_ratio[LM1] == 1.0
