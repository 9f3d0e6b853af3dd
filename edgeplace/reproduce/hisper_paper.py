"""What the HISPER paper reports (spec: papers/hisper.md, section h), for side-by-side tables.

The paper gives training-time figures as numbers and its results as orderings read off its figures;
both are summarised here in our words. Absolute values are not comparable with ours (the accuracy,
price and topology parameters are calibrated stand-ins, spec h).
"""

from __future__ import annotations

#: Training time on the paper's RTX 4070 Ti per agent count: env steps and minutes to stability, seconds
#: per round of the 20 envs (20 steps), and seconds per 2,000 steps including the 100 updates.
TRAINING_TIME = {
    8: {"steps_to_stable": 1.08e5, "minutes_to_stable": 5.84, "s_per_round": 0.0255, "s_per_2000": 6.64},
    10: {"steps_to_stable": 9.8e4, "minutes_to_stable": 6.72, "s_per_round": 0.0321, "s_per_2000": 8.38},
}

#: Fig. 7-10, one line per statement: (figure, agent count or None, the paper's finding in our words).
STATEMENTS = (
    (
        "Fig. 7 reward",
        8,
        "HISPER ahead of HASAC, HASAC ahead of the heuristic; HAPPO near 0 and noisy; Random last",
    ),
    ("Fig. 7 reward", 10, "HISPER ahead of the heuristic, then HASAC, then HAPPO just above Random"),
    (
        "Fig. 7 accuracy",
        None,
        "tracks the reward; HAPPO lowest after Random; HASAC close to HISPER at 8 agents",
    ),
    (
        "Fig. 7 cost",
        8,
        "heuristic cheapest, then Random; HISPER about HAPPO but steadier; HASAC about 2x HISPER",
    ),
    ("Fig. 7 delay", None, "heuristic, HISPER and HASAC about equal; Random and HAPPO worse"),
    ("Fig. 8 failure rate", None, "HISPER lowest, then HASAC and the heuristic; HASAC worse at 10 agents"),
    (
        "Fig. 9 decision time",
        None,
        "HISPER a little above HASAC and HAPPO; the heuristic slowest and growing fastest",
    ),
    (
        "Fig. 10 per agent",
        8,
        "OD agents more accurate than MOT agents; the heuristic has the highest delay for every agent",
    ),
)

#: The primary claims checked with Welch t-tests (spec h), keyed as in the report's claims table.
PRIMARY_CLAIMS = {
    "reward": "HISPER's final reward is above every baseline at 8 and at 10 agents",
    "failure": "HISPER has the lowest failure rate",
    "random": "Random has the lowest reward",
    "hasac_gap": "HASAC's gap to HISPER is wider at 10 agents than at 8",
    "stable": "HISPER's steps to stable are within 2x of the paper's",
}

#: Secondary claims: the paper's HISPER decision time is at most this multiple of HASAC's (spec h).
DECISION_TIME_RATIO = 1.5
