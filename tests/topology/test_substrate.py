import copy
import dataclasses
import pickle

import numpy as np
import pytest

from edgeplace.topology import Resource, Substrate, TopologyError


def test_fields_are_normalised_copied_and_frozen(make_substrate):
    capacity = [[1, 2], [3, 4], [5, 6]]
    bandwidth = np.array([10.0, 20.0])
    s = make_substrate([(0, 1), (1, 2)], capacity=capacity, bandwidth_mb_s=bandwidth, tier=[0, 1, 2])
    bandwidth[0] = 99.0
    assert s.bandwidth_mb_s[0] == 10.0
    assert s.capacity.dtype == np.float64 and s.edge_index.dtype == np.int64 and s.tier.dtype == np.int64
    np.testing.assert_array_equal(s.node_ids, [0, 1, 2])
    for array in (s.capacity, s.edge_index, s.bandwidth_mb_s, s.delay_s, s.node_ids, s.tier, s.degree):
        assert not array.flags.writeable
    assert (s.num_nodes, s.num_edges, s.num_resources) == (3, 2, 2)
    np.testing.assert_array_equal(s.degree, [1, 2, 1])


def test_adjacency_is_symmetric_zero_one(make_substrate):
    s = make_substrate([(0, 1), (1, 2), (0, 2), (2, 3)])
    dense = s.adjacency.toarray()
    np.testing.assert_array_equal(dense, dense.T)
    assert set(np.unique(dense)) == {0.0, 1.0}
    assert dense.sum() == 2 * s.num_edges


def test_resource_index(make_substrate):
    s = make_substrate([(0, 1)])
    assert s.resource_index("memory") == 1
    assert s.resource_index(Resource.COMPUTE) == 0
    with pytest.raises(TopologyError, match="unknown resource 'gpu'"):
        s.resource_index("gpu")


def test_single_node_without_links():
    s = Substrate("one", ("compute",), [[1.0]], np.zeros((2, 0), np.int64), [], [])
    assert s.num_edges == 0
    np.testing.assert_array_equal(s.paths.hops, [[0]])


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"capacity": np.ones((4, 3))}, "capacity", "does not match"),
        ({"capacity": -np.ones((4, 2))}, "capacity", ">= 0"),
        ({"bandwidth_mb_s": [10.0, 0.0, 1.0]}, "bandwidth_mb_s", "> 0"),
        ({"bandwidth_mb_s": [10.0, np.nan, 1.0]}, "bandwidth_mb_s", "NaN"),
        ({"delay_s": [1.0, 1.0]}, "delay_s", "shape"),
        ({"edge_index": [[1, 1, 2], [0, 2, 3]]}, "edge_index", "src < dst"),
        ({"edge_index": [[0, 1, 1], [1, 2, 2]]}, "edge_index", "duplicate link"),
        ({"edge_index": [[0, 1, 2], [1, 2, 4]]}, "edge_index", "out of range"),
        ({"edge_index": [[0.0, 1.0, 2.0], [1.0, 2.0, 3.0]]}, "edge_index", "integers"),
        ({"node_ids": [5, 6, 5, 7]}, "node_ids", "duplicate node id 5"),
        ({"coords": [[0, 0], [0, 0], [0, 0], [200, 0]]}, "coords", "longitude"),
        ({"affinity": {"tee": [0, 2, 0, 0]}}, "affinity['tee']", "booleans"),
        ({"resource_names": ("compute", "compute")}, "resource_names", "unique"),
    ],
)
def test_bad_fields_name_the_field(make_substrate, overrides, field, message):
    with pytest.raises(TopologyError, match=message) as info:
        make_substrate([(0, 1), (1, 2), (2, 3)], **overrides)
    assert info.value.field == field
    assert info.value.source == "substrate 'test'"


def test_disconnected_graph_names_components_and_a_node(make_substrate):
    with pytest.raises(TopologyError) as info:
        make_substrate([(0, 1), (2, 3), (3, 4)], node_ids=[10, 11, 12, 13, 14])
    text = str(info.value)
    assert "substrate 'test'" in text and "sizes [3, 2]" in text and "node id 12" in text


def test_pickle_and_replace_revalidate_and_drop_caches(make_substrate):
    s = make_substrate(
        [(0, 1), (1, 2)], affinity={"tee": [True, False, False]}, node_features={"x": [1, 2, 3]}
    )
    _ = s.paths
    for copied in (pickle.loads(pickle.dumps(s)), copy.deepcopy(s)):
        assert "paths" not in copied.__dict__
        np.testing.assert_array_equal(copied.capacity, s.capacity)
        np.testing.assert_array_equal(copied.affinity["tee"], s.affinity["tee"])
        assert not copied.capacity.flags.writeable
    scaled = dataclasses.replace(s, capacity=s.capacity * 2)
    np.testing.assert_array_equal(scaled.capacity, 2 * s.capacity)
    with pytest.raises(TopologyError):
        dataclasses.replace(s, capacity=-s.capacity)


def test_to_networkx_round_trips_links(make_substrate):
    s = make_substrate([(0, 1), (1, 2)], coords=[[1, 2], [3, 4], [5, 6]], tier=[0, 1, 1])
    g = s.to_networkx()
    assert g.number_of_nodes() == 3 and g.number_of_edges() == 2
    assert g.edges[1, 2]["edge_id"] == 1 and g.edges[1, 2]["bandwidth_mb_s"] == 10.0
    assert g.nodes[2]["coords"] == (5.0, 6.0) and g.nodes[0]["capacity"] == {"compute": 4.0, "memory": 8.0}


def test_error_format_and_pickle():
    err = TopologyError(
        "not a number: 'abc'", source="server1_information.csv", row=7, field="ComputationCapacity"
    )
    assert str(err) == "server1_information.csv, row 7, field 'ComputationCapacity': not a number: 'abc'"
    assert str(TopologyError("plain")) == "plain"
    copied = pickle.loads(pickle.dumps(err))
    assert (copied.source, copied.row, copied.field, str(copied)) == (err.source, 7, err.field, str(err))
    assert isinstance(err, ValueError)
