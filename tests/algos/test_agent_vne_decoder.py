"""agent-vne decoding on hand-built networks: the feasibility oracle, the greedy-BFS decoder, NodeRank
and GRC (papers/agentvne.md, sections e, f and g)."""

from __future__ import annotations

import numpy as np
import pytest

from edgeplace.algos.agentvne.grc import grc_rank
from edgeplace.algos.agentvne.noderank import incident_sum, node_resource, noderank
from edgeplace.envs.agent_vne.decoder import (
    GreedyBFSDecoder,
    ListMode,
    bfs_order,
    lead_agent,
    priority_ranks,
    ranks_from_lists,
)
from edgeplace.envs.agent_vne.feasibility import FeasibilityOracle, check_mapping
from edgeplace.envs.agent_vne.request import NO_TARGET, VirtualRequest, allowed_hosts
from edgeplace.envs.agent_vne.static import StaticNetwork
from edgeplace.topology import Substrate


def line_network(
    nodes: int, capacity: float = 2.0, bw_mbps: float | list[float] = 10.0, tee=()
) -> StaticNetwork:
    """Nodes 0 - 1 - ... - (n-1); link e joins e and e + 1; every node has ``capacity`` of each resource."""
    tags = np.zeros(nodes, dtype=bool)
    tags[list(tee)] = True
    substrate = Substrate(
        name=f"line{nodes}",
        resource_names=("compute", "memory", "storage"),
        capacity=np.full((nodes, 3), capacity),
        edge_index=np.stack([np.arange(nodes - 1), np.arange(1, nodes)]),
        bandwidth_mb_s=np.broadcast_to(np.asarray(bw_mbps, dtype=float) / 8.0, (nodes - 1,)),
        delay_s=np.full(nodes - 1, 0.001),
        affinity={"tee": tags, "camera": np.zeros(nodes, dtype=bool)},
    )
    return StaticNetwork.build(substrate)


def make_request(
    static: StaticNetwork,
    demand: list[float],
    links: list[tuple[int, int]],
    bw_mbps: float | list[float] = 1.0,
    anchors: dict[int, int] | None = None,
    tee: tuple[int, ...] = (),
) -> VirtualRequest:
    """Agents with demand d on every resource; ``anchors`` maps an anchor agent to its target node."""
    v = len(demand)
    target = np.full(v, NO_TARGET, dtype=np.int64)
    for agent, node in (anchors or {}).items():
        target[agent] = node
    affinity = np.zeros((v, len(static.attribute_names)), dtype=bool)
    affinity[list(tee), static.attribute_names.index("tee")] = True
    links_array = np.array(links, dtype=np.int64).reshape(-1, 2)
    return VirtualRequest(
        request_id="r",
        demand=np.repeat(np.asarray(demand, dtype=float)[:, None], 3, axis=1),
        affinity=affinity,
        allowed=allowed_hosts(affinity, target, static),
        is_anchor=target != NO_TARGET,
        anchor_target=target,
        links=links_array,
        bw_mbps=np.broadcast_to(np.asarray(bw_mbps, dtype=float), (links_array.shape[0],)).copy(),
        data_mb=np.zeros(links_array.shape[0]),
    )


def free_state(static: StaticNetwork) -> tuple[np.ndarray, np.ndarray]:
    return static.capacity.copy(), static.bandwidth_mbps.copy()


# --- feasibility oracle ----------------------------------------------------------------------------
def test_path_edge_table_lists_route_links():
    static = line_network(4)
    assert sorted(static.path_edges[0, 3].tolist()) == [0, 1, 2]
    assert static.path_edges[2, 1].tolist() == [1, -1, -1]
    assert (static.path_edges[1, 1] == -1).all()
    assert static.diameter == 3


def test_oracle_adds_up_two_routes_that_share_a_link():
    # agents 0 and 1 sit on node 0 and both send 6 Mbit/s to agent 2; links carry 10 Mbit/s.
    static = line_network(3, capacity=3.0, bw_mbps=10.0)
    request = make_request(static, [1, 1, 1], [(0, 2), (1, 2)], bw_mbps=6.0)
    oracle = FeasibilityOracle(static, request, *free_state(static))
    oracle.place(0, 0)
    oracle.place(1, 0)
    # alone each route fits (6 <= 10), together they need 12 on link (0, 1): only co-location is feasible
    assert oracle.candidates(2).tolist() == [True, False, False]
    oracle.place(2, 0)
    np.testing.assert_array_equal(oracle.node_free[0], [0.0, 0.0, 0.0])


def test_oracle_checks_capacity_after_tentative_allocations_and_affinity():
    static = line_network(3, capacity=2.0, tee=(2,))
    request = make_request(static, [1.5, 1.0, 0.5], [(0, 1), (1, 2)], tee=(2,))
    oracle = FeasibilityOracle(static, request, *free_state(static))
    assert oracle.candidates(2).tolist() == [False, False, True]  # tee only on node 2
    oracle.place(0, 1)
    assert oracle.candidates(1).tolist() == [True, False, True]  # 2 - 1.5 < 1 on node 1


def test_check_mapping_names_each_violation():
    static = line_network(3, capacity=2.0, bw_mbps=10.0, tee=(2,))
    node_free, link_free = free_state(static)
    request = make_request(static, [1, 1, 0], [(0, 1), (2, 1)], bw_mbps=4.0, anchors={2: 2})
    assert check_mapping(static, request, np.array([0, 2, 2]), node_free, link_free) is None
    assert "unassigned" in check_mapping(static, request, np.array([0, 3, 2]), node_free, link_free)
    assert "anchor 2" in check_mapping(static, request, np.array([0, 2, 1]), node_free, link_free)
    heavy = make_request(static, [1.5, 1, 0], [(0, 1), (2, 1)], anchors={2: 2})
    assert "node 0" in check_mapping(static, heavy, np.array([0, 0, 2]), node_free, link_free)
    # Eq.13: 8 + 4 > 10 on link (1, 2) once 8 Mbit/s of other flows use it
    busy = link_free - np.array([0.0, 8.0])
    assert "link 1" in check_mapping(static, request, np.array([0, 2, 2]), node_free, busy)


# --- the greedy-BFS decoder ------------------------------------------------------------------------
def test_decoder_co_locates_then_takes_the_nearest_ring():
    # line 0-1-2-3, room for two unit agents per node; chain a0 - a1 - a2; the lead is a1 (degree 2)
    static = line_network(4, capacity=2.0)
    request = make_request(static, [1, 1, 1], [(0, 1), (1, 2)])
    assert lead_agent(request, static.ref_capacity) == 1
    lists = np.array([[1, 0, 2, 3], [1, 0, 2, 3], [3, 2, 0, 1]])  # a2 likes node 3 best (2 hops away)
    hosts = GreedyBFSDecoder(static).decode(request, ranks_from_lists(lists, 4), *free_state(static))
    # a1 -> node 1 (head of its list); a0 co-located on node 1; node 1 is then full, so a2 takes the
    # first node of its list in the 1-hop ring {0, 2}: node 2 (node 3 is 2 hops away)
    assert hosts.tolist() == [1, 1, 2]


def test_decoder_pins_anchors_and_restarts_the_lead_after_a_failure():
    # a0 (lead, demand 2) -> a1 (8 Mbit/s) and anchor a2 -> a1 pinned to node 2; link (0, 1) has 5 Mbit/s
    static = line_network(3, capacity=2.5, bw_mbps=[5.0, 10.0])
    request = make_request(static, [2, 1, 0], [(0, 1), (2, 1)], bw_mbps=[8.0, 1.0], anchors={2: 2})
    ranks = ranks_from_lists(np.array([[0, 2, 1], [1, 0, 2], [2, -1, -1]]), 3)
    node_free, link_free = free_state(static)
    before = (node_free.copy(), link_free.copy())
    # attempt 1: a0 on node 0; a1 cannot co-locate (2.5 - 2 < 1) and every other host needs 8 Mbit/s on
    # link (0, 1) (5 free) -> roll back; attempt 2: a0 on node 2 (next in its list); a1 cannot co-locate,
    # so it takes the 1-hop ring: node 1 (8 + 1 <= 10 on link (1, 2)).
    hosts = GreedyBFSDecoder(static).decode(request, ranks, node_free, link_free)
    assert hosts.tolist() == [2, 1, 2]
    assert GreedyBFSDecoder(static, restarts=0).decode(request, ranks, node_free, link_free) is None
    np.testing.assert_array_equal(node_free, before[0])  # the inputs are never touched
    np.testing.assert_array_equal(link_free, before[1])


def test_decoder_rejects_when_nothing_fits_and_rollback_restores_the_oracle():
    static = line_network(2, capacity=1.0)
    request = make_request(static, [1, 1, 1], [(0, 1), (1, 2)])
    node_free, link_free = free_state(static)
    ranks = priority_ranks(np.ones((3, 2)), np.ones((3, 2)))
    assert GreedyBFSDecoder(static).decode(request, ranks, node_free, link_free) is None
    oracle = FeasibilityOracle(static, request, node_free, link_free)
    oracle.place(0, 0)
    oracle.place(1, 1)
    oracle.reset()
    np.testing.assert_array_equal(oracle.node_free, node_free)
    np.testing.assert_array_equal(oracle.link_free, link_free)
    assert (oracle.hosts == -1).all()


def test_bfs_order_and_lead_ties():
    static = line_network(3, capacity=4.0)
    # star around a2 plus an isolated, bigger a4
    request = make_request(static, [1, 1, 1, 1, 1.5], [(2, 0), (1, 2), (2, 3)])
    assert lead_agent(request, static.ref_capacity) == 4  # largest demand first
    # a4 has no neighbour; the next search starts at the largest remaining demand, ties -> lower id: a0
    assert bfs_order(request, static.ref_capacity) == [4, 0, 2, 1, 3]
    star = make_request(static, [1, 1, 1, 1], [(2, 0), (1, 2), (2, 3)])
    assert lead_agent(star, static.ref_capacity) == 2  # equal demand: the higher degree leads


def test_priority_ranks_sort_and_sample():
    scores = np.array([[0.1, 0.5, 0.5, 0.9]])
    mask = np.array([[1, 1, 1, 0]])
    np.testing.assert_array_equal(priority_ranks(scores, mask), [[2.0, 0.0, 1.0, np.inf]])
    sampled = priority_ranks(scores, mask, ListMode.SAMPLE, np.random.default_rng(0))
    assert np.isinf(sampled[0, 3]) and sorted(sampled[0, :3].tolist()) == [0.0, 1.0, 2.0]
    again = priority_ranks(scores, mask, ListMode.SAMPLE, np.random.default_rng(0))
    np.testing.assert_array_equal(sampled, again)
    with pytest.raises(ValueError, match="rng"):
        priority_ranks(scores, mask, "sample")


# --- NodeRank and GRC ------------------------------------------------------------------------------
def test_noderank_on_a_three_node_star_by_hand():
    # centre 0, leaves 1 and 2; cpu free (2, 1, 1); both links have 10 Mbit/s free
    edge_index = np.array([[0, 0], [1, 2]])
    incident = incident_sum(edge_index, np.array([10.0, 10.0]), 3)[0]
    np.testing.assert_array_equal(incident, [20.0, 10.0, 10.0])
    h = node_resource(np.array([2.0, 1.0, 1.0]), incident)  # Eq.20: (40, 10, 10)
    adjacency = np.array([[0, 1, 1], [1, 0, 0], [1, 0, 0]])
    # NR0 = (2/3, 1/6, 1/6); p_01 = p_02 = 1/2, p_10 = p_20 = 1.
    # t=1: (2/3 + 0.2 (1/6 + 1/6), 1/6 + 0.2 * 1/2 * 2/3, same) = (22, 7, 7) / 30 -> L1 (22, 7, 7) / 36
    # t=2: (22 + 0.2 * 14, 7 + 0.2 * 1/2 * 22, same) / 36 = (24.8, 9.2, 9.2) / 36 -> Eq.24 cubes
    expected = np.array([24.8, 9.2, 9.2]) ** 3
    np.testing.assert_allclose(noderank(h, adjacency), expected / expected.sum())
    # a bias on leaf 1 (b = 0.4, ref_cpu = 2: +0.8 cpu) lifts it above leaf 2
    biased = noderank(
        node_resource(np.array([2.0, 1.0, 1.0]), incident, np.array([0.0, 0.8, 0.0])), adjacency
    )
    assert biased[1] > biased[2]
    batch = noderank(np.stack([h, h]), adjacency)
    np.testing.assert_allclose(batch[1], expected / expected.sum())


def test_grc_is_the_fixed_point_of_its_recursion():
    bandwidth = np.array([[0, 10, 10], [10, 0, 0], [10, 0, 0]], dtype=float)
    cpu = np.array([2.0, 1.0, 1.0])
    rank = grc_rank(cpu, bandwidth)
    m = bandwidth / bandwidth.sum(axis=0, keepdims=True)
    np.testing.assert_allclose(rank, 0.15 * cpu / cpu.sum() + 0.85 * m @ rank, atol=1e-5)
    assert rank[0] > rank[1] == pytest.approx(rank[2])
