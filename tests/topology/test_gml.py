import networkx as nx
import numpy as np
import pytest

from edgeplace.topology import TopologyError, load_gml
from edgeplace.topology.geo import FIBRE_SPEED_KM_S, haversine_km
from edgeplace.topology.gml import DEFAULT_BANDWIDTH_MB_S, DEFAULT_DELAY_S

NODES = """
  node [ id 0 Longitude 4.9 Latitude 52.4 ]
  node [ id 1 Longitude 4.3 Latitude 50.8 ]
  node [ id 5 ]
"""


def write(tmp_path, body: str, header: str = "") -> str:
    path = tmp_path / "net.gml"
    path.write_text(f"graph [\n{header}{body}]\n")
    return str(path)


def test_parallel_links_merge_and_missing_attributes_get_defaults(tmp_path):
    edges = """
  edge [ source 0 target 1 LinkSpeedRaw 1000000000 ]
  edge [ source 1 target 0 LinkSpeedRaw 1000000000 ]
  edge [ source 1 target 5 ]
  edge [ source 5 target 5 ]
"""
    for header in ("  multigraph 1\n", ""):  # "" lists an edge twice in a simple-graph file
        s = load_gml(write(tmp_path, NODES + edges, header))
        np.testing.assert_array_equal(s.node_ids, [0, 1, 5])
        np.testing.assert_array_equal(s.edge_index, [[0, 1], [1, 2]])
        assert s.bandwidth_mb_s[0] == 250.0  # 2 x 1 Gbit/s
        assert s.bandwidth_mb_s[1] in DEFAULT_BANDWIDTH_MB_S
        km = haversine_km(np.array([4.9, 52.4]), np.array([4.3, 50.8]))
        np.testing.assert_allclose(s.delay_s, [km / FIBRE_SPEED_KM_S, DEFAULT_DELAY_S])
        assert s.coords is None and s.name == "gml:net"
        assert s.resource_names == () and s.capacity.shape == (3, 0)  # no cpu: no resources stated


def test_directed_links_take_the_smaller_direction(tmp_path):
    edges = "  edge [ source 0 target 1 bw 100 ]\n  edge [ source 1 target 0 bw 60 ]\n"
    edges += "  edge [ source 1 target 5 ]\n"
    s = load_gml(write(tmp_path, NODES + edges, "  directed 1\n"))
    assert s.num_edges == 2 and s.bandwidth_mb_s[0] == 60.0


def test_disconnected_raises_unless_largest_component(tmp_path):
    body = "".join(f"  node [ id {i} ]\n" for i in range(5))
    body += "  edge [ source 0 target 1 ]\n  edge [ source 1 target 2 ]\n  edge [ source 3 target 4 ]\n"
    path = write(tmp_path, body)
    with pytest.raises(TopologyError, match=r"sizes \[3, 2\]; pass largest_component=True") as info:
        load_gml(path)
    assert info.value.source == path
    with pytest.warns(UserWarning, match="keeping the largest of 2 components"):
        s = load_gml(path, largest_component=True)
    np.testing.assert_array_equal(s.node_ids, [0, 1, 2])


def test_bad_files(tmp_path):
    with pytest.raises(TopologyError, match="no such file"):
        load_gml(tmp_path / "missing.gml")
    with pytest.raises(TopologyError, match="not a valid GML file"):
        load_gml(write(tmp_path, "  node [ id 0 \n"))
    with pytest.raises(TopologyError, match="not a number") as info:
        load_gml(
            write(tmp_path, NODES + '  edge [ source 0 target 1 bw "fast" ]\n  edge [ source 1 target 5 ]\n')
        )
    assert info.value.field == "bw"
    with pytest.raises(TopologyError, match="not in degrees"):
        load_gml(
            write(
                tmp_path,
                NODES.replace("52.4", "152.4")
                + "  edge [ source 0 target 1 ]\n  edge [ source 1 target 5 ]\n",
            )
        )


def test_default_bandwidths_are_seeded(tmp_path):
    body = "".join(f"  node [ id {i} ]\n" for i in range(12))
    body += "".join(f"  edge [ source {i} target {i + 1} ]\n" for i in range(11))
    path = write(tmp_path, body)
    a, b, c = load_gml(path, seed=3), load_gml(path, seed=3), load_gml(path, seed=4)
    np.testing.assert_array_equal(a.bandwidth_mb_s, b.bandwidth_mb_s)
    assert not np.array_equal(a.bandwidth_mb_s, c.bandwidth_mb_s)
    np.testing.assert_array_equal(
        a.bandwidth_mb_s, np.random.default_rng(3).choice(DEFAULT_BANDWIDTH_MB_S, size=11)
    )


def test_cpu_is_the_compute_resource_on_every_node_or_an_error(tmp_path):
    edges = "  edge [ source 0 target 1 ]\n  edge [ source 1 target 2 ]\n"
    nodes = "".join(f"  node [ id {i} cpu {10 * (i + 1)} ]\n" for i in range(3))
    s = load_gml(write(tmp_path, nodes + edges))
    assert s.resource_names == ("compute",)
    np.testing.assert_array_equal(s.capacity[:, 0], [10.0, 20.0, 30.0])
    partial = nodes.replace("  node [ id 1 cpu 20 ]", "  node [ id 1 ]")
    with pytest.raises(TopologyError, match="node 1 has no 'cpu' while other nodes have one") as info:
        load_gml(write(tmp_path, partial + edges))
    assert info.value.field == "cpu" and info.value.source.endswith("net.gml")


def test_shared_topologies(topologies_dir):
    geant = load_gml(topologies_dir / "Geant.gml")
    assert (geant.num_nodes, geant.num_edges, geant.coords) == (40, 61, None)
    assert 1250.0 in geant.bandwidth_mb_s  # LinkSpeedRaw 10 Gbit/s
    assert (geant.delay_s == DEFAULT_DELAY_S).sum() >= 3  # UA, MD and BY have no position

    brain = load_gml(topologies_dir / "Brain.gml")
    assert (brain.num_nodes, brain.num_edges) == (161, 166)
    np.testing.assert_array_equal(brain.coords[0], [9.421921, 48.559341])  # from x / y
    assert set(brain.bandwidth_mb_s) <= set(DEFAULT_BANDWIDTH_MB_S)

    waxman = load_gml(topologies_dir / "Waxman100.gml")
    raw = nx.read_gml(topologies_dir / "Waxman100.gml", label="id")
    assert (waxman.num_nodes, waxman.num_edges) == (100, 500)
    np.testing.assert_array_equal(waxman.capacity[:, 0], [raw.nodes[i]["cpu"] for i in range(100)])
    assert waxman.bandwidth_mb_s[waxman.paths.edge_id[0, 4]] == raw.edges[0, 4]["bw"]
    assert (waxman.delay_s == DEFAULT_DELAY_S).all()  # unit-square "pos" is not geographic
