"""Reduced calibration against the spec's reference table (the full check is
``bench/lm_inference_calibration.py``: 5 seeds x 12 epochs, every controller).

Why these runs and tolerances:
- RF, RR, RL and LL run 3 seeds x 4 epochs (cohorts of slots 50-170) instead of 5 x 12. Their queues
  settle within about one deadline (30 slots) of the warm-up epoch, so short runs carry little bias,
  and the seed standard deviation of T-bar_type (at most 16 s in the full runs) gives a 3-seed mean a
  standard error of at most 9 s, about 3 % of these latencies. The full runs land within 4 % (T-bar_type)
  and 0.03 (F_norm) of the reference, these reduced ones within 6 % and 0.03, so the spec's own
  tolerances (15 %, 0.05) apply unchanged, with about three standard errors of room.
- MA-rule keeps 12 epochs (2 seeds): its planner re-plans every epoch and settles over several, so
  short runs are biased high (6 epochs: +19 %); its seed std is 6 s (7 %), a 2-seed standard error
  of 5 %. The full run lands at -7 %, these two seeds at -10 %: inside 15 %, with one standard error
  of room, which is why this row uses two seeds rather than one.
"""

from __future__ import annotations

import pytest

from edgeplace.algos.baselines.lm_inference.calibration import (
    JAIN_NORM_TOLERANCE,
    LATENCY_TOLERANCE,
    REFERENCE,
    Measured,
    measure,
)
from edgeplace.envs.lm_inference.cluster import Cluster
from edgeplace.envs.lm_inference.episode import RunSpec
from tests.envs.lm_inference.conftest import PARAMS

REDUCED = {
    "rf": (3, RunSpec(epochs=4)),
    "rr": (3, RunSpec(epochs=4)),
    "rl": (3, RunSpec(epochs=4)),
    "ll": (3, RunSpec(epochs=4)),
    "ma-rule": (2, RunSpec(epochs=12)),
}


@pytest.fixture(scope="module")
def reduced(cluster: Cluster) -> dict[str, Measured]:
    return {
        name: measure(name, cluster, range(seeds), spec, PARAMS) for name, (seeds, spec) in REDUCED.items()
    }


@pytest.mark.parametrize("name", sorted(REDUCED))
def test_reduced_runs_land_within_the_spec_tolerance(reduced, name):
    got, reference = reduced[name], REFERENCE[name]
    ratio = got.type_mean_latency_s / reference.type_mean_latency_s
    assert abs(ratio - 1.0) <= LATENCY_TOLERANCE, f"T-bar_type {got.type_mean_latency_s:.0f} s ({ratio:.2f})"
    assert abs(got.jain_norm - reference.jain_norm) <= JAIN_NORM_TOLERANCE, f"F_norm {got.jain_norm:.3f}"


def test_the_paper_ordering_holds_in_reduced_runs(reduced):
    # Spec f, must-match 1-3: MA lowest latency with F_norm >= 0.9 and every rho > 0.4, at least 70 %
    # below RF; RF and RR the slowest, both >= 300 s; RL >= 50 s faster than RR and fairer.
    latency = {name: m.type_mean_latency_s for name, m in reduced.items()}
    assert min(latency, key=latency.get) == "ma-rule"
    assert reduced["ma-rule"].jain_norm >= 0.9 and (reduced["ma-rule"].success_ratio > 0.4).all()
    assert latency["ma-rule"] <= 0.3 * latency["rf"]
    assert set(sorted(latency, key=latency.get)[-2:]) == {"rf", "rr"}
    assert min(latency["rf"], latency["rr"]) >= 300
    assert latency["rl"] <= latency["rr"] - 50 and reduced["rl"].jain_norm > reduced["rr"].jain_norm
