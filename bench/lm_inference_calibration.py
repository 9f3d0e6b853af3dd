"""lm-inference simulator calibration: every controller of the spec's reference table, measured vs
reference (spec c, "Calibration reference": 12 epochs, 5 seeds, cohorts of slots 50-570).

Prints, per controller, T-bar_type (mean +- seed std), T-bar (Eq. 9), F_norm, J, rho per LM and
T-bar_4, each beside the reference with the ratio (latency) or difference (F_norm, J); ``ok`` marks
T-bar_type within 15 % and F_norm within 0.05 (required of RF, RR, RL, LL and MA-rule). Exits 1 when
a required controller is out of tolerance.

    python bench/lm_inference_calibration.py [--seeds 5] [--epochs 12] [--controllers rf rr ...]
"""

from __future__ import annotations

import argparse
import sys
import time

from edgeplace.algos.baselines.lm_inference.calibration import CALIBRATED, REFERENCE, measure
from edgeplace.envs.lm_inference.cluster import load_cluster
from edgeplace.envs.lm_inference.episode import RunSpec
from edgeplace.envs.lm_inference.params import LmInferenceParams


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--epochs", type=int, default=12)
    parser.add_argument("--controllers", nargs="+", default=list(REFERENCE), choices=list(REFERENCE))
    args = parser.parse_args()
    cluster, params, spec = load_cluster(), LmInferenceParams(), RunSpec(epochs=args.epochs)
    first, end = spec.cohort_slots(params)
    print(f"testbed:bristol, {args.seeds} seeds x {args.epochs} epochs, cohorts of slots [{first}, {end})\n")
    header = (
        f"{'controller':<9} {'T_type s':>10} {'ref':>8} {'ratio':>6} {'T s':>5} {'ref':>4} {'ratio':>6} "
        f"{'F_norm':>6} {'ref':>5} {'diff':>6} {'J':>6} {'ref':>5} {'rho LM1..4':>20} {'ref':>20} "
        f"{'T_4 s':>5} {'ref':>4} {'restarts':>8} {'voided':>6} {'ok':>3} {'s':>5}"
    )
    print(header)
    failed = []
    for name in args.controllers:
        start = time.perf_counter()
        got, ref = measure(name, cluster, range(args.seeds), spec, params), REFERENCE[name]
        ok = got.within_tolerance(ref)
        if name in CALIBRATED and not ok:
            failed.append(name)
        rho = " ".join(f"{r:.2f}" for r in got.success_ratio)
        rho_ref = " ".join(f"{r:.2f}" for r in ref.success_ratio)
        print(
            f"{name:<9} {got.type_mean_latency_s:>5.0f}±{got.type_mean_latency_std_s:<4.0f} "
            f"{ref.type_mean_latency_s:>4.0f}±{ref.type_mean_latency_std_s:<3.0f} "
            f"{got.type_mean_latency_s / ref.type_mean_latency_s:>6.2f} "
            f"{got.mean_latency_s:>5.0f} {ref.mean_latency_s:>4.0f} "
            f"{got.mean_latency_s / ref.mean_latency_s:>6.2f} "
            f"{got.jain_norm:>6.2f} {ref.jain_norm:>5.2f} {got.jain_norm - ref.jain_norm:>+6.2f} "
            f"{got.objective:>6.3f} {ref.objective:>5.3f} {rho:>20} {rho_ref:>20} "
            f"{got.lm4_latency_s:>5.0f} {ref.lm4_latency_s:>4.0f} {got.restarts:>8.0f} {got.voided:>6.0f} "
            f"{'yes' if ok else 'NO':>3} {time.perf_counter() - start:>5.1f}"
        )
    if failed:
        print(f"\nout of tolerance (required): {failed}")
        sys.exit(1)


if __name__ == "__main__":
    main()
