import itertools

import networkx as nx
import numpy as np
import pytest

from edgeplace.topology import Substrate, TopologyError


@pytest.fixture(scope="module")
def random_substrate() -> Substrate:
    """A connected random graph with ties among min-hop paths and distinct link values."""
    rng = np.random.default_rng(7)
    graph = nx.connected_watts_strogatz_graph(30, 4, 0.3, seed=7)
    edges = np.array(sorted((min(u, v), max(u, v)) for u, v in graph.edges)).T
    return Substrate(
        name="random",
        resource_names=("compute",),
        capacity=np.ones((30, 1)),
        edge_index=edges,
        bandwidth_mb_s=rng.uniform(1, 100, edges.shape[1]),
        delay_s=rng.uniform(1e-4, 1e-2, edges.shape[1]),
    )


def _link_values(s: Substrate, nodes: np.ndarray) -> tuple[float, float]:
    edges = s.paths.edge_id[nodes[:-1], nodes[1:]]
    return float(s.delay_s[edges].sum()), float(s.bandwidth_mb_s[edges].min(initial=np.inf))


def test_matches_networkx_min_hop_with_delay_tie_break(random_substrate):
    s = random_substrate
    g = s.to_networkx()
    paths = s.paths
    hop_lengths = dict(nx.all_pairs_shortest_path_length(g))
    for src, dst in itertools.product(range(s.num_nodes), repeat=2):
        nodes = paths.path(src, dst)
        assert paths.hops[src, dst] == hop_lengths[src][dst] == nodes.size - 1
        assert nodes[0] == src and nodes[-1] == dst
        assert all(g.has_edge(u, v) for u, v in zip(nodes[:-1], nodes[1:], strict=True))
        delay, bottleneck = _link_values(s, nodes)
        assert paths.delay_s[src, dst] == pytest.approx(delay, abs=1e-15)
        assert paths.bottleneck_bw_mb_s[src, dst] == bottleneck
        if src != dst:
            best = min(_link_values(s, np.array(p))[0] for p in nx.all_shortest_paths(g, src, dst))
            assert paths.delay_s[src, dst] <= best + 1e-12
            assert paths.next_hop[src, dst] == nodes[1]
            assert paths.predecessor[src, dst] == nodes[-2]
            edges = paths.path_edges(src, dst)
            np.testing.assert_array_equal(
                np.sort(s.edge_index[:, edges], axis=0), np.sort([nodes[:-1], nodes[1:]], axis=0)
            )


def test_diagonal_and_edge_lookup(random_substrate):
    paths = random_substrate.paths
    assert (np.diag(paths.hops) == 0).all() and (np.diag(paths.delay_s) == 0).all()
    assert np.isinf(np.diag(paths.bottleneck_bw_mb_s)).all()
    assert (np.diag(paths.predecessor) == -1).all() and (np.diag(paths.next_hop) == -1).all()
    src, dst = random_substrate.edge_index
    np.testing.assert_array_equal(paths.edge_id[src, dst], np.arange(random_substrate.num_edges))
    np.testing.assert_array_equal(paths.edge_id, paths.edge_id.T)
    assert paths.path_edges(3, 3).size == 0
    np.testing.assert_array_equal(paths.path(3, 3), [3])
    assert not paths.hops.flags.writeable and random_substrate.paths is paths


def test_fewer_hops_beat_lower_delay(make_substrate):
    # 0-1-3 has two slow links; 0-2-4-3 has three fast ones: min-hop wins.
    s = make_substrate([(0, 1), (0, 2), (1, 3), (2, 4), (3, 4)], delay_s=[1.0, 1e-3, 1.0, 1e-3, 1e-3])
    np.testing.assert_array_equal(s.paths.path(0, 3), [0, 1, 3])
    assert s.paths.delay_s[0, 3] == 2.0


def test_out_of_range_node(make_substrate):
    with pytest.raises(TopologyError, match="out of range"):
        make_substrate([(0, 1)]).paths.path(0, 2)
