"""The testbed topology (``testbed:bristol``) and the cluster the simulator reads from any topology:
hardware, workers and transfer times (spec c)."""

from __future__ import annotations

import numpy as np
import pytest

from edgeplace.envs.lm_inference.cluster import Cluster
from edgeplace.envs.lm_inference.lm_types import LM_TABLE
from edgeplace.topology import TopologyError, load_topology, testbeds
from edgeplace.topology.testbeds import SITE, VGPU, WORKER
from tests.envs.lm_inference.conftest import LM3, LM4, PARAMS, VM2, VM3, VM4, VM7


def test_testbed_uri_gives_seven_vms_with_a_controller_and_allocatable_hardware():
    substrate = load_topology("testbed:bristol")
    assert substrate.node_ids.tolist() == [1, 2, 3, 4, 5, 6, 7]
    assert substrate.affinity[WORKER].tolist() == [False] + [True] * 6
    assert substrate.node_features[SITE].tolist() == [0, 0, 0, 1, 1, 2, 2]
    assert substrate.capacity[:, substrate.resource_index(VGPU)].tolist() == [0, 0, 2, 2, 2, 2, 4]


def test_unknown_testbed_is_rejected_by_name():
    with pytest.raises(TopologyError, match="unknown testbed 'paris'"):
        testbeds.testbed("paris")
    with pytest.raises(TopologyError, match="name"):
        load_topology("testbed:")


def test_cluster_of_the_testbed_is_the_six_workers_of_the_spec(cluster):
    assert cluster.names == ("VM2", "VM3", "VM4", "VM5", "VM6", "VM7")
    assert cluster.cores.tolist() == [22, 14, 14, 14, 14, 14]
    assert cluster.ram_gb.tolist() == [28, 20, 20, 20, 20, 20]
    assert cluster.vgpus.tolist() == [0, 2, 2, 2, 2, 4]
    assert cluster.vram_gb.tolist() == [0, 24, 24, 24, 24, 48]
    assert not cluster.can_host[VM2, [LM3, LM4]].any()
    assert cluster.can_host[VM3:].all()


@pytest.mark.parametrize(
    ("src", "dst", "bandwidth_mbit_s", "delay_s"),
    [(VM2, VM3, 400.0, 0.5e-3), (VM4, VM7, 100.0, 2e-3), (VM3, VM7, 100.0, 2e-3)],
)
def test_transfer_time_is_overhead_plus_latency_plus_size_over_bandwidth(
    cluster, src, dst, bandwidth_mbit_s, delay_s
):
    size_mb = LM_TABLE.upload_mb[LM3] * 8  # 8 images of 500 KB
    expected = 0.3 + delay_s + 8 * size_mb / bandwidth_mbit_s
    assert cluster.transfer_s(src, dst, size_mb, PARAMS) == pytest.approx(expected)
    assert cluster.transfer_s(src, src, size_mb, PARAMS) == 0.0


def test_every_testbed_transfer_of_up_to_eight_prompts_stays_below_two_seconds(cluster):
    worst = max(cluster.round_trip_s(lm, 8, PARAMS).max() for lm in range(4))
    assert 0 < worst < 2.0


def test_other_topologies_get_testbed_profiles_by_a_seeded_rule():
    substrate = load_topology("waxman:nodes=14,seed=3")
    first, again = Cluster.from_substrate(substrate, 7), Cluster.from_substrate(substrate, 7)
    other = Cluster.from_substrate(substrate, 8)
    assert first.num_nodes == 14 and first.names[0] == "n0"
    np.testing.assert_array_equal(first.vgpus, again.vgpus)
    assert not np.array_equal(first.vgpus, other.vgpus)
    for block in (slice(0, 6), slice(6, 12)):  # every block of six nodes holds the testbed's mix
        assert sorted(first.vgpus[block].tolist()) == [0, 2, 2, 2, 2, 4]
    np.testing.assert_allclose(first.delay_s, substrate.paths.delay_s)
    np.testing.assert_allclose(first.bandwidth_mbit_s, substrate.paths.bottleneck_bw_mb_s * 8)


def test_cluster_rejects_mismatched_arrays_by_field():
    with pytest.raises(ValueError, match="Cluster.vgpus"):
        Cluster(("a", "b"), [1, 1], [4.0, 4.0], [0], [0.0, 0.0], np.zeros((2, 2)), np.ones((2, 2)))
