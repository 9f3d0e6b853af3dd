"""Learning sanity per scenario, in CI: a few training iterations of the scenario's main algorithm on a
tiny seeded instance make its policy beat the random baseline on primary KPIs by a stated margin.

The cases and their measured figures are in :mod:`tests.learning.sanity`. agent-vne's AgentVNE is
benchmarked in ``bench/learning_sanity.py`` only: its greedy-BFS decoder alone puts an untrained
network far ahead of random on a CI-sized substrate, so the comparison would not show learning.
"""

from __future__ import annotations

import pytest

from tests.learning.sanity import CASES, measure


@pytest.mark.usefixtures("ray_session")
@pytest.mark.parametrize("name", sorted(CASES))
def test_a_few_iterations_beat_random_on_the_primary_kpis(name, tmp_path):
    case = CASES[name]
    outcome = measure(case, tmp_path)
    for target in case.targets:
        advantage = target.advantage(outcome.trained[target.kpi], outcome.random[target.kpi])
        print(
            f"{name}: {target.kpi} advantage {advantage:.4f}, margin {target.margin}; {outcome.train_s:.1f} s"
        )
        assert advantage >= target.margin, (
            f"{name}: {target.kpi} {outcome.trained[target.kpi]:.3f} vs random "
            f"{outcome.random[target.kpi]:.3f}, advantage {advantage:.3f} < margin {target.margin}"
        )
