"""The metaverse-dag network: the tower generator's zones and bands, controller clustering, links,
slices, resources and the precomputed paths (papers/llm-mappo.md, section b, "Generator")."""

from __future__ import annotations

import numpy as np
import pytest

from edgeplace.envs.metaverse_dag import MetaverseDagConfig, load_network
from edgeplace.envs.metaverse_dag.attributes import NODE_ATTRIBUTES
from edgeplace.envs.metaverse_dag.network import (
    CLOUD_VCPU,
    EC_CLOUD_DELAY_S,
    RESTRICTED_SHARE,
    LinkKind,
    NodeKind,
    cluster_regions,
    polar_sectors,
)
from edgeplace.envs.metaverse_dag.paths import NUM_RANKS, VIA_EC
from edgeplace.topology.generators import CELL_RADIO_LATENCY_S, CellFeature, cell_cluster


def test_cell_cluster_records_zones_bands_and_is_seeded():
    first, again, other = (
        cell_cluster(600, 40, radius_km=6.0, seed=3),
        cell_cluster(600, 40, radius_km=6.0, seed=3),
        cell_cluster(600, 40, radius_km=6.0, seed=4),
    )
    for key in CellFeature:
        np.testing.assert_array_equal(first.node_features[key], again.node_features[key])
    assert not np.array_equal(first.node_features[CellFeature.ZONE], other.node_features[CellFeature.ZONE])
    zone = first.node_features[CellFeature.ZONE]
    assert set(np.unique(zone)) <= {0.0, 1.0, 2.0} and len(np.unique(zone)) == 3
    thz, mmw = first.node_features[CellFeature.HAS_THZ], first.node_features[CellFeature.HAS_MMW]
    assert not thz[zone == 2].any()  # no THz in the suburbs
    expected = np.where(
        thz > 0, CELL_RADIO_LATENCY_S[0], np.where(mmw > 0, CELL_RADIO_LATENCY_S[1], CELL_RADIO_LATENCY_S[2])
    )
    np.testing.assert_array_equal(first.node_features[CellFeature.RADIO_LATENCY_S], expected)
    backhaul = first.node_features[CellFeature.BACKHAUL_MB_S]
    assert backhaul.min() >= 125.0 and backhaul.max() <= 250.0


def test_zones_drawn_elsewhere_keep_the_tower_shares():
    zone_need = next(need for need in NODE_ATTRIBUTES if need.name == CellFeature.ZONE)
    values = np.asarray(zone_need.distribution.values)
    np.testing.assert_allclose(np.bincount(values.astype(int)) / values.size, [0.45, 0.35, 0.20])
    net = load_network(MetaverseDagConfig(topology="waxman:nodes=10,seed=1"))
    assert set(net.zone[: net.num_es]) <= {0, 1, 2} and (net.radio_latency_s[: net.num_es] > 0).all()


def test_small_preset_clusters_meet_the_minimum_size_and_resources_follow_the_node_table():
    net = load_network(MetaverseDagConfig())
    es = net.kind == NodeKind.ES
    assert net.num_es == 40 and net.num_regions == 4 and net.num_nodes == 45
    assert np.bincount(net.region[es]).min() >= max(3, 40 / 8)
    assert set(net.vcpu[es]) <= set(range(6, 11)) and set(net.ram_gb[es]) <= set(range(8, 17))
    ec = net.kind == NodeKind.EC
    assert ((net.vcpu[ec] >= 16) & (net.vcpu[ec] <= 32)).all() and (
        (net.ram_gb[ec] >= 32) & (net.ram_gb[ec] <= 64)
    ).all()
    assert net.vcpu[net.cloud] == CLOUD_VCPU
    assert load_network(MetaverseDagConfig()) is net  # built once


def test_clustering_falls_back_to_equal_polar_sectors():
    xy = np.array([[np.cos(a), np.sin(a)] for a in np.linspace(0, 2 * np.pi, 6, endpoint=False)])
    labels = cluster_regions(xy, 4, seed=0)  # 6 ES cannot give 4 clusters of >= 3
    np.testing.assert_array_equal(labels, polar_sectors(xy, 4))
    assert sorted(np.bincount(labels)) == [1, 1, 2, 2]
    assert (np.diff(labels[np.argsort(np.arctan2(xy[:, 1], xy[:, 0]))]) >= 0).all()  # contiguous sectors


def test_links_slices_and_delays():
    net = load_network(MetaverseDagConfig())
    kind = net.link_kind
    es_es = kind == LinkKind.ES_ES
    assert (net.region[net.link_src[es_es]] == net.region[net.link_dst[es_es]]).all()  # inside a cluster
    restricted = ~net.slice_admit[:, 1]
    assert restricted.sum() == round(RESTRICTED_SHARE * es_es.sum()) and not restricted[~es_es].any()
    assert net.slice_admit[:, [0, 2]].all()
    np.testing.assert_allclose(
        net.slice_bw_mbps / net.slice_bw_mbps.sum(axis=1, keepdims=True), [[0.40, 0.35, 0.25]] * kind.size
    )
    np.testing.assert_array_equal(net.delay_s[kind == LinkKind.EC_CLOUD], EC_CLOUD_DELAY_S)
    assert (kind == LinkKind.ES_EC).sum() == net.num_es


def test_three_regions_get_a_full_ec_mesh():
    net = load_network(MetaverseDagConfig(regions=3))
    assert (net.link_kind == LinkKind.EC_EC).sum() == 3


def test_paths_are_loop_free_ranked_by_delay_and_stay_in_their_region():
    net = load_network(MetaverseDagConfig())
    routes = net.routes
    a, b = net.region_es(0)[:2]
    links = routes.links[a, b]
    assert routes.exists[a, b, :NUM_RANKS].sum() == NUM_RANKS and routes.exists[a, b, VIA_EC]
    delays = [net.delay_s[row[row >= 0]].sum() for row in links[:NUM_RANKS]]
    assert delays == sorted(delays)
    for row in links:
        hops = row[row >= 0]
        nodes = np.concatenate([net.link_src[hops], net.link_dst[hops]])
        assert set(net.region[nodes]) <= {0, -1}
        assert len(set(nodes.tolist())) == hops.size + 1  # a simple path visits each node once
    assert not routes.exists[net.region_es(0)[0], net.region_es(1)[0]].any()  # no pair across regions


def test_any_topology_maps_onto_regions_and_refuses_too_few_nodes():
    net = load_network(MetaverseDagConfig(topology="waxman:nodes=10,seed=1"))
    assert net.num_es == 10 and net.num_regions == 4
    with pytest.raises(ValueError, match="waxman:nodes=3"):
        load_network(MetaverseDagConfig(topology="waxman:nodes=3,seed=1"))
