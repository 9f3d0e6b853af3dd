import numpy as np
import pytest

from edgeplace.topology import (
    TopologyError,
    geo_radius,
    load_topology,
    parse_topology_uri,
    synthetic_genai,
    waxman,
)


@pytest.mark.parametrize(
    ("uri", "expected"),
    [
        (
            "waxman:nodes=20",
            ("waxman", {"nodes": 20, "alpha": 0.5, "beta": 0.2, "side_km": 100.0, "seed": 0}),
        ),
        (
            "geo-radius:nodes=16, radius_km=0.5,seed=3",
            ("geo-radius", {"nodes": 16, "radius_km": 0.5, "side_km": 1.5, "seed": 3}),
        ),
        (
            "cell-cluster:towers=200,servers=10",
            ("cell-cluster", {"towers": 200, "servers": 10, "radius_km": 10.0, "seed": 0}),
        ),
        ("synthetic:genai-large", ("synthetic", {"size": "genai-large", "seed": 0})),
        ("synthetic:genai-small,seed=4", ("synthetic", {"size": "genai-small", "seed": 4})),
        ("gml:a/b.gml", ("gml", {"path": "a/b.gml", "seed": 0, "largest_component": False})),
        (
            "gml:b.gml?largest_component=yes,seed=2",
            ("gml", {"path": "b.gml", "seed": 2, "largest_component": True}),
        ),
        ("genai-edge:data/Server1", ("genai-edge", {"path": "data/Server1"})),
        ("genai-edge:S1", ("genai-edge", {"path": "S1"})),
    ],
)
def test_parse(uri, expected):
    assert parse_topology_uri(uri) == expected


@pytest.mark.parametrize(
    ("uri", "field", "message"),
    [
        ("nonsense", None, "expected 'scheme:...'"),
        ("torus:nodes=3", None, "unknown scheme 'torus'"),
        ("waxman:nodes=3,gamma=1", "gamma", "unknown parameter"),
        ("waxman:alpha=0.3", "nodes", "missing required parameter"),
        ("waxman:nodes=ten", "nodes", "expected int, got 'ten'"),
        ("waxman:nodes=3.5", "nodes", "expected int"),
        ("waxman:nodes=3,beta=inf", "beta", "finite"),
        ("waxman:nodes=3,nodes=4", "nodes", "given twice"),
        ("waxman:nodes", "nodes", "expected 'name=value'"),
        ("gml:x.gml?largest_component=maybe", "largest_component", "expected bool"),
        ("gml:", "path", "missing path"),
        ("synthetic:,seed=1", "size", "missing size"),
    ],
)
def test_parse_errors_name_uri_and_parameter(uri, field, message):
    with pytest.raises(TopologyError, match=message) as info:
        parse_topology_uri(uri)
    assert (info.value.source, info.value.field) == (uri, field)


def test_load_matches_direct_calls():
    for uri, direct in [
        ("waxman:nodes=15,seed=2", waxman(15, seed=2)),
        ("geo-radius:nodes=16,radius_km=0.5", geo_radius(16, 0.5)),
        ("synthetic:genai-small,seed=1", synthetic_genai("genai-small", seed=1)),
    ]:
        loaded = load_topology(uri)
        np.testing.assert_array_equal(loaded.edge_index, direct.edge_index)
        np.testing.assert_array_equal(loaded.capacity, direct.capacity)


def test_generator_errors_are_reported_against_the_uri():
    with pytest.raises(TopologyError) as info:
        load_topology("waxman:nodes=0")
    assert (info.value.source, info.value.field) == ("waxman:nodes=0", "nodes")
    with pytest.raises(TopologyError, match="unknown size") as info:
        load_topology("synthetic:genai-xl")
    assert info.value.source == "synthetic:genai-xl"


def test_relative_paths_and_largest_component(tmp_path, monkeypatch):
    body = "".join(f"  node [ id {i} ]\n" for i in range(4)) + "  edge [ source 0 target 1 ]\n"
    body += "  edge [ source 1 target 2 ]\n"
    (tmp_path / "split.gml").write_text(f"graph [\n{body}]\n")
    monkeypatch.chdir(tmp_path)
    with pytest.raises(TopologyError, match="disconnected") as info:
        load_topology("gml:split.gml")
    assert info.value.source == "split.gml"
    with pytest.warns(UserWarning):
        assert load_topology("gml:split.gml?largest_component=true").num_nodes == 3


def test_data_set_uris(genai_edge_root):
    assert load_topology(f"genai-edge:{genai_edge_root / 'Server1'}").num_nodes == 25
    assert load_topology("genai-edge:S1").num_nodes == 25


def test_topology_zoo_uri(topologies_dir):
    assert load_topology(f"gml:{topologies_dir / 'Geant.gml'}").num_edges == 61


def test_absolute_topology_uri_pins_relative_file_paths_only(tmp_path, monkeypatch):
    from edgeplace.topology.uri import absolute_topology_uri

    monkeypatch.chdir(tmp_path)
    assert absolute_topology_uri("gml:zoo/Abilene.gml?seed=3") == f"gml:{tmp_path}/zoo/Abilene.gml?seed=3"
    assert absolute_topology_uri("genai-edge:data/Server1") == f"genai-edge:{tmp_path}/data/Server1"
    assert absolute_topology_uri("genai-edge:/abs/Server1") == "genai-edge:/abs/Server1"
    assert absolute_topology_uri("genai-edge:./S1") == f"genai-edge:{tmp_path}/S1"
    for uri in ("waxman:nodes=20", "synthetic:genai-small", "bogus", "genai-edge:S1", "genai-edge:S9"):
        assert absolute_topology_uri(uri) == uri
