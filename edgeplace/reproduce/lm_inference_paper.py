"""What the multi-agentic LM-inference paper reports (spec f, "Paper numbers"), for the report's
"paper" column; the simulator's calibration reference is
:data:`edgeplace.algos.baselines.lm_inference.calibration.REFERENCE`."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

#: Policy -> the paper's words on it (single testbed runs, spec g12).
PAPER_NUMBERS: Mapping[str, str] = MappingProxyType(
    {
        "rf": "T̄ > 406 s, Jain ≈ 0.62",
        "rr": "LM4 success < 0.3, latency > 600 s",
        "rl": "Jain ≈ 1.0, > 50 s below RR",
        "al": "LM4 success < 0.3, latency > 600 s",
        "ll": "",
        "mal": "less fair than RL; LM4 success < 0.3",
        "ma-rule": "(MA) 74 s, F_norm 0.90, every ρ_i > 0.4",
        "learned": "(MA) 74 s, F_norm 0.90, every ρ_i > 0.4",
    }
)
#: The rule controllers of spec e and MA's rule backend, in the report's order.
RULES = ("rf", "rr", "rl", "al", "ll", "mal", "ma-rule")
#: The protocol's 5 evaluation seeds (the same request streams for every policy).
EVAL_SEEDS = (0, 1, 2, 3, 4)
#: The DRL baseline's training budgets in slots: the paper's optimistic case and ten times it.
SPEC_DRL_SLOTS = (20_000, 200_000)
MA_LATENCY_S = 74.0
MA_JAIN_NORM = 0.90
