"""The env's side of the planner (papers/llm-mappo.md, sections d and e): cadence, windows handed back,
trust, blended rewards and the guidance in the observation."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from edgeplace.algos.baselines.metaverse_dag import GreedyPolicy
from edgeplace.envs.base import ALL_AGENTS
from edgeplace.envs.metaverse_dag import MetaverseDagEnv, MvObsKey
from edgeplace.envs.metaverse_dag.guidance import INITIAL_KAPPA, Guidance, TrustTracker
from edgeplace.envs.metaverse_dag.metrics import OMEGA, PHI0
from edgeplace.envs.metaverse_dag.observation import RegionCol
from edgeplace.planners.soft_plans import AgentPlan, PlanEvent
from edgeplace.policy import act
from tests.planners.test_soft_plans import CapturingPlanner


class SkewedPlanner(CapturingPlanner):
    """The heuristic plan with non-static weights and a confident R-hat."""

    def plan(self, context):
        plans = super().plan(context)
        return {
            k: AgentPlan(
                np.array([0.1, 0.1, 0.1, 0.7]), p.p, np.array([0.9, 0.1, 0.5]), 0.9, 0.95, p.z_plan, "skewed"
            )
            for k, p in plans.items()
        }


def table(rewards: list[dict]) -> np.ndarray:
    return np.array([list(r.values()) for r in rewards])


def run(config: dict, planner=None, seed: int = 1):
    env = MetaverseDagEnv(config)
    if planner is not None:
        env.planning.planner = planner
    policy = GreedyPolicy(config)
    observations, _ = env.reset(seed=seed)
    trace = [observations]
    rewards = []
    while True:
        observations, reward, _, truncated, _ = env.step(act(policy, observations))
        trace.append(observations)
        rewards.append(reward)
        if truncated[ALL_AGENTS]:
            return env, trace, rewards


def test_without_planner_the_guidance_is_static_and_the_plan_inputs_zero():
    _, trace, _ = run({"horizon": 3})
    obs = trace[1]["ec_0"]
    assert obs[MvObsKey.REGION][RegionCol.KAPPA] == 0 and obs[MvObsKey.REGION][RegionCol.PHI] == PHI0
    assert np.allclose(obs[MvObsKey.REGION][RegionCol.OMEGA : RegionCol.OMEGA + 4], OMEGA)
    assert not obs[MvObsKey.PLAN_Z].any() and not obs[MvObsKey.PLAN_PRIOR].any()


def test_heuristic_planner_leaves_rewards_and_dynamics_unchanged():
    """Its weights are the static ones and psi = 1/2: blending changes nothing; the request streams are
    the same with and without a planner (the planner's seed is not drawn from the episode's stream)."""
    _, _, plain = run({"horizon": 4})
    env, trace, guided = run({"horizon": 4, "planner": "heuristic"})
    assert np.allclose(table(plain), table(guided))
    region = trace[2]["ec_1"][MvObsKey.REGION]
    assert 0 < region[RegionCol.KAPPA] <= 0.9
    prior = trace[2]["ec_1"][MvObsKey.PLAN_PRIOR]
    assert np.allclose(prior.sum(axis=1), 1.0) and trace[2]["ec_1"][MvObsKey.PLAN_Z].any()


def test_plans_at_reset_every_period_and_windows_are_handed_back():
    planner = CapturingPlanner()
    env, _, _ = run({"horizon": 7, "planner": "heuristic", "plan_period_s": 30.0}, planner)
    events = [(c.event, c.time_s, c.agents.tolist()) for c in planner.contexts]
    k = env.net.num_regions
    assert events == [(PlanEvent.RESET, 0.0, list(range(k)))] + [
        (PlanEvent.PERIOD, t, list(range(k))) for t in (30.0, 60.0)
    ]
    assert [o.steps for o in planner.outcomes if o.agent == 0] == [3, 3, 1]
    outcome = planner.outcomes[0]
    assert (
        0.0 <= outcome.utility <= 1.0
        and outcome.kpis.shape == (3,)
        and outcome.choice.shape == (env.layout.num_slots,)
    )


def test_a_node_failure_replans_the_regions_it_hits():
    planner = CapturingPlanner()
    env, _, _ = run({"horizon": 6, "planner": "heuristic", "fail_fraction": 0.2, "fail_step": 3}, planner)
    down = [c for c in planner.contexts if c.event is PlanEvent.NODE_DOWN]
    hit = np.unique(env.net.region[np.flatnonzero(env.failing)])
    assert len(down) == 1 and down[0].time_s == 40.0 and down[0].agents.tolist() == hit.tolist()
    failed = np.isin(env.options.option_node, np.flatnonzero(env.failing))
    assert failed.any() and not down[0].up[failed].any() and planner.contexts[0].up[failed].all()


def test_shaping_blends_the_plan_weights_by_trust():
    env, trace, shaped = run({"horizon": 4, "planner": "heuristic"}, SkewedPlanner())
    _, _, static = run({"horizon": 4, "planner": "heuristic", "shaping": False}, SkewedPlanner())
    assert not np.allclose(table(shaped), table(static))
    region = trace[1]["ec_0"][MvObsKey.REGION]
    kappa = region[RegionCol.KAPPA]
    assert region[RegionCol.PHI] == pytest.approx((1 - kappa) * PHI0 + kappa * 0.9, rel=1e-6)
    expected = (1 - kappa) * OMEGA + kappa * np.array([0.1, 0.1, 0.1, 0.7])
    assert np.allclose(region[RegionCol.OMEGA : RegionCol.OMEGA + 4], expected, atol=1e-6)


def test_trust_starts_at_one_half_and_follows_the_utility_ema():
    trust = TrustTracker(2, alpha=5.0, kappa_max=0.9)
    assert np.allclose(trust.kappa(np.array([0.2, 0.9])), INITIAL_KAPPA)
    trust.observe(np.array([0.8, 0.9]))
    trust.observe(np.array([0.4, 0.9]))
    ema = 0.7 * 0.8 + 0.3 * 0.4
    assert np.allclose(trust.kappa(np.array([0.5, 0.9])), [np.exp(-5 * abs(0.5 - ema)), 0.9])


def test_static_guidance_gives_the_eq_20_reward():
    env, _, rewards = run({"horizon": 2})
    guidance = Guidance.static(env.net.num_regions)
    assert np.allclose(guidance.rewards(env.last_metrics), env.last_metrics.reward)
    assert list(rewards[-1].values()) == pytest.approx(env.last_metrics.reward.tolist())


def test_the_env_resolves_its_planner_lazily_without_importing_torch_models():
    """Building and stepping the env with a numpy planner loads none of the package's torch code (the
    models, the memory backend) nor the http backend. (RLlib's MultiAgentEnv itself imports torch.)"""
    code = (
        "import sys\n"
        "from edgeplace.envs.metaverse_dag import MetaverseDagEnv\n"
        "env = MetaverseDagEnv({'horizon': 2, 'planner': 'heuristic'})\n"
        "env.reset(seed=0)\n"
        "loaded = sorted(m for m in sys.modules if m.startswith(('edgeplace.models', 'edgeplace.algos')) "
        "or 'soft_plans.memory' in m or 'soft_plans.http' in m)\n"
        "print(loaded)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"
