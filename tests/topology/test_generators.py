import dataclasses

import numpy as np
import pytest
from scipy.spatial.distance import pdist

from edgeplace.topology import (
    Substrate,
    Tier,
    TopologyError,
    cell_cluster,
    geo_radius,
    synthetic_genai,
    waxman,
)

GENERATORS = {
    "waxman": lambda seed: waxman(40, seed=seed),
    "geo_radius": lambda seed: geo_radius(30, 0.4, seed=seed),
    "cell_cluster": lambda seed: cell_cluster(300, 12, seed=seed),
    "synthetic_genai": lambda seed: synthetic_genai("genai-medium", seed=seed),
}


def _arrays(s: Substrate) -> dict[str, np.ndarray]:
    arrays = {
        f.name: getattr(s, f.name)
        for f in dataclasses.fields(s)
        if isinstance(getattr(s, f.name), np.ndarray)
    }
    arrays.update({f"affinity.{k}": v for k, v in s.affinity.items()})
    arrays.update({f"features.{k}": v for k, v in s.node_features.items()})
    return arrays


@pytest.mark.parametrize("name", list(GENERATORS))
def test_same_seed_same_arrays_other_seed_differs(name):
    make = GENERATORS[name]
    a, b, c = _arrays(make(1)), _arrays(make(1)), _arrays(make(2))
    assert a.keys() == b.keys()
    for key in a:
        np.testing.assert_array_equal(a[key], b[key], err_msg=key)
    assert not np.array_equal(a["coords"], c["coords"])


@pytest.mark.parametrize("name", list(GENERATORS))
def test_links_are_sorted_and_the_graph_connected(name):
    s = GENERATORS[name](0)  # the constructor rejects disconnected graphs
    keys = s.edge_index[0] * s.num_nodes + s.edge_index[1]
    assert (np.diff(keys) > 0).all()
    assert (s.paths.hops >= 0).all()


def test_geo_radius_reproduces_the_hisper_seed_0_check():
    s = geo_radius(16, 0.5, side_km=1.5, seed=0)
    assert s.num_edges == 34 and s.degree.min() == 1 and s.degree.max() == 7
    xy = np.random.default_rng(0).uniform(0.0, 1.5, (16, 2))  # the generator's first draw
    assert (pdist(xy) < 0.5).sum() == 33  # so exactly one of the 34 links is a repair link
    assert s.paths.hops.max() == 6
    assert s.resource_names == ("compute_tflops", "memory_mb")  # physical units, named
    compute, memory = s.capacity.T
    assert [(compute == v).sum() for v in (1.33, 1.26, 0.5)] == [7, 4, 5]
    assert [(memory == v * 1024).sum() for v in (4, 2, 1)] == [7, 6, 3]
    assert set(s.node_features["uplink_mb_s"] * 8) <= {36, 48, 64, 72}
    assert set(s.bandwidth_mb_s * 8) <= {50, 100, 200, 300, 400}


def test_waxman_tiers_capacities_and_links():
    s = waxman(100, seed=42)
    np.testing.assert_array_equal(np.bincount(s.tier), [5, 25, 70])
    assert s.resource_names == ("compute", "memory", "storage")
    np.testing.assert_array_equal(s.capacity[s.tier == Tier.CLOUD], np.tile([4.0, 4.0, 8.0], (5, 1)))
    access = s.capacity[s.tier == Tier.ACCESS]
    assert ((access >= [1, 1, 2]) & (access <= [2, 2, 4])).all()
    assert s.affinity["tee"].sum() == 5 and s.affinity["camera"].sum() == 5
    assert not (s.affinity["tee"] & (s.tier == Tier.ACCESS)).any()
    assert not (s.affinity["camera"] & (s.tier != Tier.ACCESS)).any()
    tiers = s.tier[s.edge_index]
    cloud_edge = (tiers == Tier.CLOUD).any(axis=0) & (tiers == Tier.EDGE).any(axis=0)
    assert cloud_edge.sum() == 5 * 25  # every cloud node linked to every edge node
    assert (s.delay_s[(tiers == Tier.CLOUD).any(axis=0)] >= 10e-3).all()
    both_access = (tiers == Tier.ACCESS).all(axis=0)
    assert (s.bandwidth_mb_s[both_access] == 50 / 8).all()


def test_tiny_waxman_is_still_valid():
    assert waxman(1).num_nodes == 1
    assert waxman(2).num_edges == 1


def test_cell_cluster_capacity_counts_towers():
    s = cell_cluster(500, 20, radius_km=8.0, seed=3)
    assert s.num_nodes == 20 and s.capacity.sum() == 500
    assert (s.delay_s > 0.05e-3).all() and (s.bandwidth_mb_s >= 125).all() and (s.bandwidth_mb_s <= 250).all()
    assert cell_cluster(5, 2).num_edges == 1 and cell_cluster(5, 1).num_edges == 0


@pytest.mark.parametrize(("size", "nodes"), [("genai-small", 25), ("genai-medium", 50), ("genai-large", 100)])
def test_synthetic_genai_matches_the_data_shape(size, nodes):
    s = synthetic_genai(size)
    assert s.num_nodes == nodes and s.resource_names == ("compute",)
    np.testing.assert_array_equal(s.node_ids, np.arange(1, nodes + 1))
    assert 2.0 <= s.degree.mean() <= 4.0
    assert s.capacity.min() >= 16 and s.capacity.max() <= 55
    for key, low, high in [("storage", 12, 39), ("traffic_rate", 17, 48)]:
        assert s.node_features[key].min() >= low and s.node_features[key].max() <= high
    assert (s.bandwidth_mb_s == 50).all()
    lon, lat = s.coords.T
    assert np.ptp(lon) < 4.5 and np.ptp(lat) < 3.0  # about 300 km across


@pytest.mark.parametrize(
    ("call", "field"),
    [
        (lambda: waxman(0), "nodes"),
        (lambda: waxman(10, alpha=-1.0), "alpha"),
        (lambda: waxman(10, beta=1.5), "beta"),
        (lambda: geo_radius(10, 0.0), "radius_km"),
        (lambda: geo_radius(2.5, 1.0), "nodes"),
        (lambda: cell_cluster(5, 6), "servers"),
        (lambda: synthetic_genai("genai-huge"), "size"),
    ],
)
def test_bad_parameters(call, field):
    with pytest.raises(TopologyError) as info:
        call()
    assert info.value.field == field
