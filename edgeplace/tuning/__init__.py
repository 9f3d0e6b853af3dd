"""Hyperparameter sweeps with Ray Tune: the sweep file (a scenario ships its own, e.g.
``edgeplace/tune_configs/*.yaml``), its mapping onto
Tune and RLlib, running and resuming sweeps, their summary, and cluster-config validation."""

from edgeplace.tuning.spec import SweepSpec
from edgeplace.tuning.summary import summary_table
from edgeplace.tuning.sweep import SweepResult, export_best_checkpoint, run_sweep
from edgeplace.tuning.typecheck import SweepSpecError

__all__ = [
    "SweepResult",
    "SweepSpec",
    "SweepSpecError",
    "export_best_checkpoint",
    "run_sweep",
    "summary_table",
]
