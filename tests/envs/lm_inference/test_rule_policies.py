"""The rule controllers behind the policy protocol: through the env they play exactly the simulator's
direct run of the same controller, alone or batched over concurrent episodes."""

from __future__ import annotations

import pytest

from edgeplace.algos.baselines.lm_inference.hierarchies import HIERARCHIES, make_hierarchy
from edgeplace.algos.baselines.lm_inference.policies import BASELINES, HierarchyPolicy, controller_seed
from edgeplace.algos.baselines.lm_inference.reference import make_env
from edgeplace.envs.base import KPI_INFO_KEY
from edgeplace.envs.lm_inference.agents import SCHEDULER
from edgeplace.envs.lm_inference.env import EpisodeKpi
from edgeplace.envs.lm_inference.episode import run_episode
from edgeplace.evaluation.runner import run_episodes
from edgeplace.policy import act
from tests.envs.lm_inference.conftest import play

#: Long enough for OPT to re-plan twice and DPP / RR to reconfigure under load.
CONFIG = {"epochs": 3, "epoch_slots": 20, "warmup_epochs": 1, "drain_slots": 10}
SEED = 11


@pytest.mark.parametrize("name", list(HIERARCHIES))
def test_a_controller_through_the_env_equals_its_direct_run(name):
    env = make_env(CONFIG)
    _, _, infos = play(env, BASELINES[name](3, CONFIG), seed=SEED)
    kpis = infos[SCHEDULER][KPI_INFO_KEY]
    hierarchy = make_hierarchy(name, env.cluster, env.params, controller_seed(3, SEED, 0))
    # Episode 0 of seed s draws the workload of the direct run of seed s.
    sim, result = run_episode(env.cluster, hierarchy, SEED, env.config.run_spec, env.params)
    assert {key: kpis[key] for key in result.kpis.as_dict()} == result.kpis.as_dict()
    assert (
        kpis[EpisodeKpi.RESTARTS] == result.counts.restarts
        and kpis[EpisodeKpi.VOIDED] == result.counts.voided
    )
    assert kpis[EpisodeKpi.LOCKED] == result.counts.locked and kpis[EpisodeKpi.FALLBACKS] == 0.0
    assert (env.sim.log.dest == sim.log.dest).all()


def test_concurrent_episodes_each_get_their_own_controller():
    policy = HierarchyPolicy("ma-rule", 0, CONFIG)
    batched = run_episodes(lambda: make_env(CONFIG), policy, seed=2, episodes=3, num_envs=2)
    alone = [
        run_episodes(
            lambda: make_env(CONFIG),
            HierarchyPolicy("ma-rule", 0, CONFIG),
            seed=2,
            episodes=e + 1,
            num_envs=1,
        )[e]
        for e in range(3)
    ]
    assert batched == alone
    assert not policy.episodes  # each controller was dropped after its episode's last slot


def test_a_controller_refuses_an_episode_it_did_not_start():
    env = make_env(CONFIG)
    observations, _ = env.reset(seed=0)
    observations, *_ = env.step(act(HierarchyPolicy("rl", 0, CONFIG), observations))  # the planner's turn
    with pytest.raises(ValueError, match="rl: scheduler acts in episode .* first planner turn"):
        act(HierarchyPolicy("rl", 0, CONFIG), observations)
    with pytest.raises(ValueError, match="unknown lm-inference controller 'opt'"):
        HierarchyPolicy("opt", 0, CONFIG)
