"""The fluid latency model against hand-computed tiny cases (papers/llm-mappo.md, section b, "Latency")."""

from __future__ import annotations

import numpy as np
import pytest

from edgeplace.envs.metaverse_dag import MetaverseDagConfig, load_network
from edgeplace.envs.metaverse_dag.fluid import (
    CAPPED_SOJOURN_S,
    RHO_CAP,
    Deployment,
    critical_path,
    effective_shares,
    evaluate,
    longest_paths,
    ram_started,
)
from edgeplace.envs.metaverse_dag.layout import SlotLayout
from edgeplace.workloads.metaverse_dag import DagTemplates, RequestSample, mean_work_minstr

LAYOUT = SlotLayout.of((2, 2, 2), 2)
CHAIN = DagTemplates(
    num_ms=np.array([2, 1, 1]),
    parents=np.zeros((3, 2, 2), bool)
    | (np.arange(3)[:, None, None] == 0) & np.array([[False, False], [True, False]]),
    work_share=np.array([[0.5, 0.5], [1.0, 0.0], [1.0, 0.0]]),
    payload_fraction=np.array([[[0.0, 0.02], [0.0, 0.0]], np.zeros((2, 2)), np.zeros((2, 2))]),
    cpu=np.ones((3, 2)),
    ram_gb=np.ones((3, 2)),
    stateful=np.zeros((3, 2), bool),
    deadline_s=np.array([0.02, 0.03, 0.015]),
    p_min=np.array([0.99, 0.995, 0.99]),
)
"""XR is a 2-microservice chain 0 -> 1 (payload fraction .02); 1 vCPU and 1 GB per replica."""


@pytest.fixture(scope="module")
def net():
    return load_network(MetaverseDagConfig(topology="waxman:nodes=4,seed=0", regions=1))


def run(net, hosts: tuple[int, int], rate: float, payload_mb: float = 1.0, work: float = 100.0):
    """The chain with replica 0 of ms 0 and 1 on ``hosts``, XR rate ``rate``, one request from ES 0."""
    node = np.full((1, 3, 2, 2), -1)
    node[0, 0, 0, 0], node[0, 0, 1, 0] = hosts
    src, dst, valid = LAYOUT.edges(CHAIN)
    deployment = Deployment(
        node,
        np.zeros(node.shape, bool),
        np.zeros((1, LAYOUT.num_edges), np.int64),
        LAYOUT.edge_class,
        src,
        dst,
        valid,
    )
    requests = RequestSample(
        np.array([0]), np.array([0]), np.array([0]), np.array([payload_mb]), np.array([work])
    )
    class_rate = np.array([[rate, 0.0, 0.0]])
    return evaluate(
        net,
        LAYOUT,
        CHAIN,
        deployment,
        class_rate,
        np.ones(net.num_nodes, bool),
        requests,
        np.random.default_rng(0),
    )


def test_colocated_chain_is_two_mm1_sojourns_plus_access(net):
    v = net.gips_per_vcpu[0] * 1e3  # M instr / s of one vCPU
    rate = 100.0
    out = run(net, (0, 0), rate)
    rho = rate * 0.5 * mean_work_minstr()[0] / v
    assert out.rho[0, 0, 0, 0] == pytest.approx(rho)
    service = 0.5 * 100.0 / v
    expected = net.radio_latency_s[0] + 2 * service / (1 - rho)
    assert out.latency_s[0] == pytest.approx(expected)
    assert out.success_prob[0] == pytest.approx((1 - net.p_fail[0]) ** 2)
    assert out.link_load_mbps.sum() == 0.0  # co-located: no transfer


def test_rho_over_the_cap_gives_20_s_and_drops(net):
    v = net.gips_per_vcpu[0] * 1e3
    rate = 3 * v / (0.5 * mean_work_minstr()[0])  # rho = 3
    out = run(net, (0, 0), rate)
    assert out.rho[0, 0, 0, 0] == pytest.approx(3.0)
    assert out.latency_s[0] == pytest.approx(net.radio_latency_s[0] + 2 * CAPPED_SOJOURN_S)
    assert out.success_prob[0] == pytest.approx(((1 - net.p_fail[0]) * RHO_CAP / 3.0) ** 2)
    assert out.violated[0]


def test_a_transfer_crosses_the_rank_1_path(net):
    a, b = 0, net.ec(0)
    out = run(net, (a, b), 1e-6, payload_mb=2.0)
    links = net.routes.links[a, b, 0]
    links = links[links >= 0]
    transfer = (8 * 0.02 * 2.0 / net.slice_bw_mbps[links, 0]).sum() + net.delay_s[links].sum()
    v_a, v_b = net.gips_per_vcpu[a] * 1e3, net.gips_per_vcpu[b] * 1e3
    expected = net.radio_latency_s[a] + 50.0 / v_a + transfer + 50.0 / v_b
    assert out.latency_s[0] == pytest.approx(expected, rel=1e-6)


def test_longest_path_and_its_critical_path():
    parents = np.zeros((1, 4, 4), bool)  # diamond 0 -> {1, 2} -> 3
    parents[0, 1, 0] = parents[0, 2, 0] = parents[0, 3, 1] = parents[0, 3, 2] = True
    node_s = np.array([[1.0, 5.0, 2.0, 1.0]])
    edge_s = np.zeros((1, 4, 4))
    edge_s[0, 0, 2], edge_s[0, 2, 3] = 4.0, 0.5
    finish, critical = longest_paths(parents, node_s, edge_s)
    np.testing.assert_allclose(finish, [[1.0, 6.0, 7.0, 8.5]])  # 0 -(4)-> 2 -(.5)-> 3 beats 0 -> 1 -> 3
    np.testing.assert_array_equal(critical_path(critical, np.array([3])), [[True, False, True, True]])


def test_ram_over_commit_stops_the_highest_slot_first():
    node = np.array([0, 0, 0]).reshape(1, 1, 1, 3)
    ram = np.array([1.0, 2.0, 0.5]).reshape(1, 1, 1, 3)
    started = ram_started(node, ram, np.array([3.0]), np.ones(node.shape, bool))
    assert started.ravel().tolist() == [True, True, False]


def test_split_fallback_goes_to_the_best_admissible_rank_then_via_the_ec():
    half = np.array([0.5, 0.5, 0.0])
    np.testing.assert_allclose(effective_shares(half, np.array([True, False, True])), [1.0, 0.0, 0.0, 0.0])
    np.testing.assert_allclose(effective_shares(half, np.array([False, True, True])), [0.0, 1.0, 0.0, 0.0])
    np.testing.assert_allclose(effective_shares(half, np.zeros(3, bool)), [0.0, 0.0, 0.0, 1.0])
