"""The agent-vne scenario: workflows and arrivals, the network state (Eq.12, 13, 26), KPIs, the env's
spaces, re-validation, clock and determinism (papers/agentvne.md, sections b and f)."""

from __future__ import annotations

import numpy as np
import pytest

from edgeplace.algos.baselines import make_baseline
from edgeplace.envs.agent_vne import (
    AGENT_ID,
    VNEKPI,
    AgentVNEConfig,
    AgentVNEEnv,
    StepInfo,
    VNEObsKey,
    request_from_observation,
)
from edgeplace.envs.agent_vne.feasibility import check_mapping
from edgeplace.envs.agent_vne.kpis import VNEKPIs
from edgeplace.envs.agent_vne.network_state import NetworkState
from edgeplace.envs.base import ALL_AGENTS, EPISODE_INDEX_OPTION, KPI_INFO_KEY
from edgeplace.planners.rule_based import RuleBasedParser
from edgeplace.policy import act
from edgeplace.scenarios import get_scenario
from edgeplace.topology import load_topology
from edgeplace.workloads.agentic_workflows import (
    WORKFLOW_TEMPLATES,
    Arrival,
    ArrivalProcess,
    SubstrateSummary,
    WorkflowGenerator,
    WorkflowType,
    build_request,
)
from tests.algos.test_agent_vne_decoder import line_network, make_request

SMALL = {"arrivals_per_episode": 30}


def play(env: AgentVNEEnv, policy, seed: int, options=None):
    """One episode; returns the (reward, info) trace and the final step's outputs."""
    obs, _ = env.reset(seed=seed, options=options)
    trace = []
    while True:
        obs, rewards, terminated, truncated, infos = env.step(act(policy, obs))
        trace.append((rewards[AGENT_ID], infos[AGENT_ID][StepInfo.ACCEPTED], infos[AGENT_ID][StepInfo.TIME]))
        if truncated[ALL_AGENTS] or terminated[ALL_AGENTS]:
            return trace, (obs, terminated, truncated, infos)


# --- workflows and arrivals ------------------------------------------------------------------------
def test_rule_parser_finds_the_affinity_written_in_each_workflow_type():
    substrate = load_topology("waxman:nodes=20,seed=42")
    summary = SubstrateSummary.of(substrate, substrate.capacity)
    expected = {
        WorkflowType.TEXT_SEARCH: {},
        WorkflowType.TEXT_SEARCH_PAY: {4: ("tee",)},
        WorkflowType.IMAGE_PROC: {},
        WorkflowType.TRAFFIC_MONITOR: {1: ("camera",)},
    }
    for kind, template in WORKFLOW_TEMPLATES.items():
        request = build_request(template, "r")
        found = {
            c.agent_id: c.required_attributes for c in RuleBasedParser().parse(request, summary).constraints
        }
        assert found == expected[kind], kind
        truth = {a.id: a.affinity for a in request.agents if a.affinity}
        assert found == truth


def test_generator_is_seeded_and_draws_sources_from_attribute_holders():
    substrate = load_topology("waxman:nodes=20,seed=42")
    generator = WorkflowGenerator(substrate.affinity)
    first = [generator.sample(np.random.default_rng(5), str(k)) for k in range(1)]
    again = [generator.sample(np.random.default_rng(5), str(k)) for k in range(1)]
    np.testing.assert_array_equal(first[0].demand, again[0].demand)
    rng = np.random.default_rng(0)
    for k in range(60):
        request = generator.sample(rng, str(k))
        base = np.array([a.demand for a in WORKFLOW_TEMPLATES[WorkflowType(request.workflow_type)].agents])
        ratio = request.demand / base
        assert ((ratio >= 0.9) & (ratio <= 1.1)).all()
        tag = WORKFLOW_TEMPLATES[WorkflowType(request.workflow_type)].source_attribute
        if tag is None:
            assert request.data_source_node is None
        else:
            assert substrate.affinity[tag][request.data_source_node]


def test_arrivals_are_poisson_per_step_and_depart_at_the_first_step_after_their_lifetime():
    generator = WorkflowGenerator({"tee": np.array([True]), "camera": np.array([True])})
    process = ArrivalProcess(generator, 0.5, 30.0, np.random.default_rng(1), "e-")
    arrivals = [process.next_arrival() for _ in range(200)]
    times = [a.time for a in arrivals]
    assert times == sorted(times) and [a.request.request_id for a in arrivals[:2]] == ["e-0", "e-1"]
    assert 0.35 < len(arrivals) / (times[-1] + 1) < 0.65  # lambda = 0.5 per step
    request = arrivals[0].request
    assert Arrival(4, 2.2, request).departure == 7  # first step >= 6.2
    assert Arrival(4, 3.0, request).departure == 7
    assert Arrival(4, 0.1, request).departure == 5  # never in its own step
    with pytest.raises(ValueError, match="rate"):
        ArrivalProcess(generator, 0.0, 30.0, np.random.default_rng(0))


# --- network state: Eq.12, Eq.13, Eq.26 and departures ------------------------------------------
def test_equal_sharing_and_eq13_rejection_on_a_three_node_line():
    static = line_network(3, capacity=4.0, bw_mbps=10.0)
    state = NetworkState(static)
    request = make_request(static, [1, 1], [(0, 1)], bw_mbps=4.0)
    request.data_mb[:] = 1.0
    ends = np.array([0, 2])
    for key in (1, 2):
        assert check_mapping(static, request, ends, state.node_free, state.link_free_mbps) is None
        workflow = state.commit(key, request, ends, departure=10)
    np.testing.assert_array_equal(state.flow_count, [2, 2])
    np.testing.assert_allclose(state.equal_share_mbps(), [5.0, 5.0])  # Eq.12: 10 / 2
    np.testing.assert_allclose(state.link_free_mbps, [2.0, 2.0])
    # Eq.5: two route links, each 8 * 1 MB / 5 Mbit/s + 1 ms
    assert state.latency_s(workflow) == pytest.approx(2 * (1.6 + 0.001))
    # a third flow of 4 Mbit/s would need 12 > 10 on both links (Eq.13): rejected; co-location is fine
    assert "bandwidth" in check_mapping(static, request, ends, state.node_free, state.link_free_mbps)
    assert check_mapping(static, request, np.array([1, 1]), state.node_free, state.link_free_mbps) is None


def test_weighted_hops_by_hand_and_departures_release_exactly():
    static = line_network(3, capacity=4.0, bw_mbps=10.0)
    state = NetworkState(static)
    assert state.weighted_hops() == 0.0
    long = make_request(static, [1.5, 0.7], [(0, 1)], bw_mbps=3.0)  # routed 0 -> 2 over links 0, 1
    short = make_request(static, [0.3, 1.1], [(0, 1)], bw_mbps=2.5)  # routed 0 -> 1 over link 0
    state.commit(1, long, np.array([0, 2]), departure=5)
    only_long = (state.node_free.copy(), state.link_free_mbps.copy())
    state.commit(2, short, np.array([0, 1]), departure=3)
    # n_e = (2, 1) workflows, |F_e| = (2, 1) flows: H = (long: n_0 + n_1 = 3, short: n_0 = 2) / 2
    assert state.weighted_hops() == pytest.approx(2.5)
    assert state.weighted_hops() == pytest.approx(state.workflow_count @ state.flow_count / 2)
    assert state.depart_until(2) == 0
    assert state.depart_until(3) == 1
    np.testing.assert_array_equal(state.node_free, only_long[0])
    np.testing.assert_array_equal(state.link_free_mbps, only_long[1])
    np.testing.assert_array_equal(state.workflow_count, [1, 1])
    assert state.depart_until(9) == 1
    np.testing.assert_array_equal(state.node_free, static.capacity)  # exactly, no residue
    np.testing.assert_array_equal(state.link_free_mbps, static.bandwidth_mbps)
    assert state.ledger.num_outstanding == 0 and state.flow_count.sum() == 0


def test_kpis_are_taken_over_the_window_after_warmup():
    kpis = VNEKPIs(warmup_steps=1)
    for time, hops, live in [(0, 9.0, 1), (1, 9.0, 1), (2, 4.0, 2), (3, 0.0, 0), (4, 2.0, 1)]:
        kpis.record_step(time, hops, live, 0.5, 1.0)
    kpis.record_request(1, False, 0.1)
    kpis.record_request(2, True, 0.2, revenue=10.0, cost=8.0, latency_s=1.0)
    kpis.record_request(4, False, 0.3)
    summary = kpis.summary()
    assert summary[VNEKPI.WEIGHTED_HOPS] == pytest.approx(3.0)  # steps 2 and 4 (step 3 has no workflow)
    assert summary[VNEKPI.WEIGHTED_HOPS_STD] == pytest.approx(1.0)
    assert summary[VNEKPI.ACCEPTANCE_RATIO] == pytest.approx(0.5)
    assert summary[VNEKPI.REVENUE_COST_RATIO] == pytest.approx(1.25)
    assert summary[VNEKPI.SOLVE_TIME_S] == pytest.approx(0.25)
    assert summary[VNEKPI.LIVE_WORKFLOWS] == pytest.approx(1.0)


# --- the env -------------------------------------------------------------------------------------
def test_spaces_and_observation_round_trip():
    env = AgentVNEEnv(SMALL)
    obs, _ = env.reset(seed=3)
    assert list(obs) == [AGENT_ID]
    assert env.observation_spaces[AGENT_ID].contains(obs[AGENT_ID])
    assert env.action_spaces[AGENT_ID].nvec.tolist() == [21] * 8
    seen = set()
    for _ in range(12):
        o = obs[AGENT_ID]
        request = env.current[1].request
        back = request_from_observation(o, env.static)
        np.testing.assert_array_equal(back.demand, request.demand)
        np.testing.assert_array_equal(back.allowed, request.allowed)
        np.testing.assert_array_equal(back.anchor_target, request.anchor_target)
        assert sorted(map(tuple, back.links.tolist())) == sorted(map(tuple, request.links.tolist()))
        mask = o[VNEObsKey.HOST_MASK][: request.num_agents, :20] > 0
        for anchor in np.flatnonzero(request.is_anchor):
            assert np.flatnonzero(mask[anchor]).tolist() == [request.anchor_target[anchor]]
        seen.add((env.current[0].request.workflow_type, request.num_agents, int(request.is_anchor.sum())))
        obs, *_ = env.step({AGENT_ID: np.full(8, 20)})
    # Table III counts, anchors included: 6 / 7 / 5 / 6
    assert seen <= {
        ("text_search", 6, 0),
        ("text_search_pay", 7, 1),
        ("image_proc", 5, 0),
        ("traffic_monitor", 6, 1),
    }


def test_invalid_mappings_are_rejections_and_change_nothing():
    env = AgentVNEEnv(SMALL)
    obs, _ = env.reset(seed=0)
    request = env.current[1].request
    tiny = int(np.argmin(env.static.capacity[:, 0]))
    crowded = np.where(request.is_anchor, request.anchor_target, tiny)  # everything on the smallest node
    action = np.full(8, 20)
    action[: request.num_agents] = crowded
    _, rewards, _, _, infos = env.step({AGENT_ID: action})
    assert rewards[AGENT_ID] == -100.0
    assert not infos[AGENT_ID][StepInfo.ACCEPTED] and "node" in infos[AGENT_ID][StepInfo.REASON]
    assert not env.state.live and env.state.ledger.num_outstanding == 0
    np.testing.assert_array_equal(env.state.node_free, env.static.capacity)
    with pytest.raises(ValueError, match="embedder: sub-action"):
        env.step({AGENT_ID: np.full(8, 21)})
    with pytest.raises(ValueError, match="embedder"):
        env.step({"someone": np.full(8, 20)})


def test_accepted_mapping_commits_and_rewards_minus_weighted_hops():
    env = AgentVNEEnv(SMALL)
    obs, _ = env.reset(seed=4)
    request = env.current[1].request
    action = act(make_baseline("agent-vne", "greedy", env_config=SMALL), obs)[AGENT_ID]
    hosts = action[: request.num_agents]
    _, rewards, _, _, infos = env.step({AGENT_ID: action})
    assert infos[AGENT_ID][StepInfo.ACCEPTED]
    # the only live workflow: n_e = 1 on its links, so H = total route hops of its virtual links
    route_hops = env.static.hops[hosts[request.links[:, 0]], hosts[request.links[:, 1]]].sum()
    assert rewards[AGENT_ID] == pytest.approx(-route_hops)


def test_episode_ends_in_a_truncation_with_kpis_and_is_deterministic():
    env = AgentVNEEnv(SMALL)
    policy = make_baseline("agent-vne", "random", seed=1, env_config=SMALL)
    trace, (obs, terminated, truncated, infos) = play(env, policy, seed=11)
    assert len(trace) == 30
    assert truncated == {AGENT_ID: True, ALL_AGENTS: True} and terminated == {ALL_AGENTS: False}
    kpis = infos[AGENT_ID][KPI_INFO_KEY]
    assert set(kpis) == set(VNEKPI)
    window = [accepted for _, accepted, time in trace if time > 100]  # after the 100-step warm-up
    assert 0 < len(window) < 30
    assert kpis[VNEKPI.ARRIVALS] == len(window) and kpis[VNEKPI.ACCEPTED] == sum(window)
    assert env.observation_spaces[AGENT_ID].contains(obs[AGENT_ID])
    again, _ = play(
        AgentVNEEnv(SMALL), make_baseline("agent-vne", "random", seed=1, env_config=SMALL), seed=11
    )
    assert trace == again
    other, _ = play(env, make_baseline("agent-vne", "random", seed=1, env_config=SMALL), seed=12)
    assert trace != other


def test_episode_index_replays_one_episode_alone():
    env = AgentVNEEnv(SMALL)
    greedy = make_baseline("agent-vne", "greedy", env_config=SMALL)
    first, _ = play(env, greedy, seed=7, options={EPISODE_INDEX_OPTION: 2})
    play(env, greedy, seed=7, options={EPISODE_INDEX_OPTION: 3})
    again, _ = play(env, greedy, seed=7, options={EPISODE_INDEX_OPTION: 2})
    assert first == again
    other, _ = play(env, greedy, seed=8, options={EPISODE_INDEX_OPTION: 2})
    assert first != other


def test_horizon_ends_the_episode_with_the_last_arrival_inside_it():
    config = {"arrivals_per_episode": None, "horizon_steps": 40, "arrival_rate": 0.5}
    env = AgentVNEEnv(config)
    trace, (_, _, truncated, infos) = play(
        env, make_baseline("agent-vne", "greedy", env_config=config), seed=2
    )
    assert truncated[ALL_AGENTS]
    assert max(time for *_, time in trace) <= 40 and env.time == 41
    # the episode ends before the warm-up does: the KPIs cover all of it
    assert infos[AGENT_ID][KPI_INFO_KEY][VNEKPI.ARRIVALS] == len(trace)


def test_bandwidth_scale_scales_every_link_and_turns_spread_mappings_into_eq13_rejections():
    roomy, scarce = AgentVNEEnv(SMALL), AgentVNEEnv({**SMALL, "bandwidth_scale": 0.001})
    np.testing.assert_allclose(scarce.static.bandwidth_mbps, 0.001 * roomy.static.bandwidth_mbps)
    np.testing.assert_array_equal(scarce.static.capacity, roomy.static.capacity)
    obs, _ = roomy.reset(seed=4)
    scarce.reset(seed=4)
    request = roomy.current[1].request
    action = act(make_baseline("agent-vne", "greedy", env_config=SMALL), obs)[AGENT_ID]
    hosts = action[: request.num_agents]
    assert (hosts[request.links[:, 0]] != hosts[request.links[:, 1]]).any()  # some flow leaves its node
    free = (roomy.state.node_free, roomy.state.link_free_mbps)
    assert check_mapping(roomy.static, request, hosts, *free) is None
    _, rewards, _, _, infos = scarce.step({AGENT_ID: action})  # flows of >= 2 Mbit/s, links of <= 1
    assert rewards[AGENT_ID] == -100.0 and "bandwidth" in infos[AGENT_ID][StepInfo.REASON]
    np.testing.assert_array_equal(scarce.state.link_free_mbps, scarce.static.bandwidth_mbps)


def test_padded_nodes_are_never_hosts():
    config = {**SMALL, "max_nodes": 24, "max_edges": 40}
    env = AgentVNEEnv(config)
    obs, _ = env.reset(seed=1)
    assert env.action_spaces[AGENT_ID].nvec.tolist() == [25] * 8 and env.unassigned == 24
    assert obs[AGENT_ID][VNEObsKey.HOST_MASK][:, 20:].sum() == 0
    assert obs[AGENT_ID][VNEObsKey.SN_MASK].tolist() == [1.0] * 20 + [0.0] * 4
    _, rewards, _, _, infos = env.step({AGENT_ID: np.full(8, 22)})  # a padded node: a rejection
    assert rewards[AGENT_ID] == -100.0 and "padded" in infos[AGENT_ID][StepInfo.REASON]
    trace, _ = play(env, make_baseline("agent-vne", "noderank-bfs", env_config=config), seed=1)
    assert any(accepted for _, accepted, _ in trace)


def test_config_rejects_unknown_keys_and_bad_values():
    with pytest.raises(ValueError, match="unknown keys.*lamda"):
        AgentVNEConfig.from_env_config({"lamda": 0.2})
    with pytest.raises(ValueError, match="arrival_rate"):
        AgentVNEConfig(arrival_rate=-1.0)
    with pytest.raises(ValueError, match="bandwidth_scale"):
        AgentVNEConfig(bandwidth_scale=0.0)
    with pytest.raises(ValueError, match="arrivals_per_episode or horizon_steps"):
        AgentVNEConfig(arrivals_per_episode=None)
    config = AgentVNEConfig(arrival_rate=0.4, bias=0.0)
    assert AgentVNEConfig.from_env_config(config.to_env_config()) == config


def test_scenario_is_registered():
    scenario = get_scenario("agent-vne")
    assert VNEKPI.WEIGHTED_HOPS in scenario.primary_kpis
    assert isinstance(scenario.make_env(SMALL), AgentVNEEnv)
