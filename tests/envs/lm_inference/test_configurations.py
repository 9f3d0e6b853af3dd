"""Node configurations: per-pod and Eq. 1 checks, the deployer catalogue (spec d) and the completion
rule of the baselines (spec e)."""

from __future__ import annotations

import numpy as np
import pytest

from edgeplace.envs.lm_inference.catalogue import catalogue, compositions, mode_vectors
from edgeplace.envs.lm_inference.completion import complete, lock_consistent
from edgeplace.envs.lm_inference.node_config import NodeConfig
from tests.envs.lm_inference.conftest import CPU, GPU, LM1, LM2, LM3, LM4, OFF, PARAMS, VM2, VM3, VM7, config


@pytest.mark.parametrize(
    ("pods", "match"),
    [
        ({"LM3": (CPU, 4, 0)}, "LM3: field 'mode' cpu is not allowed"),
        ({"LM1": (GPU, 2, 0)}, "LM1: field 'vgpus'"),
        ({"LM2": (CPU, 0, 0)}, "LM2: field 'cores'"),
        ({"LM1": (OFF, 2, 0)}, "LM1: an off pod"),
        ({"LM4": (7, 2, 1)}, "LM4: field 'mode'"),
    ],
)
def test_bad_pods_are_rejected_naming_lm_and_field(pods, match):
    with pytest.raises(ValueError, match=match):
        config(**pods)


@pytest.mark.parametrize(
    ("node", "pods", "field"),
    [
        (VM3, {"LM1": (CPU, 10, 0), "LM2": (CPU, 5, 0)}, "cores"),
        (VM3, {"LM3": (GPU, 2, 2), "LM4": (GPU, 2, 1)}, "vgpus"),
        (VM2, {"LM4": (GPU, 2, 1)}, "vgpus"),
    ],
)
def test_configurations_beyond_the_allocatable_hardware_name_the_field(cluster, node, pods, field):
    with pytest.raises(ValueError, match=f"{cluster.names[node]}: field '{field}'"):
        config(**pods).check_fits(cluster, node)


def test_catalogue_sizes_and_order_follow_the_spec(cluster):
    sizes = [len(catalogue(cluster, n, PARAMS)) for n in range(cluster.num_nodes)]
    assert sizes == [6, 37, 37, 37, 37, 86]
    # The DQN's mode vectors: 4, 29 or 36 options for 0, 2 or 4 vGPUs.
    assert [len(mode_vectors(cluster, n, PARAMS)) for n in (VM2, VM3, VM7)] == [4, 29, 36]
    vectors = mode_vectors(cluster, VM7, PARAMS)
    keys = [tuple(v) for v in vectors]
    assert keys == sorted(keys) and keys[0] == (OFF,) * 4


def test_vm2_catalogue_is_the_cpu_splits(cluster):
    entries = catalogue(cluster, VM2, PARAMS)
    assert entries[0] == NodeConfig.off()
    assert [e.cores[:2] for e in entries[1:]] == [(0, 22), (22, 0), (6, 16), (11, 11), (17, 5)]


@pytest.mark.parametrize("node", [VM2, VM3, VM7])
def test_every_catalogue_entry_fits_and_uses_every_vgpu(cluster, node):
    for entry in catalogue(cluster, node, PARAMS)[1:]:
        entry.check_fits(cluster, node)
        mode, cores, vgpus = (np.asarray(x) for x in (entry.mode, entry.cores, entry.vgpus))
        assert (cores[mode == GPU] == PARAMS.gpu_host_cores).all()
        if (mode == GPU).any():
            assert vgpus.sum() == cluster.vgpus[node]
    assert len(set(catalogue(cluster, node, PARAMS))) == len(catalogue(cluster, node, PARAMS))


def test_compositions_are_ordered_positive_parts():
    assert compositions(4, 2) == [(1, 3), (2, 2), (3, 1)]
    assert compositions(2, 3) == [] and compositions(3, 0) == [()]


def test_completion_gives_new_gpu_lms_the_free_vgpus_remainder_to_the_larger_b(cluster):
    current = config(LM1=(CPU, 14, 0))
    done = complete(np.array([CPU, OFF, GPU, GPU]), current, np.zeros(4, bool), cluster, VM7, PARAMS)
    # VM7's four free vGPUs split 2/2; over three new LMs the extra one goes to LM4 (largest B, 25 s).
    assert done.vgpus == (0, 0, 2, 2) and done.cores == (10, 0, 2, 2)
    done = complete(np.array([OFF, GPU, GPU, GPU]), current, np.zeros(4, bool), cluster, VM7, PARAMS)
    assert done.vgpus == (0, 1, 1, 2)


def test_completion_keeps_keepers_and_shrinks_the_largest_when_short(cluster):
    current = config(LM1=(CPU, 4, 0), LM4=(GPU, 2, 2))
    unlocked = np.zeros(4, bool)
    kept = complete(np.array([CPU, CPU, OFF, GPU]), current, unlocked, cluster, VM3, PARAMS)
    assert kept.vgpus == (0, 0, 0, 2) and kept.cores == (6, 6, 0, 2)  # CPU pods share 14 - 2 cores
    shrunk = complete(np.array([OFF, OFF, GPU, GPU]), current, unlocked, cluster, VM3, PARAMS)
    assert shrunk.vgpus == (0, 0, 1, 1)
    locked = np.array([False, False, False, True])
    assert complete(np.array([OFF, OFF, GPU, GPU]), current, locked, cluster, VM3, PARAMS) is None


def test_lock_consistent_vectors_keep_locked_modes(cluster):
    vectors = mode_vectors(cluster, VM3, PARAMS)
    keep = lock_consistent(vectors, np.array([CPU, OFF, OFF, GPU]), np.array([True, False, False, True]))
    assert keep.any() and (vectors[keep][:, LM1] == CPU).all() and (vectors[keep][:, LM4] == GPU).all()
    assert (vectors[~keep][:, [LM1, LM4]] != [CPU, GPU]).any(axis=1).all()
    assert set(vectors[keep][:, LM2]) == {OFF, CPU, GPU} and set(vectors[keep][:, LM3]) == {OFF, GPU}
