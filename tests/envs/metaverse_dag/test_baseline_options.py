"""The metaverse-dag env's options for section f's baselines (papers/llm-mappo.md): the RSPPO-like
replica autoscaler and potential shaping, the mu-DDRL-like local reward and the ``neighbour_regions``
observation; the defaults keep the plain env."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from edgeplace.algos.baselines.metaverse_dag import RandomFromMaskPolicy
from edgeplace.envs.base import ALL_AGENTS, MaskedActionError
from edgeplace.envs.metaverse_dag import MetaverseDagConfig, MetaverseDagEnv, MvObsKey
from edgeplace.envs.metaverse_dag.autoscaler import scaled_counts
from edgeplace.policy import act

SHORT = {"horizon": 4}
PEAK = {"horizon": 4, "start_hour": 18.0}


def place_masks(observations: dict, env: MetaverseDagEnv) -> np.ndarray:
    """Every agent's place mask. Shapes: -> (K, S, O) bool."""
    s = env.layout.num_slots
    return np.stack([np.stack(observations[a][MvObsKey.ACTION_MASK][:s]) for a in env.possible_agents]) > 0


def rollout(config: dict, seed: int = 0) -> list[tuple[dict, dict, MetaverseDagEnv]]:
    """(observations, rewards) after each step of a random-from-mask episode, with the env."""
    env = MetaverseDagEnv(config)
    policy = RandomFromMaskPolicy(seed)
    observations, _ = env.reset(seed=seed)
    steps = []
    while True:
        observations, rewards, _, truncated, _ = env.step(act(policy, observations))
        steps.append((observations, rewards))
        if truncated[ALL_AGENTS]:
            return steps


# --- autoscaler ------------------------------------------------------------------------------------
def test_the_autoscaler_count_follows_the_mean_rho_of_the_running_replicas():
    started = np.array([[[[True, True, False], [True, False, False], [True, True, True], [False] * 3]]])
    rho = np.array([[[[0.9, 0.6, 5.0], [0.2, 9.0, 9.0], [0.4, 0.5, 0.6], [9.0] * 3]]])
    out = SimpleNamespace(started=started, rho=rho)
    count = np.array([[[2, 2, 3, 2]]])
    # mean .75 > .7: up; .2 < .3: down; .5: kept (and at R_max anyway); nothing running: kept
    assert scaled_counts(count, out, r_max=3).tolist() == [[[3, 1, 3, 2]]]
    assert scaled_counts(np.array([[[3, 1, 3, 2]]]), out, r_max=3).tolist() == [[[3, 1, 3, 2]]]  # bounds


def test_the_autoscaler_masks_none_beyond_the_count_and_the_count_moves_with_load():
    env = MetaverseDagEnv({**PEAK, "autoscaler": True})
    plain = MetaverseDagEnv(PEAK)
    observations, _ = env.reset(seed=1)
    plain_observations, _ = plain.reset(seed=1)
    layout, none = env.layout, env.options.none_option
    assert (env.replica_count == 1).all()
    policy = RandomFromMaskPolicy(0)
    moved = False
    for _ in range(env.cfg.horizon - 1):
        count = env.replica_count[:, layout.slot_class, layout.slot_ms]  # (K, S)
        beyond = layout.slot_rep[None, :] >= count
        masks, base = place_masks(observations, env), place_masks(plain_observations, plain)
        assert (masks[beyond] == np.eye(env.options.num_options, dtype=bool)[none]).all()
        assert (masks[~beyond] == base[~beyond]).all()  # the autoscaler only narrows the masked slots
        before = env.replica_count.copy()
        actions = act(policy, observations)
        observations, *_ = env.step(actions)
        plain_observations, *_ = plain.step(actions)
        assert (env.replica_count == scaled_counts(before, env.last, layout.r_max)).all()
        moved |= bool((env.replica_count != before).any())
    assert moved and (env.replica_count > 1).any()  # peak load adds replicas


def test_a_replica_beyond_the_count_is_refused():
    env = MetaverseDagEnv({**SHORT, "autoscaler": True})
    observations, _ = env.reset(seed=0)
    actions = act(RandomFromMaskPolicy(0), observations)
    slot = int(np.flatnonzero((env.layout.slot_rep == 1) & env.slot_valid)[0])
    actions["ec_0"] = actions["ec_0"].copy()
    actions["ec_0"][slot] = env.options.ec_option
    with pytest.raises(MaskedActionError):
        env.step(actions)


# --- rewards -----------------------------------------------------------------------------------
def expected_potential(env: MetaverseDagEnv) -> np.ndarray:
    out, violations = env.last, env.last_metrics.region_violations
    phi = np.zeros(env.net.num_regions)
    for k in range(env.net.num_regions):
        running = out.rho[k][out.started[k]]
        excess = np.maximum(running - 0.7, 0).mean() if running.size else 0.0
        phi[k] = -(excess + violations[k])
    return phi


def test_potential_shaping_adds_gamma_phi_next_minus_phi():
    gamma = 0.9
    shaped, plain = (
        MetaverseDagEnv({**PEAK, "potential_shaping": on, "shaping_gamma": gamma}) for on in (True, False)
    )
    shaped_obs, _ = shaped.reset(seed=2)
    plain_obs, _ = plain.reset(seed=2)
    policy = RandomFromMaskPolicy(3)
    phi = np.zeros(shaped.net.num_regions)  # Phi of the initial state (no load)
    for _ in range(shaped.cfg.horizon):
        actions = act(policy, shaped_obs)
        shaped_obs, shaped_rewards, *_ = shaped.step(actions)
        plain_obs, plain_rewards, *_ = plain.step(actions)
        phi_next = expected_potential(shaped)
        np.testing.assert_allclose(
            np.array(list(shaped_rewards.values())) - list(plain_rewards.values()), gamma * phi_next - phi
        )
        assert (phi_next <= 0).all()
        phi = phi_next


def test_local_reward_scope_drops_the_global_term():
    env, plain = MetaverseDagEnv({**SHORT, "reward_scope": "local"}), MetaverseDagEnv(SHORT)
    observations, _ = env.reset(seed=0)
    plain.reset(seed=0)
    actions = act(RandomFromMaskPolicy(0), observations)
    _, rewards, *_ = env.step(actions)
    _, plain_rewards, *_ = plain.step(actions)
    m = env.last_metrics
    np.testing.assert_allclose(list(rewards.values()), m.r_l + m.r_pen)
    np.testing.assert_allclose(list(plain_rewards.values()), 0.5 * m.r_g + 0.5 * m.r_l + m.r_pen)
    np.testing.assert_array_equal(m.utility, plain.last_metrics.utility)  # the KPIs stay Eq. 20's


# --- neighbour_regions ---------------------------------------------------------------------------
def nearest_two(env: MetaverseDagEnv) -> list[list[int]]:
    k = env.net.num_regions
    rows = []
    for a in range(k):
        delays = {b: env.net.delay_matrix_s[env.net.ec(a), env.net.ec(b)] for b in range(k) if b != a}
        rows.append(sorted(delays, key=lambda b: (delays[b], b))[:2])
    return rows


@pytest.mark.parametrize("regions", [4, 2])
def test_neighbour_regions_are_the_previous_region_vectors_of_the_two_nearest_ecs(regions):
    env = MetaverseDagEnv({**SHORT, "regions": regions})
    observations, _ = env.reset(seed=0)
    agents = env.possible_agents
    assert all(not observations[a][MvObsKey.NEIGHBOUR_REGIONS].any() for a in agents)  # before a step
    assert all(env.observation_spaces[a].contains(observations[a]) for a in agents)
    nearest, policy = nearest_two(env), RandomFromMaskPolicy(0)
    for _ in range(env.cfg.horizon):
        previous = observations
        observations, *_ = env.step(act(policy, observations))
        for k, agent in enumerate(agents):
            rows = observations[agent][MvObsKey.NEIGHBOUR_REGIONS]
            assert rows.shape == (2, 19) and rows.dtype == np.float32
            for row, neighbour in enumerate(nearest[k]):
                np.testing.assert_array_equal(rows[row], previous[agents[neighbour]][MvObsKey.REGION])
            assert not rows[len(nearest[k]) :].any()  # K = 2: one other EC, the second row zeros
            assert rows.any()


# --- defaults and errors -------------------------------------------------------------------------
def test_the_defaults_are_the_plain_env():
    cfg = MetaverseDagConfig()
    assert (cfg.autoscaler, cfg.potential_shaping, cfg.reward_scope) == (False, False, "global")
    explicit = {**SHORT, "autoscaler": False, "potential_shaping": False, "reward_scope": "global"}
    default_steps, explicit_steps = rollout(SHORT), rollout(explicit)
    for (obs, rewards), (obs_explicit, rewards_explicit) in zip(default_steps, explicit_steps, strict=True):
        assert rewards == rewards_explicit
        for agent in obs:
            assert all(
                np.array_equal(np.asarray(obs[agent][key]), np.asarray(obs_explicit[agent][key]))
                for key in obs[agent]
                if key != MvObsKey.ACTION_MASK
            )


@pytest.mark.parametrize(
    ("options", "field"),
    [
        ({"autoscaler": "yes"}, "autoscaler"),
        ({"potential_shaping": 1}, "potential_shaping"),
        ({"shaping_gamma": 0.0}, "shaping_gamma"),
        ({"reward_scope": "team"}, "reward_scope"),
        ({"reward_scope": "local", "planner": "heuristic"}, "reward_scope"),
    ],
)
def test_bad_options_name_their_field(options, field):
    with pytest.raises(ValueError, match=field):
        MetaverseDagConfig.from_env_config(options)
