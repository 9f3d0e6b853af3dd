"""Rule controllers of the lm-inference scenario (numpy only): the spec's baselines RF, RR, RL, AL,
LL and MAL, and the rule backend of MA (OPT planner, JSQ scheduler, role-enacting deployer); see
:mod:`.hierarchies` for the table of names, and :mod:`.calibration` for the reference they reproduce."""

from edgeplace.algos.baselines.lm_inference.hierarchies import HIERARCHIES, make_hierarchy

__all__ = ["HIERARCHIES", "make_hierarchy"]
