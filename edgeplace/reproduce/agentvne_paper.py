"""The numbers and claims of the AgentVNE paper (spec: papers/agentvne.md, section h), for side-by-side
tables. Hops are Eq.26's congestion-weighted average hops; SAR is a fraction."""

from __future__ import annotations

#: Table IV: substrate nodes -> (arrival rate, AgentVNE hops) under proportional load.
TABLE_IV = {20: (0.2, 4.6), 50: (0.5, 4.1), 100: (1.0, 3.5), 150: (1.5, 2.9), 200: (2.0, 2.2)}

#: Table V at N = 20: variant -> rate -> (hops, SAR).
TABLE_V = {
    "w/o LLM": {0.2: (8.4, 0.97), 0.4: (10.8, 0.66), 0.6: (15.2, 0.46)},
    "w/o RL": {0.2: (6.2, 0.95), 0.4: (9.8, 0.63), 0.6: (14.2, 0.43)},
    "AgentVNE": {0.2: (4.6, 0.97), 0.4: (7.2, 0.67), 0.6: (10.4, 0.49)},
}

#: The qualitative claims of Figs. 5-7 (our paraphrase of spec h).
CLAIMS = {
    "rate": "hops rise with the rate for all; AgentVNE about 30% of the baselines' hops and 5-10 SAR "
    "points above them at high load",
    "lifetime": "the hop gap widens with the lifetime (about 44% at the longest); SAR near-optimal",
    "solve": "GA grows about quadratically to tens of seconds; AgentVNE takes seconds, with a fixed "
    "overhead on small substrates",
}
