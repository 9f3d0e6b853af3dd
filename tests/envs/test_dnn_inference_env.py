"""The dnn-inference scenario: service tables, request draws, routes, the slot admission (hand-computed
cases and a check against a plain sequential loop), the env contract, determinism and KPIs."""

from __future__ import annotations

import numpy as np
import pytest

from edgeplace.algos.baselines.stacking import stack_observations
from edgeplace.envs.action_masks import concatenated
from edgeplace.envs.base import ALL_AGENTS, EPISODE_INDEX_OPTION, KPI_INFO_KEY, MaskedActionError
from edgeplace.envs.dnn_inference import (
    AgentKPI,
    DnnInferenceConfig,
    DnnInferenceEnv,
    DnnInferenceParams,
    DnnKPI,
    DnnObsKey,
    ServerNetwork,
    SlotRequests,
    StepInfo,
    admit_slot,
    agent_ids,
    agent_kpi,
    global_state,
    load_server_network,
)
from edgeplace.envs.dnn_inference.kpis import EpisodeKPIs
from edgeplace.envs.dnn_inference.network import least_delay_paths
from edgeplace.envs.dnn_inference.state import ObservationLayout, agent_service
from edgeplace.scenarios import get_scenario
from edgeplace.topology import load_topology
from edgeplace.topology.generators import GEO_BW_MBPS, GEO_COMPUTE_TFLOPS
from edgeplace.workloads.dnn_inference import SERVICE_TABLES, RequestDistribution, Service, draw_episode
from tests.conftest import genai_edge_dir

PSI_MEM = 0.016 / 1024


# --- service tables and request draws -----------------------------------------------------------
def test_accuracy_tables_follow_the_calibration_formulas_and_standardise_to_unit_range():
    r = np.repeat([1.0, 0.75, 0.5, 0.25], 4)[:, None]
    x = np.tile(np.arange(4), 4)
    od_top, g, k = (
        np.array([0.374, 0.357, 0.420, 0.398]),
        np.array([1, 0.85, 0.70, 0.55]),
        np.array([0.33, 0.45, 0.57, 0.673]),
    )
    od = od_top * g[x][:, None] * (1 - k[x][:, None] * (1 - r))
    mot_top, a, b = (
        np.array([0.85, 0.714, 0.75]),
        np.array([0, 0.005, 0.015, 0.06]),
        np.array([0, 0.03, 0.06, 0.1]),
    )
    mot = mot_top * (1 - a[np.arange(16) // 4][:, None] - b[x][:, None])
    np.testing.assert_allclose(SERVICE_TABLES.accuracy[Service.OD], od, atol=6e-4)
    np.testing.assert_allclose(SERVICE_TABLES.accuracy[Service.MOT, :, :3], mot, atol=6e-4)
    for service in Service:
        std = SERVICE_TABLES.accuracy_std[service][SERVICE_TABLES.model_valid[service][None, :].repeat(16, 0)]
        assert std.min() == 0.0 and std.max() == 1.0
    assert SERVICE_TABLES.accuracy_std[Service.OD, 0, 0] == pytest.approx((0.374 - 0.097) / (0.420 - 0.097))
    assert not SERVICE_TABLES.model_valid[Service.MOT, 3] and np.isnan(
        SERVICE_TABLES.model_tflop[Service.MOT, 3]
    )


def test_data_and_work_factors():
    eta, work = SERVICE_TABLES.data_factor, SERVICE_TABLES.work_factor
    assert eta[Service.OD, 0] == eta[Service.MOT, 0] == 1.0
    assert eta[Service.OD, 5] == pytest.approx(0.75**2 * 0.45)  # r = .75, q90
    assert eta[Service.MOT, 15] == pytest.approx(0.25**2 * 5 / 30)  # r = .25, 5 fps
    np.testing.assert_array_equal(work[Service.OD], 1.0)
    np.testing.assert_array_equal(work[Service.MOT, :4], [30, 15, 10, 5])
    assert (np.diff(eta.reshape(2, 4, 4), axis=2) < 0).all()  # x degrades: less data at each resolution


def test_episode_draws_are_seeded_and_in_range():
    services = np.array([Service.OD] * 3 + [Service.MOT] * 3)
    a = draw_episode(np.random.default_rng(4), services, 50, 7)
    b = draw_episode(np.random.default_rng(4), services, 50, 7)
    c = draw_episode(np.random.default_rng(5), services, 50, 7)
    for name in vars(a):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name))
    assert not np.array_equal(a.data_mb, c.data_mb)
    dist = RequestDistribution()
    assert a.local.shape == (50, 6) and a.local.min() >= 0 and a.local.max() < 7
    assert ((a.data_mb[:, :3] >= 1) & (a.data_mb[:, :3] <= 10)).all()
    assert ((a.data_mb[:, 3:] >= 5) & (a.data_mb[:, 3:] <= 20)).all()
    assert set(np.unique(a.deadline_s[:, :3])) == set(dist.od_deadlines_s)
    assert set(np.unique(a.deadline_s[:, 3:])) == set(dist.mot_deadlines_s)
    assert a.background_tflop.shape == (50, 7) and 0.1 <= a.background_tflop.min() <= 0.3
    assert a.background_memory_mb.min() >= 100 and a.background_memory_mb.max() <= 900


def test_nearest_local_server_is_the_nearest():
    xy = np.array([[0.0, 0.0], [10.0, 0.0], [0.0, 10.0], [10.0, 10.0]])
    draws = draw_episode(np.random.default_rng(0), np.array([0, 1]), 400, 4, server_xy_km=xy)
    assert np.bincount(draws.local.ravel(), minlength=4).min() > 100  # quadrants of the bounding box


# --- server network -----------------------------------------------------------------------------
def tiny_network(**overrides) -> ServerNetwork:
    """Two servers: A (1 TFLOP/s, 500 MB, uplink 80 Mbit/s) -- 100 Mbit/s -- B (0.5 TFLOP/s, 600 MB, 40)."""
    values = {"compute": [1.0, 0.5], "memory": [500.0, 600.0], "uplink": [80.0, 40.0]} | overrides
    return ServerNetwork.from_arrays(
        values["compute"], values["memory"], values["uplink"], [[0], [1]], [100.0]
    )


def test_least_delay_path_prefers_fast_links_over_few_hops():
    # 0-2 direct at 50 Mbit/s (0.02 s/Mbit) loses to 0-1-2 at 200 + 400 (0.0075 s/Mbit); 1-3 at 100.
    bw = np.zeros((4, 4))
    for (i, j), w in {(0, 2): 50.0, (0, 1): 200.0, (1, 2): 400.0, (1, 3): 100.0}.items():
        bw[i, j] = bw[j, i] = w
    s_per_mbit, hops = least_delay_paths(bw)
    assert s_per_mbit[0, 2] == pytest.approx(1 / 200 + 1 / 400) and hops[0, 2] == 2
    assert s_per_mbit[2, 3] == pytest.approx(1 / 400 + 1 / 100) and hops[2, 3] == 2
    assert s_per_mbit[3, 0] == pytest.approx(1 / 100 + 1 / 200) and hops[3, 0] == 2
    np.testing.assert_array_equal(np.diag(hops), 0)
    np.testing.assert_array_equal(hops, hops.T)


def test_default_topology_uses_the_generators_attributes():
    net = load_server_network(DnnInferenceConfig().topology)
    assert net.num_servers == 16 and net.edge_index.shape == (2, 34)
    assert [(net.compute_tflops == v).sum() for v in (1.33, 1.26, 0.5)] == [7, 4, 5]
    assert [(net.memory_mb == v * 1024).sum() for v in (4, 2, 1)] == [7, 6, 3]
    assert set(net.uplink_mbps) <= {36.0, 48.0, 64.0, 72.0}
    assert set(net.link_bw_mbps) <= set(GEO_BW_MBPS)
    assert net.path_hops.max() <= 15 and net.positions_km is not None


def test_other_substrates_get_server_attributes_drawn_from_the_attribute_seed():
    uri = "waxman:nodes=12,seed=3"
    a, b = load_server_network(uri, 0), load_server_network(uri, 1)
    assert set(a.compute_tflops) <= set(GEO_COMPUTE_TFLOPS) and set(a.memory_mb) <= {1024.0, 2048.0, 4096.0}
    assert set(a.uplink_mbps) <= {36.0, 48.0, 64.0, 72.0}
    np.testing.assert_array_equal(a.edge_index, b.edge_index)
    assert not np.array_equal(a.compute_tflops, b.compute_tflops) or not np.array_equal(
        a.memory_mb, b.memory_mb
    )
    # links keep the topology's bandwidth (MB/s -> Mbit/s), whatever the seed
    np.testing.assert_array_equal(a.link_bw_mbps, load_topology(uri).bandwidth_mb_s * 8.0)
    np.testing.assert_array_equal(a.link_bw_mbps, b.link_bw_mbps)


def test_env_on_a_genai_edge_topology_pads_observations():
    env = DnnInferenceEnv({"topology": f"genai-edge:{genai_edge_dir(1)}"})  # 25 servers -> P = 32
    obs, _ = env.reset(seed=0)
    assert obs["od_0"][DnnObsKey.REQUEST].shape == (34,) and obs["od_0"][DnnObsKey.LINKS].shape == (496,)
    assert env.action_spaces["od_0"].nvec.tolist() == [16, 4, 25]
    assert [part.shape for part in obs["od_0"][DnnObsKey.ACTION_MASK]] == [(16,), (4,), (25,)]
    structural = env.observer.structural_masks[env.possible_agents.index("mot_0")]  # (16 + 4 + 32,)
    assert structural[20:45].all() and not structural[45:].any()


# --- admission ----------------------------------------------------------------------------------
def slot(deadlines=(2.0, 2.0, 5.0, 25.0), **overrides) -> SlotRequests:
    """od_0, od_1, mot_0, mot_1 with 4, 4, 10, 10 MB; local servers 0, 1, 1, 1; background on A, B."""
    values = {
        "service": np.array([0, 0, 1, 1]),
        "local": np.array([0, 1, 1, 1]),
        "data_mb": np.array([4.0, 4.0, 10.0, 10.0]),
        "deadline_s": np.asarray(deadlines, dtype=float),
        "background_tflop": np.array([0.2, 0.1]),
        "background_memory_mb": np.array([300.0, 100.0]),
    } | overrides
    return SlotRequests(**values)


# od_0 and od_1: config 0, R-50-FPN on A (shared); mot_0: config 15, ByteTrack on B; mot_1: SORT on B.
ACTIONS = np.array([[0, 0, 0], [0, 0, 0], [15, 0, 1], [15, 1, 1]])


def test_admission_queues_shares_instances_and_rejects_on_memory():
    out = admit_slot(tiny_network(), DnnInferenceParams(), slot(), ACTIONS)
    np.testing.assert_array_equal(out.accepted, [True, True, True, False])
    # od_0: 32 Mbit / 80 + (0.1747 + 0.2) / 1.  od_1: 32/40 + 32/100 + (0.1747 + 0.2 + 0.1747) / 1.
    # mot_0: D = 10 * 0.0625 * 5/30 MB, work 5 x 0.3959 on B: 8 D / 40 + (1.9795 + 0.1) / 0.5.
    # mot_1: memory 100 + 378.02 + 2 D + 157.93 > 600 -> rejected, its delay still charged.
    d = 10 * 0.0625 * 5 / 30
    expected_delay = [0.4 + 0.3747, 0.8 + 0.32 + 0.5494, 8 * d / 40 + 2.0795 / 0.5, 8 * d / 40 + 2.8035 / 0.5]
    np.testing.assert_allclose(out.delay_s, expected_delay)
    np.testing.assert_array_equal(out.new_instance, [True, False, True, False])
    np.testing.assert_allclose(out.accuracy, [0.277 / 0.323, 0.277 / 0.323, 0.114 / 0.25, -100.0])
    np.testing.assert_array_equal(out.hops, [0, 1, 0, 0])
    # routing 0.002 $/Mbit/hop; compute 0.0003 $/s; data and instance memory psi_mem per MB
    expected_cost = [
        0.0003 * 0.1747 + PSI_MEM * 4,
        0.002 * 32 + 0.0003 * 0.1747 + PSI_MEM * 4,
        0.0003 * 1.9795 / 0.5 + PSI_MEM * d,
        0.0,
    ]
    np.testing.assert_allclose(out.request_cost, expected_cost)
    np.testing.assert_allclose(out.memory_cost_share, PSI_MEM * np.array([159.48 / 2, 159.48 / 2, 378.02, 0]))
    assert out.r_acc == pytest.approx(2 * 0.277 / 0.323 + 0.456 - 100)
    assert out.r_delay == pytest.approx(-sum(expected_delay))
    assert out.r_cost == pytest.approx(-(sum(expected_cost) + PSI_MEM * (159.48 + 378.02)))
    assert out.reward == pytest.approx(out.r_acc + out.r_delay + out.r_cost)


def test_shared_instance_counts_its_memory_once():
    # A holds 500 MB: 300 background + 2 x 4 MB data + 159.48 fits; a second copy of the model would not.
    out = admit_slot(tiny_network(), DnnInferenceParams(), slot(), ACTIONS)
    assert out.accepted[:2].all()
    other_model = ACTIONS.copy()
    other_model[1, 1] = 3  # R-101-FPN (232.13 MB) is a second instance on A: 463.48 + 4 + 232.13 > 500
    out = admit_slot(tiny_network(), DnnInferenceParams(), slot(), other_model)
    np.testing.assert_array_equal(out.accepted[:2], [True, False])


def test_deadline_rejection_uses_no_resources():
    # od_1 misses 1.5 s (1.6694 s). mot_0 then runs SORT on A behind od_0 only: 0.8333 Mbit / 80 +
    # (0.724 + 0.3747) / 1 = 1.1091 s <= 1.2 s; with od_1 queued it would be 1.2838 s.
    actions = np.array([[0, 0, 0], [0, 0, 0], [15, 1, 0], [15, 1, 1]])
    requests = slot(deadlines=(2.0, 1.5, 1.2, 25.0), local=np.array([0, 1, 0, 1]))
    out = admit_slot(tiny_network(memory=[1000.0, 600.0]), DnnInferenceParams(), requests, actions)
    np.testing.assert_array_equal(out.accepted, [True, False, True, True])
    assert out.delay_s[1] == pytest.approx(1.6694)
    assert out.delay_s[2] == pytest.approx(8 * 10 * 0.0625 * 5 / 30 / 80 + 0.724 + 0.3747)
    assert out.request_cost[1] == 0.0 and out.memory_cost_share[1] == 0.0 and out.accuracy[1] == -100.0


def test_episode_kpis_of_a_hand_computed_slot():
    out = admit_slot(tiny_network(), DnnInferenceParams(), slot(), ACTIONS)
    kpis = EpisodeKPIs(agent_ids(2))
    kpis.record(out)
    kpis.record(out)
    summary = kpis.summary()
    acc_od, acc_mot = 0.277 / 0.323, 0.114 / 0.25
    assert summary[DnnKPI.REWARD] == pytest.approx(2 * out.reward)
    assert summary[DnnKPI.FAILURE_RATE] == pytest.approx(0.25)
    assert summary[DnnKPI.ACCEPTED_ACCURACY] == pytest.approx((2 * acc_od + acc_mot) / 3)
    assert summary[DnnKPI.SHARING_RATIO] == pytest.approx(1 / 3)  # 3 accepted, 2 instances per slot
    assert summary[DnnKPI.COST_PER_SLOT] == pytest.approx(-out.r_cost)
    assert summary[DnnKPI.DELAY_PER_REQUEST_S] == pytest.approx(out.delay_s.mean())
    assert summary[DnnKPI.JAIN_ACCURACY_OD] == 1.0
    assert summary[DnnKPI.JAIN_ACCURACY_MOT] == pytest.approx(0.5)  # served accuracy (x, 0)
    assert summary[agent_kpi("mot_1", AgentKPI.ACCURACY)] == -100.0
    assert summary[agent_kpi("mot_1", AgentKPI.FAILURE_RATE)] == 1.0
    assert summary[agent_kpi("od_1", AgentKPI.COST)] == pytest.approx(
        0.002 * 32 + 0.0003 * 0.1747 + PSI_MEM * (4 + 159.48 / 2)
    )
    assert sum(summary[agent_kpi(a, AgentKPI.COST)] for a in agent_ids(2)) == pytest.approx(-out.r_cost)


def reference_admission(network, params, requests, actions):
    """Plain sequential loop over the requests (the spec's wording), for cross-checking."""
    queue = requests.background_tflop.astype(float).copy()
    used = requests.background_memory_mb.astype(float).copy()
    instances, accepted, delays = set(), [], []
    for u, (config, model, server) in enumerate(actions.tolist()):
        s, v = int(requests.service[u]), int(requests.local[u])
        data = SERVICE_TABLES.data_factor[s, config] * requests.data_mb[u]
        work = SERVICE_TABLES.model_tflop[s, model] * SERVICE_TABLES.work_factor[s, config]
        delay = (
            8 * data / network.uplink_mbps[v]
            + 8 * data * network.path_s_per_mbit[v, server]
            + (work + queue[server]) / network.compute_tflops[server]
        )
        new = (s, model, server) not in instances
        memory = data + (SERVICE_TABLES.model_memory_mb[s, model] if new else 0.0)
        ok = delay <= requests.deadline_s[u] and used[server] + memory <= network.memory_mb[server]
        if ok:
            queue[server] += work
            used[server] += memory
            instances.add((s, model, server))
        accepted.append(ok)
        delays.append(delay)
    return np.array(accepted), np.array(delays)


def test_vectorised_admission_equals_the_sequential_loop_on_random_slots():
    network = load_server_network(DnnInferenceConfig().topology)
    rng = np.random.default_rng(0)
    services = np.array([0] * 5 + [1] * 5)
    draws = draw_episode(rng, services, 300, network.num_servers)
    rejected = 0
    for t in range(300):
        requests = SlotRequests(
            services,
            draws.local[t],
            draws.data_mb[t],
            draws.deadline_s[t],
            draws.background_tflop[t],
            draws.background_memory_mb[t],
        )
        few_servers = rng.integers(0, 3, 10)  # crowd three servers so queues and memory bind
        actions = np.stack([rng.integers(0, 16, 10), rng.integers(0, 3, 10), few_servers], axis=1)
        out = admit_slot(network, DnnInferenceParams(), requests, actions)
        accepted, delays = reference_admission(network, DnnInferenceParams(), requests, actions)
        np.testing.assert_array_equal(out.accepted, accepted, err_msg=f"slot {t}")
        np.testing.assert_allclose(out.delay_s, delays, err_msg=f"slot {t}")
        rejected += (~accepted).sum()
    assert rejected > 100  # the check exercised rejections, not only the easy case


# --- the env ------------------------------------------------------------------------------------
def random_actions(env: DnnInferenceEnv, rng: np.random.Generator) -> dict[str, np.ndarray]:
    return {agent: rng.integers(0, env.action_spaces[agent].nvec) for agent in env.possible_agents}


def play(env: DnnInferenceEnv, seed: int, policy_seed: int = 0, options=None):
    rng = np.random.default_rng(policy_seed)
    obs, _ = env.reset(seed=seed, options=options)
    trace = [obs]
    while True:
        obs, rewards, terminated, truncated, infos = env.step(random_actions(env, rng))
        trace.append((obs, rewards, infos))
        assert not terminated[ALL_AGENTS]
        if truncated[ALL_AGENTS]:
            return trace, infos


def flat(trace) -> list:
    """Every array and number of a trace, flattened for equality checks."""
    out = []
    for obs in [trace[0]] + [step[0] for step in trace[1:]]:
        out += [concatenated(value).tolist() for agent_obs in obs.values() for value in agent_obs.values()]
    out += [sorted(step[1].items()) for step in trace[1:]]
    return out


def test_every_agent_acts_every_step_and_the_episode_truncates_with_kpis():
    env = DnnInferenceEnv({"horizon": 5})
    assert env.possible_agents == ["od_0", "od_1", "od_2", "od_3", "mot_0", "mot_1", "mot_2", "mot_3"]
    trace, infos = play(env, seed=1)
    assert len(trace) == 6
    for obs in [trace[0]] + [step[0] for step in trace[1:]]:
        assert list(obs) == env.possible_agents
        assert all(env.observation_spaces[a].contains(o) for a, o in obs.items())
    kpis = infos["od_0"][KPI_INFO_KEY]
    assert all(infos[agent][KPI_INFO_KEY] is kpis for agent in env.possible_agents)
    assert set(DnnKPI) <= set(kpis) and agent_kpi("mot_3", AgentKPI.COST) in kpis
    rewards = [step[1]["od_0"] for step in trace[1:]]
    assert kpis[DnnKPI.REWARD] == pytest.approx(sum(rewards))
    for _, step_rewards, step_infos in trace[1:]:
        parts = step_infos["mot_2"]
        assert set(step_rewards.values()) == {step_rewards["od_0"]}  # the team reward
        assert step_rewards["od_0"] == pytest.approx(
            parts[StepInfo.R_ACC] + parts[StepInfo.R_DELAY] + parts[StepInfo.R_COST]
        )
    accepted = np.array([[step[2][a][StepInfo.ACCEPTED] for a in env.possible_agents] for step in trace[1:]])
    assert kpis[DnnKPI.FAILURE_RATE] == pytest.approx(1 - accepted.mean())
    assert kpis[DnnKPI.R_ACC] + kpis[DnnKPI.R_DELAY] + kpis[DnnKPI.R_COST] == pytest.approx(
        kpis[DnnKPI.REWARD]
    )
    with pytest.raises(RuntimeError, match="reset"):
        env.step(random_actions(env, np.random.default_rng(0)))


def test_same_seed_same_episode_other_seed_differs_and_episode_index_replays():
    env = DnnInferenceEnv({"horizon": 4})
    first, _ = play(env, seed=11)
    again, _ = play(DnnInferenceEnv({"horizon": 4}), seed=11)
    assert flat(first) == flat(again)
    other, _ = play(env, seed=12)
    assert flat(first) != flat(other)
    env.reset(seed=11)
    second, _ = play(env, seed=None)  # the next episode of seed 11 ...
    alone, _ = play(DnnInferenceEnv({"horizon": 4}), seed=11, options={EPISODE_INDEX_OPTION: 1})
    assert flat(second) == flat(alone) != flat(first)  # ... replays alone from (11, episode 1)


def test_requests_do_not_depend_on_actions():
    env = DnnInferenceEnv({"horizon": 4})
    a, _ = play(env, seed=3, policy_seed=0)
    b, _ = play(env, seed=3, policy_seed=1)

    def observed(trace) -> list:
        return [
            concatenated(o).tolist()
            for step in trace[1:]
            for agent in step[0].values()
            for o in agent.values()
        ]

    assert observed(a) == observed(b) and flat(a) != flat(b)


def test_observation_encodes_the_slot_and_the_static_links():
    env = DnnInferenceEnv({"horizon": 3, "agents_per_service": 5})
    obs, _ = env.reset(seed=0)
    requests = env.slot_requests(0)
    layout = env.layout
    local, deadline, data = layout.decode_requests(
        np.stack([obs[a][DnnObsKey.REQUEST] for a in env.possible_agents])
    )
    np.testing.assert_array_equal(local, requests.local)
    np.testing.assert_allclose(deadline, requests.deadline_s, rtol=1e-6)
    np.testing.assert_allclose(data, requests.data_mb, rtol=1e-6)
    h_sys, h_mem = layout.decode_background(obs["mot_4"][DnnObsKey.SERVERS])
    np.testing.assert_allclose(h_sys, requests.background_tflop, rtol=1e-6)
    np.testing.assert_allclose(h_mem, requests.background_memory_mb, rtol=1e-6)
    links = obs["od_0"][DnnObsKey.LINKS]
    assert (links > 0).sum() == 34 and links.max() <= 1.0
    i, j = env.network.edge_index[:, 0]
    k = np.flatnonzero((np.triu_indices(16, 1)[0] == i) & (np.triu_indices(16, 1)[1] == j))[0]
    assert links[k] == pytest.approx(env.network.link_bw_mbps[0] / 400)
    for agent, sizes in (("od_0", (16, 4, 16)), ("mot_0", (16, 3, 16))):  # Gymnasium's layout, all allowed
        mask = obs[agent][DnnObsKey.ACTION_MASK]
        assert isinstance(mask, tuple) and env.observation_spaces[agent].contains(obs[agent])
        for part, size in zip(mask, sizes, strict=True):
            assert part.dtype == np.int8
            np.testing.assert_array_equal(part, np.ones(size))
    np.testing.assert_array_equal(env.layout.structural_mask(agent_service("mot_0"))[16:20], [1, 1, 1, 0])


def test_static_server_features_option():
    env = DnnInferenceEnv({"horizon": 2, "static_server_features": True, "max_nodes": 20})
    obs, _ = env.reset(seed=0)
    servers = obs["od_0"][DnnObsKey.SERVERS]
    assert servers.shape == (100,)
    np.testing.assert_allclose(servers[40:56], env.network.compute_tflops / 1.33, rtol=1e-6)
    np.testing.assert_allclose(servers[60:76], env.network.memory_mb / 4096, rtol=1e-6)
    np.testing.assert_allclose(servers[80:96], env.network.uplink_mbps / 72, rtol=1e-6)
    assert not servers[16:20].any() and not servers[96:].any()


@pytest.mark.parametrize(("per_service", "dim"), [(4, 312), (5, 352)])
def test_global_state_layout(per_service, dim):
    env = DnnInferenceEnv({"horizon": 2, "agents_per_service": per_service})
    obs, _ = env.reset(seed=0)
    agents = env.possible_agents
    state = global_state(obs, agents)
    assert state.shape == (dim,) == (env.layout.global_state_dim(len(agents)),)
    np.testing.assert_array_equal(state[:18], obs["od_0"][DnnObsKey.REQUEST])
    np.testing.assert_array_equal(state[18:20], [1, 0])
    mot0 = per_service * 20
    np.testing.assert_array_equal(state[mot0 + 18 : mot0 + 20], [0, 1])
    np.testing.assert_array_equal(state[-152:-120], obs["od_0"][DnnObsKey.SERVERS])
    batched = {a: stack_observations([o, o]) for a, o in obs.items()}
    np.testing.assert_array_equal(global_state(batched, agents), np.stack([state, state]))


def test_bad_actions_raise_and_leave_the_slot_unplayed():
    env = DnnInferenceEnv({"horizon": 3})
    env.reset(seed=0)
    good = {agent: np.zeros(3, np.int64) for agent in env.possible_agents}
    with pytest.raises(MaskedActionError, match="mot_0: model 3 outside"):
        env.step(good | {"mot_0": np.array([0, 3, 0])})
    with pytest.raises(ValueError, match="od_2: server 16 outside"):
        env.step(good | {"od_2": np.array([0, 0, 16])})
    with pytest.raises(ValueError, match="missing \\['od_1'\\]"):
        env.step({a: v for a, v in good.items() if a != "od_1"})
    with pytest.raises(ValueError, match="od_0: expected 3 integers"):
        env.step(good | {"od_0": np.array([0, 0])})
    with pytest.raises(ValueError, match="od_3: expected 3 integers"):
        env.step(good | {"od_3": np.array([0.5, 0, 0])})
    assert env.t == 0
    env.step(good)
    assert env.t == 1


def test_config_rejects_unknown_keys_by_name_and_round_trips():
    with pytest.raises(ValueError, match="unknown keys \\['horizn'\\]"):
        DnnInferenceEnv({"horizn": 10})
    with pytest.raises(ValueError, match="unknown keys \\['psi'\\]"):
        DnnInferenceConfig.from_env_config({"params": {"psi": 1.0}})
    with pytest.raises(ValueError, match="local_server"):
        DnnInferenceConfig(local_server="closest")
    with pytest.raises(ValueError, match="agents_per_service"):
        DnnInferenceConfig(agents_per_service=0)
    cfg = DnnInferenceConfig(agents_per_service=5, params=DnnInferenceParams(memory_price_per_mb=0.016))
    assert DnnInferenceConfig.from_env_config(cfg.to_env_config()) == cfg


def test_nearest_local_server_needs_coordinates():
    env = DnnInferenceEnv({"horizon": 2, "local_server": "nearest"})
    env.reset(seed=0)
    with pytest.raises(ValueError, match="coordinates"):
        DnnInferenceEnv({"local_server": "nearest"}, network=tiny_network())


def test_env_on_a_hand_built_network_and_registry_entry():
    env = DnnInferenceEnv({"horizon": 2, "agents_per_service": 1}, network=tiny_network())
    obs, _ = env.reset(seed=0)
    assert list(obs) == list(agent_ids(1)) and obs["od_0"][DnnObsKey.REQUEST].shape == (18,)
    assert env.action_spaces["mot_0"].nvec.tolist() == [16, 3, 2]
    scenario = get_scenario("dnn-inference")
    assert isinstance(scenario.make_env({"horizon": 2}), DnnInferenceEnv)
    assert set(scenario.primary_kpis) <= set(scenario.kpis) == set(DnnKPI)


def test_layout_rejects_too_small_padding():
    with pytest.raises(ValueError, match="max_nodes"):
        ObservationLayout(16, 8)
    with pytest.raises(ValueError, match="max_nodes"):
        DnnInferenceEnv({"max_nodes": 8})
