"""The hierarchical DRL baseline (spec e): its tier env (seeding, masks, Eq. 20 cohort credit), a tiny
alternating PPO/DQN training that checkpoints and resumes, and the trained policy in the main env."""

from __future__ import annotations

import json
import pickle

import numpy as np
import pandas as pd
import pytest

from edgeplace.envs.action_masks import mask_parts
from edgeplace.envs.base import ALL_AGENTS, MaskedActionError
from edgeplace.envs.lm_inference.catalogue import mode_vectors
from edgeplace.envs.lm_inference.drl import DrlTierEnv, Tier, TierObserver
from edgeplace.envs.lm_inference.lm_types import LM_TABLE, NUM_LMS
from edgeplace.envs.lm_inference.request_log import Outcome
from edgeplace.envs.lm_inference.rewards import cohort_rewards
from edgeplace.obs_keys import ObsKey

#: Two 25-slot epochs: cohorts of slots 25..39 are measured, the last 10 slots drain.
LM_CONFIG = {"epochs": 2, "epoch_slots": 25, "warmup_epochs": 1, "drain_slots": 10}
#: Networks and batches that train a 100-slot phase in a second or two.
TINY = {
    "hidden": (16,),
    "num_envs": 2,
    "ppo_batch_slots": 50,
    "ppo_minibatch_size": 32,
    "ppo_epochs": 1,
    "learning_starts_slots": 20,
    "dqn_fragment_slots": 5,
    "dqn_batch_size": 16,
}
CPU_ONLY = 0  # VM2


class LastAllowed:
    """A deterministic policy: the last allowed value of every sub-action."""

    name = "last-allowed"

    def act_batch(self, agent_ids, observations):
        rows = []
        for observation in observations:
            parts = [int(np.flatnonzero(part)[-1]) for part in mask_parts(observation[ObsKey.ACTION_MASK])]
            rows.append(parts if len(parts) > 1 else parts[0])
        return np.array(rows)


def random_allowed(observation, rng):
    parts = [int(rng.choice(np.flatnonzero(part))) for part in mask_parts(observation[ObsKey.ACTION_MASK])]
    return np.array(parts) if len(parts) > 1 else parts[0]


def tier_env(tier: Tier) -> DrlTierEnv:
    env = DrlTierEnv({"tier": tier.value, "lm": LM_CONFIG})
    env.set_frozen(LastAllowed())
    return env


def play(env: DrlTierEnv, seed: int, on_step=None) -> list[float]:
    """One episode with seeded random allowed actions; the training tier's reward per slot."""
    rng = np.random.default_rng(seed)
    observations, _ = env.reset(seed=seed)
    rewards = []
    while True:
        actions = {agent: random_allowed(obs, rng) for agent, obs in observations.items()}
        observations, reward, _, truncated, _ = env.step(actions)
        assert len(set(reward.values())) == 1  # every agent of the tier gets the cohorts' reward
        rewards.append(next(iter(reward.values())))
        if on_step is not None:
            on_step(env)
        if truncated[ALL_AGENTS]:
            return rewards


@pytest.mark.parametrize("tier", list(Tier))
def test_the_tier_env_is_seeded(tier):
    first, again, other = (play(tier_env(tier), seed) for seed in (4, 4, 5))
    assert first == again and first != other
    assert len(first) == 50


def test_masks_keep_gpu_only_lms_off_the_cpu_node_and_respect_locks():
    env = tier_env(Tier.LOWER)
    observer: TierObserver = env.observer
    env.reset(seed=0)
    view = env.sim.view()
    for obs in observer.upper(view).values():
        parts = mask_parts(obs[ObsKey.ACTION_MASK])
        for lm, part in enumerate(parts):
            assert bool(part[CPU_ONLY]) == bool(LM_TABLE.cpu_allowed[lm]) and part[1:].all()
    rng = np.random.default_rng(0)
    observations = env._last_obs
    for _ in range(20):  # reconfigure at random so pods lock (PENDING, INIT, TERMINATING)
        for agent, obs in observations.items():
            node = env.possible_agents.index(agent)
            mask = obs[ObsKey.ACTION_MASK] > 0
            vectors = mode_vectors(env.cluster, node, env.params)
            assert not mask[len(vectors) :].any() and mask.any()
            locked = env.view.locked[node]
            for a in np.flatnonzero(mask):
                assert (vectors[a][locked] == env.view.mode[node][locked]).all()
        observations, *_ = env.step({a: random_allowed(o, rng) for a, o in observations.items()})
    assert env.view.locked.any()
    agent = env.possible_agents[CPU_ONLY]
    masked = int(np.flatnonzero(observations[agent][ObsKey.ACTION_MASK] == 0)[0])
    actions = {a: random_allowed(o, rng) for a, o in observations.items()} | {agent: masked}
    with pytest.raises(MaskedActionError):
        env.step(actions)


def test_the_reward_is_eq20_of_each_cohort_once_it_has_resolved():
    env = tier_env(Tier.UPPER)
    paid = []
    before = {}

    def on_step(env):
        log = env.sim.log
        done = np.array(
            [
                (log.outcome[log.slot_start[t] : log.slot_start[t + 1]] != Outcome.UNRESOLVED).all()
                for t in range(env.horizon)
            ]
        ) & (np.arange(env.horizon) < env.sim.slot)
        newly = np.flatnonzero(done & ~before.get("done", np.zeros_like(done)))
        paid.append(sum(cohort_rewards(log, t, t + 1, env.params)[0] for t in newly))
        before["done"] = done

    rewards = play(env, 7, on_step)
    np.testing.assert_allclose(rewards, paid)
    log, resolved = env.sim.log, before["done"]
    assert 0 < resolved.sum() < env.horizon  # the last cohorts are still in flight at the end
    total = cohort_rewards(log, 0, env.horizon, env.params)[resolved].sum()
    assert sum(rewards) == pytest.approx(total)
    kpis = env.pop_finished()
    assert len(kpis) == 1 and kpis[0]["return"] == pytest.approx(total)


def test_the_masked_q_module_masks_trains_and_explores_within_the_mask():
    import torch
    from ray.rllib.algorithms.dqn.default_dqn_rl_module import QF_NEXT_PREDS, QF_PREDS, QF_TARGET_NEXT_PREDS
    from ray.rllib.core.columns import Columns

    from edgeplace.models.masked_q_module import MaskedQModule

    env = tier_env(Tier.LOWER)
    observations, _ = env.reset(seed=0)
    module = MaskedQModule(
        observation_space=env.observation_spaces["node_VM2"],
        action_space=env.action_spaces["node_VM2"],
        model_config={"inputs": ["own"], "hidden": [8], "double_q": True, "epsilon": 1.0},
    )
    module.make_target_networks()
    obs = {
        key: torch.from_numpy(np.stack([o[key] for o in observations.values()]))
        for key in ("own", "action_mask")
    }
    allowed = obs["action_mask"] > 0  # (6, 36)
    out = module.forward_train({Columns.OBS: obs, Columns.NEXT_OBS: obs})
    for key in (QF_PREDS, QF_NEXT_PREDS, QF_TARGET_NEXT_PREDS):
        assert torch.isneginf(out[key][~allowed]).all() and torch.isfinite(out[key][allowed]).all()
    out[QF_PREDS][allowed].sum().backward()
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in module.q_net.parameters())
    explored = torch.stack(
        [module.forward_exploration({Columns.OBS: obs}, t=0)[Columns.ACTIONS] for _ in range(50)]
    )
    assert allowed.gather(1, explored.T).all()  # epsilon = 1: random, but always allowed
    greedy = module.forward_inference({Columns.OBS: obs})[Columns.ACTIONS]
    assert allowed[torch.arange(6), greedy].all()


def test_a_tiny_alternating_run_checkpoints_resumes_and_plays_the_main_env(ray_session, tmp_path):
    from edgeplace.algos.baselines.lm_inference.reference import make_env
    from edgeplace.algos.lm_inference.drl import DrlPolicy, load_drl_policy, train_drl
    from edgeplace.evaluation.runner import run_episodes

    first = train_drl(LM_CONFIG, tmp_path, budget_slots=200, phase_slots=100, seed=1, settings=TINY)
    curve = pd.read_csv(tmp_path / "curve.csv")
    assert list(curve["tier"]) == ["lower", "upper"] and list(curve["slots"]) == [100, 200]
    assert (curve["episodes"] >= 1).all() and curve["cohort_reward"].between(0, 1).all()
    assert json.loads((tmp_path / "state.json").read_text())["phases"] == 2
    assert first.checkpoint == tmp_path / "checkpoints" / "phase_000001"
    assert (first.checkpoint / "lower_replay_buffer.pkl").is_file()

    seen = []
    second = train_drl(
        LM_CONFIG, tmp_path, budget_slots=300, phase_slots=100, seed=1, settings=TINY, on_phase=seen.append
    )
    assert [row["iteration"] for row in seen] == [3] and seen[0]["tier"] == "lower"
    pd.testing.assert_frame_equal(second.curve.iloc[:2], first.curve, check_dtype=False)
    assert second.phases == 3 and second.slots == 300
    with pytest.raises(ValueError, match="seed 1"):
        train_drl(LM_CONFIG, tmp_path, budget_slots=400, phase_slots=100, seed=2, settings=TINY)
    with pytest.raises(ValueError, match="multiple of"):
        train_drl(LM_CONFIG, tmp_path, budget_slots=400, phase_slots=75, seed=1, settings=TINY)

    policy = load_drl_policy(tmp_path)
    assert isinstance(policy, DrlPolicy) and policy.name == "drl"
    saved = tmp_path / "checkpoints" / "phase_000002" / "lower" / "learner_group" / "learner" / "rl_module"
    state = pickle.loads((saved / "node_VM7" / "module_state.pkl").read_bytes())
    loaded = policy.tiers.modules["node_VM7"].state_dict()
    for key, value in loaded.items():
        np.testing.assert_array_equal(value.numpy(), np.asarray(state[key]))
    kpis = run_episodes(lambda: make_env(LM_CONFIG), policy, seed=0, episodes=1, num_envs=1)[0]
    assert kpis["fallbacks"] == 0.0 and 0.0 <= kpis["objective"] <= 1.0
    assert sum(kpis[f"arrivals_LM{i + 1}"] for i in range(NUM_LMS)) > 0
