"""Hierarchical DRL baseline (spec e): train the tiers in alternating phases with the default settings
and print what each phase cost and reached (the curve.csv rows), with a rich progress bar.

    python bench/lm_inference_drl.py [--budget 4000] [--phase 2000] [--seed 0] [--out /tmp/drl_bench]

The default budget is one phase per tier: the wall time of 2,000 slots of DQN (lower) and of MAPPO
(upper) on this machine.
"""

from __future__ import annotations

import argparse

import ray

from edgeplace.algos.lm_inference.drl import train_drl
from edgeplace.progress import training_progress


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--budget", type=int, default=4000, help="slots, both tiers together")
    parser.add_argument("--phase", type=int, default=2000, help="slots per phase")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default="/tmp/lm_inference_drl_bench")
    args = parser.parse_args()
    ray.init(include_dashboard=False, log_to_driver=False, configure_logging=False)
    with training_progress(args.budget) as update:
        run = train_drl(
            None, args.out, budget_slots=args.budget, phase_slots=args.phase, seed=args.seed, on_phase=update
        )
    print(run.curve.to_string(index=False))
    for tier, rows in run.curve.groupby("tier"):
        seconds = rows["wall_s"].sum() / rows["phase_slots"].sum() * 2000
        print(f"{tier}: {seconds:.0f} s per 2,000 slots")


if __name__ == "__main__":
    main()
