import numpy as np
import pytest

from edgeplace.topology import (
    TopologyError,
    node_capacity_features,
    node_mask,
    pad_nodes,
    padded_adjacency,
    padded_edge_index,
)


def test_pad_nodes_keeps_values_and_dtype():
    values = np.arange(6, dtype=np.float32).reshape(3, 2)
    padded = pad_nodes(values, 5)
    assert padded.shape == (5, 2) and padded.dtype == np.float32
    np.testing.assert_array_equal(padded[:3], values)
    assert (padded[3:] == 0).all()
    np.testing.assert_array_equal(pad_nodes(np.array([1, 2]), 3), [1, 2, 0])


def test_too_many_nodes_is_a_clear_error():
    with pytest.raises(TopologyError, match="4 nodes do not fit into max_nodes=3"):
        pad_nodes(np.zeros(4), 3)
    with pytest.raises(TopologyError, match="max_nodes"):
        node_mask(4, 3)


def test_node_mask():
    mask = node_mask(2, 4)
    assert mask.dtype == np.float32
    np.testing.assert_array_equal(mask, [1, 1, 0, 0])


def test_padded_graph_structure(make_substrate):
    s = make_substrate([(0, 1), (1, 2), (0, 2)])
    adjacency = padded_adjacency(s, 5)
    assert adjacency.shape == (5, 5) and adjacency.dtype == np.float32
    np.testing.assert_array_equal(adjacency[:3, :3], s.adjacency.toarray())
    assert adjacency[3:].sum() == 0 and adjacency[:, 3:].sum() == 0
    edge_index, edge_mask = padded_edge_index(s, 4)
    np.testing.assert_array_equal(edge_index[:, :3], s.edge_index)
    np.testing.assert_array_equal(edge_mask, [1, 1, 1, 0])
    with pytest.raises(TopologyError, match="max_edges"):
        padded_edge_index(s, 2)


def test_capacity_features_are_column_normalised(make_substrate):
    s = make_substrate([(0, 1), (1, 2)], capacity=[[2.0, 0.0], [4.0, 0.0], [1.0, 0.0]])
    features = node_capacity_features(s)
    assert features.dtype == np.float32
    np.testing.assert_allclose(features, [[0.5, 0.0], [1.0, 0.0], [0.25, 0.0]])
